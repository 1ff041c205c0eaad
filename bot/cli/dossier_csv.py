"""Rows of a dossier-events CSV file into checked requests, and the words an operator may type
for an event kind or a time (pure: ``dossiers import`` and ``dossiers event`` use them)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final, get_args
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.runtime.dossier_models import CODE_PATTERN, DossierIn, EventIn
from conversations.dossier_events import EventKind

from .receipt_csv import column_key, parse_date
from .words import bilingual, both, quoted

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


def problems_of(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _row_error(line: int, problems: list[tuple[str, str]]) -> str:
    """``Dòng 3: … / row 3: …``: a row's problems, in Vietnamese then in English."""
    vi, en = ("; ".join(p[n] for p in problems) for n in (0, 1))
    row_vi, row_en = bilingual(
        "cli.row", (("line", line), ("problems", vi)), en=(("problems", en),)
    )
    return f"{row_vi} / {row_en}"


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
        return ParsedImport([], [both("cli.csv.empty")])
    header_line, header = records[0]
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        column = COLUMNS.get(column_key(name))
        if column is not None and column not in columns:
            columns[column] = index
    missing = [name for name in ("code", "kind") if name not in columns]
    if missing:
        problem = bilingual("zalo8.dossiers.missing_columns", (("missing", ", ".join(missing)),))
        return ParsedImport([], [_row_error(header_line, [problem])])
    rows: list[ImportRow] = []
    errors: list[str] = []
    for line, raw in records[1:]:

        def cell(name: str, raw: list[str] = raw) -> str:
            index = columns.get(name)
            return raw[index].strip() if index is not None and index < len(raw) else ""

        #: Each problem in Vietnamese and English (pydantic's own words are English in both).
        problems: list[tuple[str, str]] = []
        code, typed_kind = _clean(cell("code")), cell("kind")
        kind = kind_of(typed_kind)
        if kind is None:
            problems.append(
                bilingual("zalo8.dossiers.unknown_event", (("kind", quoted(typed_kind)),))
            )
        body: dict[str, Any] = {"kind": kind}
        at = cell("at")
        if at:
            parsed_at = parse_time(at, tz)
            if parsed_at is None:
                problems.append(bilingual("zalo8.dossiers.bad_event_time", (("time", quoted(at)),)))
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
                problems.append((problems_of(exc), problems_of(exc)))
        event: EventIn | None = None
        if kind is not None and not problems:
            try:
                event = EventIn.model_validate(body)
            except ValidationError as exc:
                problems.append((problems_of(exc), problems_of(exc)))
        if not re.fullmatch(CODE_PATTERN, code):
            problems.append(bilingual("zalo8.dossiers.bad_code", (("code", quoted(code)),)))
        if problems or event is None:
            errors.append(_row_error(line, problems))
            continue
        rows.append(ImportRow(line, code, event, register))
    if not rows and not errors:
        errors.append(both("cli.csv.no_rows"))
    return ParsedImport(rows, errors)
