"""``python -m bot report | export | digest``: reports from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from bot.cli.words import both, counted
from bot.config import Settings
from bot.runtime.build import digest_settings
from bot.runtime.dispatch import utc_now
from conversations import default_catalog
from conversations.periods import DIGEST_KINDS, Period, current, parse_date
from jobs.digest import build_report_message
from jobs.digests import digest_reply, send_digest
from jobs.reports import ReportScope, build_report, dossier_measures
from storage import migrate, open_engine, read_transaction
from storage.queries.aggregates import first_survey_day


def day_argument(text: str) -> date:
    """``--from``/``--to``: ``30/11/2026`` (day first, as written here) or ``2026-11-30``;
    anything else stops with the same sentence in Vietnamese and English."""
    found = parse_date(text)
    if found is None:
        catalog = default_catalog()
        params = (("value", text[:40]),)
        said = [catalog.format(lang, "input.bad_date", params) for lang in ("vi", "en")]
        raise argparse.ArgumentTypeError(" / ".join(said))
    return found


def add_report_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.add_parser("report", help="báo cáo chỉ số SIPAS / SIPAS report")
    report.add_argument("--from", dest="start", type=day_argument, default=None)
    report.add_argument("--to", dest="end", type=day_argument, default=None)
    report.add_argument("--format", choices=("text", "json"), default="text")
    report.add_argument("--procedure", default=None)
    report.add_argument("--field", default=None)
    export = sub.add_parser("export", help="xuất bảng tính / spreadsheet export")
    export.add_argument("--from", dest="start", type=day_argument, default=None)
    export.add_argument("--to", dest="end", type=day_argument, default=None)
    export.add_argument("--out", required=True, type=Path)
    export.add_argument(
        "--full", action="store_true", help="kèm thông tin cá nhân / with personal data"
    )
    digest = sub.add_parser("digest", help="bản tin kỳ hiện tại / the current digest")
    digest.add_argument("--kind", choices=DIGEST_KINDS, default="weekly")
    digest.add_argument(
        "--send", action="store_true", help="gửi bản tạm tới ADMIN_CHAT_IDS / send an interim copy"
    )


async def _period(args: argparse.Namespace, settings: Settings, conn: object) -> Period:
    today = utc_now().astimezone(settings.zone).date()
    end = args.end or today
    start = args.start
    if start is None:
        start = await first_survey_day(conn) or end  # type: ignore[arg-type]
    if end < start:
        said = (("start", start.strftime("%d/%m/%Y")), ("end", end.strftime("%d/%m/%Y")))
        raise SystemExit(both("cli.input5.to_before_from", said))
    return Period(start, end)


async def run_report_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings.database_url)
    try:
        await migrate(engine)
        catalog = default_catalog()
        language = settings.default_language
        if args.command == "digest":
            return await _digest(args, settings, engine)
        async with read_transaction(engine) as conn:
            period = await _period(args, settings, conn)
            scope = ReportScope(settings.zone, language, args.__dict__.get("procedure"),
                                args.__dict__.get("field"), settings.survey_method)  # fmt: skip
            report = await build_report(conn, period, scope)
            previous = await build_report(conn, period.previous(), scope)
            dossiers = await dossier_measures(
                conn, period, scope, settings.calendar(), report.index
            )
            if args.command == "export":
                return await _export(args, settings, conn, period, report, dossiers)
        if args.format == "json":
            print(json.dumps({**report.to_json(), "dossiers": dossiers.to_json()},
                             ensure_ascii=False, indent=2))  # fmt: skip
        else:
            message = build_report_message(report, previous, settings.agency_name, dossiers)
            print(catalog.render(message, language).text)
        return 0
    finally:
        await engine.dispose()


async def _export(
    args: argparse.Namespace,
    settings: Settings,
    conn: object,
    period: Period,
    report: object,
    dossiers: object = None,
) -> int:
    from jobs.export_xlsx import export_workbook
    from jobs.requests import export_rows, without_comment

    responses, complaints = await export_rows(conn, period, settings.zone, settings.survey_method)  # type: ignore[arg-type]
    if not args.full:  # a free comment may name the person who wrote it
        responses = [without_comment(r) for r in responses]
    data = export_workbook(
        report,  # type: ignore[arg-type]
        responses,
        complaints,
        language=settings.default_language,
        agency=settings.agency_name,
        full_register=args.full,
        generated_at=utc_now(),
        dossiers=dossiers,  # type: ignore[arg-type]
    )
    args.out.write_bytes(data)
    size, answered, cases = len(data), len(responses), len(complaints)
    print(
        f"{args.out} ({size} byte, {answered} phiếu trả lời, {cases} phản ánh / "
        f"{counted(size, 'byte', 'bytes')}, {counted(answered, 'response', 'responses')}, "
        f"{counted(cases, 'case', 'cases')})"
    )
    return 0


async def _digest(args: argparse.Namespace, settings: Settings, engine: object) -> int:
    now = utc_now()
    today = now.astimezone(settings.zone).date()
    period = current(args.kind, today)
    dsettings = digest_settings(settings)
    catalog = default_catalog()
    if args.send:
        if not dsettings.chats:
            print(both("cli.input5.no_admins"), file=sys.stderr)
            return 2
        # An interim copy: the scheduled digest of this period still goes out when it ends.
        await send_digest(engine, args.kind, period, dsettings, catalog, now, claim=False)  # type: ignore[arg-type]
        print(
            "đã xếp hàng gửi bản tin tạm (bản tin định kỳ vẫn gửi khi hết kỳ) / "
            "interim digest queued (the scheduled one still goes out when the period ends)"
        )
        return 0
    # The same text the digest is sent with, alerts (held, Zalo notices and token) included.
    language = settings.default_language
    reply, _, _ = await digest_reply(engine, args.kind, period, dsettings, now, language)  # type: ignore[arg-type]
    print(catalog.render(reply, language).text)
    return 0
