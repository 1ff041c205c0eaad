"""``python -m bot dossiers register|event|import|demo``: dossiers without an integration.

For agencies whose one-stop system cannot call the API: register a dossier (and print the link
and QR code for its appointment slip), post one status event, or import a CSV file of events.
They go through the same desk as the API (``bot.runtime.dossiers``), as client ``cli``, so the
chats following a dossier are told exactly as they would be by the API.

The pure part (CSV rows into checked requests) comes first; the thin I/O is at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import re
import sys
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final, get_args
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.config import Settings
from bot.runtime.dossiers import DossierError, DossierIn, EventIn
from conversations.dossier_events import EventKind

from .receipts import column_key, decode_csv, parse_date

CLIENT: Final = "cli"
#: Event kinds as the API spells them, and the Vietnamese an operator may type instead
#: (compared without diacritics, case or spacing: "Đã trả kết quả" is da_tra_ket_qua).
KINDS: Final[Mapping[str, str]] = {
    **{kind: kind for kind in get_args(EventKind)},
    "tiep_nhan": "received",
    "da_tiep_nhan": "received",
    "bo_sung": "needs_documents",
    "can_bo_sung": "needs_documents",
    "yeu_cau_bo_sung": "needs_documents",
    "dang_xu_ly": "processing",
    "dang_giai_quyet": "processing",
    "co_ket_qua": "result_ready",
    "da_co_ket_qua": "result_ready",
    "tre_hen": "late",
    "xin_loi": "late",
    "da_tra": "handed_over",
    "tra_ket_qua": "handed_over",
    "da_tra_ket_qua": "handed_over",
    "rut_ho_so": "withdrawn",
    "da_rut": "withdrawn",
}
#: CSV header names, compared like the kinds.
COLUMNS: Final[Mapping[str, str]] = {
    "ma_ho_so": "code",
    "code": "code",
    "su_kien": "kind",
    "kind": "kind",
    "ma_su_kien": "event_id",
    "event_id": "event_id",
    "thoi_gian": "at",
    "at": "at",
    "giay_to_thieu": "missing",
    "missing": "missing",
    "ngay_hen_moi": "new_due_on",
    "new_due_on": "new_due_on",
    "ly_do": "reason",
    "reason": "reason",
    "thu_tuc": "procedure",
    "procedure": "procedure",
    "ten_thu_tuc": "procedure_name",
    "procedure_name": "procedure_name",
    "linh_vuc": "field",
    "field": "field",
    "ngay_nhan": "received_on",
    "received_on": "received_on",
    "ngay_hen": "due_on",
    "due_on": "due_on",
    "thoi_han": "legal_days",
    "legal_days": "legal_days",
}
_REGISTRATION = ("procedure", "received_on", "due_on")


def kind_of(text: str) -> str | None:
    """The event kind an operator typed (English or Vietnamese), or None."""
    return KINDS.get(column_key(text))


def parse_time(text: str, tz: ZoneInfo) -> datetime | None:
    """``2026-03-05 14:30`` or ``05/03/2026 14:30`` (local), an ISO time with its offset, or a
    bare date (local midnight); None when it is none of these."""
    text = text.strip()
    day = parse_date(text)
    if day is not None:
        return datetime.combine(day, time(0), tz)
    match = re.fullmatch(r"(\S+)[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if match:
        day = parse_date(match.group(1))
        if day is not None:
            hour, minute, second = (
                int(match.group(2)),
                int(match.group(3)),
                int(match.group(4) or 0),
            )
            if hour < 24 and minute < 60 and second < 60:
                return datetime.combine(day, time(hour, minute, second), tz)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _clean(cell: str) -> str:
    return unicodedata.normalize("NFC", " ".join(cell.split()))


def _items(cell: str) -> list[str]:
    return [_clean(part) for part in re.split(r"[;|\n]", cell) if part.strip()]


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    code: str
    event: EventIn
    register: DossierIn | None = None


@dataclass(frozen=True, slots=True)
class ParsedImport:
    rows: list[ImportRow]
    errors: list[str]


def _problems(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_events_csv(text: str, tz: ZoneInfo) -> ParsedImport:
    """Every row of an events file, checked; any error means nothing is posted.

    A row without ``ma_su_kien`` gets an id made from its content, so importing the same file
    twice has no second effect.
    """
    text = text.removeprefix("\ufeff")
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = [
        (n, cells) for n, cells in enumerate(reader, start=1) if any(c.strip() for c in cells)
    ]
    if not records:
        return ParsedImport([], ["Tệp trống / the file is empty"])
    header_line, header = records[0]
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        column = COLUMNS.get(column_key(name))
        if column is not None and column not in columns:
            columns[column] = index
    missing = [name for name in ("code", "kind") if name not in columns]
    if missing:
        return ParsedImport(
            [], [f"Dòng {header_line}: thiếu cột ma_ho_so, su_kien / missing columns: {missing}"]
        )
    rows: list[ImportRow] = []
    errors: list[str] = []
    for line, raw in records[1:]:

        def cell(name: str, raw: list[str] = raw) -> str:
            index = columns.get(name)
            return raw[index].strip() if index is not None and index < len(raw) else ""

        problems: list[str] = []
        code, typed_kind = _clean(cell("code")), cell("kind")
        kind = kind_of(typed_kind)
        if kind is None:
            problems.append(f"sự kiện “{typed_kind}” không rõ / unknown event kind")
        body: dict[str, Any] = {"kind": kind}
        at = cell("at")
        if at:
            parsed_at = parse_time(at, tz)
            if parsed_at is None:
                problems.append(f"thời gian “{at}” không hợp lệ / invalid time")
            body["at"] = parsed_at
        if cell("missing"):
            body["missing"] = _items(cell("missing"))
        for name in ("new_due_on",):
            if cell(name):
                body[name] = parse_date(cell(name)) or cell(name)
        if cell("reason"):
            body["reason"] = _clean(cell("reason"))
        digest = hashlib.sha256("\x1f".join([code, *raw]).encode()).hexdigest()[:20]
        body["event_id"] = cell("event_id") or f"csv-{digest}"
        register = None
        if all(cell(name) for name in _REGISTRATION):
            fields = {name: cell(name) for name in ("procedure", "procedure_name", "field")}
            dates = {
                name: parse_date(cell(name)) or cell(name) for name in ("received_on", "due_on")
            }
            limit = cell("legal_days")
            try:
                register = DossierIn.model_validate(
                    {"code": code, **{k: v for k, v in fields.items() if v}, **dates,
                     **({"legal_days": limit} if limit else {})}
                )  # fmt: skip
            except ValidationError as exc:
                problems.append(_problems(exc))
        event: EventIn | None = None
        if kind is not None and not problems:
            try:
                event = EventIn.model_validate(body)
            except ValidationError as exc:
                problems.append(_problems(exc))
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", code):
            problems.append(f"mã hồ sơ “{code}” không hợp lệ / invalid dossier code")
        if problems or event is None:
            errors.append(f"Dòng {line}: " + "; ".join(problems))
            continue
        rows.append(ImportRow(line, code, event, register))
    if not rows and not errors:
        errors.append("Tệp không có dòng dữ liệu / the file has no data rows")
    return ParsedImport(rows, errors)


# --- command line ------------------------------------------------------------------------------


def _date(value: str) -> date:
    parsed = parse_date(value.strip())
    if parsed is None:
        raise argparse.ArgumentTypeError("ngày không hợp lệ, dùng YYYY-MM-DD / use YYYY-MM-DD")
    return parsed


def _kind(value: str) -> str:
    kind = kind_of(value)
    if kind is None:
        known = ", ".join(get_args(EventKind))
        raise argparse.ArgumentTypeError(f"sự kiện không rõ / unknown kind (one of: {known})")
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
    from .receipts import resolve_bot_username, write_qr

    today = datetime.now(settings.zone).date()
    try:
        body = DossierIn(
            code=args.code, procedure=args.procedure, procedure_name=args.procedure_name,
            field=args.field, received_on=args.received or today, due_on=args.due,
            legal_days=args.legal_days,
        )  # fmt: skip
    except ValidationError as exc:
        print(_problems(exc), file=sys.stderr)
        return 2
    try:
        done = await desk.register(CLIENT, body)
    except DossierError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    start = f"d_{done.token}"
    link: str | None
    if args.zalo:
        if not settings.zalo_oa_id:
            print("ZALO_OA_ID chưa được đặt / ZALO_OA_ID is not set", file=sys.stderr)
            return 2
        link, caption = f"https://zalo.me/{settings.zalo_oa_id}", f"Gửi mã / send: {start}"
    else:
        username = await resolve_bot_username(args.bot_username, settings)
        link = f"https://t.me/{username}?start={start}" if username else None
        caption = start
    print("\t".join(p for p in (done.code, start, link) if p))
    if args.qr is not None and link:
        args.qr.mkdir(parents=True, exist_ok=True)
        path = args.qr / f"{done.code}.png"
        await asyncio.to_thread(write_qr, link, path, caption)
        print(f"QR: {path}", file=sys.stderr)
    return 0


async def _event(args: argparse.Namespace, settings: Settings, desk: Any) -> int:
    at = parse_time(args.at, settings.zone) if args.at else None
    if args.at and at is None:
        print(f"--at: thời gian không hợp lệ / invalid time: {args.at}", file=sys.stderr)
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
        print(_problems(exc), file=sys.stderr)
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
        return f"{code}\t{done.kind}\tđã có / duplicate"
    invited = "; đã mời đánh giá / invited to rate" if done.invited else ""
    return f"{code}\t{done.kind}\tbáo {done.notified} chat / told {done.notified} chat(s){invited}"


async def _import(args: argparse.Namespace, settings: Settings, desk: Any) -> int:
    try:
        text = decode_csv(await asyncio.to_thread(Path(args.file).read_bytes))
    except OSError as exc:
        print(f"Không đọc được tệp / cannot read the file: {exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"{args.file}: không phải UTF-8 / not UTF-8 (Excel: CSV UTF-8)", file=sys.stderr)
        return 2
    parsed = parse_events_csv(text, settings.zone)
    for error in parsed.errors:
        print(error, file=sys.stderr)
    if parsed.errors:
        print("Chưa nhập gì / nothing was imported", file=sys.stderr)
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
            print(f"Dòng {row.line}: {exc.code}: {exc.message}", file=sys.stderr)
            continue
        print(_posted_line(row.code, done))
    print(
        f"Đã nhập {len(rows) - refused}/{len(rows)} dòng / imported {len(rows) - refused} of "
        f"{len(rows)} rows",
        file=sys.stderr,
    )
    return 1 if refused else 0
