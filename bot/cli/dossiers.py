"""``python -m bot dossiers register|event|import|demo``: dossiers without an integration.

For agencies whose one-stop system cannot call the API: register a dossier (and print the link
and QR code for its appointment slip), post one status event, or import a CSV file of events.
They go through the same desk as the API (``bot.runtime.dossiers``), as client ``cli``, so the
chats following a dossier are told exactly as they would be by the API.

The CSV rows are read in ``dossier_csv`` (pure); this module is the command line and its I/O.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, get_args

from pydantic import ValidationError

from bot.channels.zalo_codes import printed
from bot.config import Settings
from bot.runtime.dossiers import DossierError, DossierIn, EventIn
from conversations.dossier_events import EventKind

from .dossier_csv import ImportRow, kind_of, parse_events_csv, parse_time, problems_of
from .receipt_csv import decode_csv, parse_date
from .words import both, quoted

CLIENT: Final = "cli"
# --- command line ------------------------------------------------------------------------------


def _date(value: str) -> date:
    parsed = parse_date(value.strip())
    if parsed is None:
        raise argparse.ArgumentTypeError(both("cli.arg.bad_date"))
    return parsed


def _kind(value: str) -> str:
    kind = kind_of(value)
    if kind is None:
        known = ", ".join(get_args(EventKind))
        raise argparse.ArgumentTypeError(both("zalo8.dossiers.unknown_kind", (("known", known),)))
    return kind


def add_dossiers_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dossiers = sub.add_parser(
        "dossiers",
        help="hồ sơ: đăng ký, sự kiện, nhập CSV, chạy thử / dossiers without an integration",
    )
    actions = dossiers.add_subparsers(dest="dossiers_command", required=True)
    register = actions.add_parser(
        "register", help="đăng ký hồ sơ, in liên kết cho giấy hẹn / register, print the slip link"
    )
    register.add_argument("code", metavar="CODE", help="mã hồ sơ / dossier code")
    register.add_argument("--procedure", required=True, metavar="CODE")
    register.add_argument("--procedure-name", default=None)
    register.add_argument("--field", default=None)
    register.add_argument("--received", type=_date, default=None, metavar="YYYY-MM-DD")
    register.add_argument("--due", type=_date, required=True, metavar="YYYY-MM-DD")
    register.add_argument("--legal-days", type=int, default=None, metavar="N")
    register.add_argument(
        "--qr", type=Path, default=None, metavar="DIR", help="ghi ảnh QR / write a QR PNG"
    )
    register.add_argument("--bot-username", default=None, metavar="NAME")
    register.add_argument(
        "--zalo", action="store_true", help="mã QR mở Zalo OA / QR for the Zalo OA"
    )
    event = actions.add_parser("event", help="gửi một sự kiện của hồ sơ / post one status event")
    event.add_argument("code", metavar="CODE")
    event.add_argument("kind", metavar="KIND", type=_kind, help=", ".join(get_args(EventKind)))
    event.add_argument(
        "--missing", action="append", default=[], metavar="TEXT", help="giấy tờ còn thiếu (lặp lại)"
    )
    event.add_argument("--new-due", type=_date, default=None, metavar="YYYY-MM-DD")
    event.add_argument("--reason", default=None)
    event.add_argument(
        "--at", default=None, metavar="TIME", help="mặc định: bây giờ / default: now"
    )
    event.add_argument("--event-id", default=None, metavar="ID")
    imports = actions.add_parser(
        "import",
        help="nhập sự kiện từ tệp CSV / import status events from a CSV file",
        description=(
            "Cột / columns: ma_ho_so, su_kien (bắt buộc / required); ma_su_kien, thoi_gian, "
            "giay_to_thieu (ngăn cách bằng ; / separated by ;), ngay_hen_moi, ly_do; để đăng ký "
            "hồ sơ mới / to register new dossiers: thu_tuc, ngay_nhan, ngay_hen (ten_thu_tuc, "
            "linh_vuc, thoi_han). UTF-8, dấu phẩy hoặc chấm phẩy / comma or semicolon."
        ),
    )
    imports.add_argument("file", metavar="FILE", type=Path)
    demo = actions.add_parser(
        "demo",
        help="chạy thử cả quy trình / see the whole path: dossiers and events posted over HTTP",
    )
    demo.add_argument(
        "--url", default=None, help="bot đang chạy / a running bot, e.g. http://127.0.0.1:8080"
    )
    demo.add_argument("--client", default=None, help="tên trong DOSSIER_API_KEYS / client name")
    demo.add_argument("--pause", type=float, default=0.0, metavar="S", help="giây giữa các sự kiện")
    demo.add_argument("--user", default="dossier-demo", help="người dùng console / console user")


async def run_dossiers(args: argparse.Namespace, settings: Settings) -> int:
    if args.dossiers_command == "demo":
        from .dossiers_demo import run_demo

        return await run_demo(args, settings)
    from bot.runtime.build import desk_settings
    from bot.runtime.dispatch import utc_now
    from bot.runtime.dossiers import DossierDesk
    from conversations import default_catalog
    from storage import migrate, open_engine

    engine = open_engine(settings.database_url)
    try:
        await migrate(engine)
        desk = DossierDesk(engine, desk_settings(settings), default_catalog(), utc_now)
        if args.dossiers_command == "register":
            return await _register(args, settings, desk)
        if args.dossiers_command == "event":
            return await _event(args, settings, desk)
        return await _import(args, settings, desk)
    finally:
        await engine.dispose()


async def _register(args: argparse.Namespace, settings: Settings, desk: Any) -> int:
    """Registers one dossier and prints ``code, start, link, short code`` (tab-separated; the
    link when known, the short code printed ``4821-7730-15``); with ``--qr DIR`` writes
    ``DIR/<code>.png``, the short code large under the QR code (the citizen types it on
    Zalo), and says where. A QR code without a link is refused before anything is stored."""
    from .receipt_qr import write_qr
    from .receipts import NO_USERNAME, resolve_bot_username

    today = datetime.now(settings.zone).date()
    try:
        body = DossierIn(
            code=args.code, procedure=args.procedure, procedure_name=args.procedure_name,
            field=args.field, received_on=args.received or today, due_on=args.due,
            legal_days=args.legal_days,
        )  # fmt: skip
    except ValidationError as exc:
        print(problems_of(exc), file=sys.stderr)
        return 2
    username: str | None = None
    if args.zalo:
        if not settings.zalo_oa_id:
            print(both("cli.receipts.no_zalo_oa"), file=sys.stderr)
            return 2
    else:
        username = await resolve_bot_username(args.bot_username, settings)
        if username is None and args.qr is not None:
            print(NO_USERNAME, file=sys.stderr)
            return 2  # a QR code without a link is useless: nothing is registered
    try:
        done = await desk.register(CLIENT, body)
    except DossierError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    start = f"d_{done.token}"
    code = printed(done.short_code) if done.short_code else None
    if args.zalo:
        # Zalo's link cannot carry the token: the citizen sends the short code.
        link: str | None = f"https://zalo.me/{settings.zalo_oa_id}"
        caption = f"{both('cli.receipts.send_code')}:" if code else start
    else:
        link = f"https://t.me/{username}?start={start}" if username else None
        caption = start
    print("\t".join(p for p in (done.code, start, link, code) if p))
    if args.qr is not None and link:
        path = args.qr / f"{done.code}.png"  # CODE_PATTERN: a portable file name
        try:
            args.qr.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(write_qr, link, path, caption, code)
        except OSError as exc:
            print(f"{both('cli.receipts.cannot_write_qr')}: {exc}", file=sys.stderr)
            return 1
        print(f"{both('zalo8.dossiers.wrote_qr')}: {path}", file=sys.stderr)
    return 0


async def _event(args: argparse.Namespace, settings: Settings, desk: Any) -> int:
    at = parse_time(args.at, settings.zone) if args.at else None
    if args.at and at is None:
        bad = both("zalo8.dossiers.bad_time", (("time", quoted(args.at)),))
        print(f"--at: {bad}", file=sys.stderr)
        return 2
    event_id = args.event_id or f"cli-{uuid.uuid4().hex[:20]}"
    body: dict[str, Any] = {
        "event_id": event_id,
        "kind": args.kind,
        "at": at,
        "reason": args.reason,
    }
    if args.missing:
        body["missing"] = args.missing
    if args.new_due:
        body["new_due_on"] = args.new_due
    try:
        event = EventIn.model_validate(body)
    except ValidationError as exc:
        print(problems_of(exc), file=sys.stderr)
        return 2
    try:
        done = await desk.post_event(CLIENT, args.code, event)
    except DossierError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(_posted_line(args.code, done))
    return 0


def _posted_line(code: str, done: Any) -> str:
    if done.duplicate:
        return f"{code}\t{done.kind}\t{both('zalo8.dossiers.duplicate')}"
    key = "zalo8.dossiers.told_invited" if done.invited else "zalo8.dossiers.told"
    return f"{code}\t{done.kind}\t{both(key, (('count', done.notified),))}"


async def _import(args: argparse.Namespace, settings: Settings, desk: Any) -> int:
    try:
        text = decode_csv(await asyncio.to_thread(Path(args.file).read_bytes))
    except OSError as exc:
        print(f"{both('cli.receipts.cannot_read_file')}: {exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        name = (("file", quoted(str(args.file))), ("format", "CSV UTF-8"))
        print(both("cli.receipts.bad_encoding", name), file=sys.stderr)
        return 2
    parsed = parse_events_csv(text, settings.zone)
    for error in parsed.errors:
        print(error, file=sys.stderr)
    if parsed.errors:
        print(both("zalo8.dossiers.nothing_imported"), file=sys.stderr)
        return 2
    return await post_rows(desk, parsed.rows)


async def post_rows(desk: Any, rows: Sequence[ImportRow]) -> int:
    """Registers and posts the rows in file order, each in its own transaction; a refused row
    is reported by its line and the others go on (exit code 1 then)."""
    refused = 0
    for row in rows:
        try:
            if row.register is not None:
                await desk.register(CLIENT, row.register)
            done = await desk.post_event(CLIENT, row.code, row.event)
        except DossierError as exc:
            refused += 1
            line = both("zalo8.dossiers.row", (("line", row.line),))
            print(f"{line}: {exc.code}: {exc.message}", file=sys.stderr)
            continue
        print(_posted_line(row.code, done))
    done = (("done", len(rows) - refused), ("total", len(rows)))
    print(both("zalo8.dossiers.imported", done), file=sys.stderr)
    return 1 if refused else 0
