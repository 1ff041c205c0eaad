"""The receipts CSV file: decoding, header names, dates, and every row checked before any
receipt is issued (moved from receipts.py)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final

from bot.cli.words import bilingual, counted, quoted
from conversations.effects import Ref

from .receipt_qr import MAX_DOSSIER_CHARS, _fold
from .receipt_tokens import valid_until

#: Column lengths of ``storage.schema.receipts`` (a test checks they agree).
MAX_PROCEDURE_CHARS: Final = 64
MAX_FIELD_CHARS: Final = 128

# A problem with a CSV row or the file: (Vietnamese, English), from the catalog keys cli.*.
Problem = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ReceiptRequest:
    """One receipt to issue; ``dossier`` names its line and QR file and is never stored."""

    procedure: str
    field: str | None = None
    handed_over_on: date | None = None
    dossier: str | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one CSV row (``line`` 1 is the header), or the file (``None``)."""

    line: int | None
    problems: tuple[Problem, ...]

    @property
    def message(self) -> str:
        vi = "; ".join(p[0] for p in self.problems)
        en = "; ".join(p[1] for p in self.problems)
        if self.line is None:
            return f"{vi} / {en}"
        row_vi, row_en = bilingual(
            "cli.row", (("line", self.line), ("problems", vi)), en=(("problems", en),)
        )
        return f"{row_vi} / {row_en}"


@dataclass(frozen=True, slots=True)
class CsvImport:
    """A parsed CSV file: receipts to issue, or the errors that stop the import."""

    requests: list[ReceiptRequest]
    errors: list[RowError]
    #: True when the file has a dossier-code column; every output line then starts with it.
    has_dossier: bool = False
    ignored_columns: tuple[str, ...] = ()


# Header names, compared without diacritics, case or spacing: "Mã hồ sơ" is ma_ho_so.
COLUMNS: Final = {
    "ma_ho_so": "dossier",
    "dossier": "dossier",
    "thu_tuc": "procedure",
    "procedure": "procedure",
    "linh_vuc": "field",
    "field": "field",
    "ngay_tra": "handed_over_on",
    "handed_over_on": "handed_over_on",
}


def column_key(name: str) -> str:
    """A header cell as a column key: ``" Ngày trả "`` → ``ngay_tra``."""
    return re.sub(r"[^a-z0-9]+", "_", _fold(name).lower()).strip("_")


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` or ``DD/MM/YYYY`` (day and month may have one digit); None otherwise."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:  # 2026-02-30 and the like
        return None
    return None


def decode_csv(data: bytes) -> str:
    """UTF-8 text with or without a BOM (Excel's "CSV UTF-8" writes one); raises ValueError."""
    return data.decode("utf-8-sig")


def too_long(name: str, limit: int) -> Problem:
    """``name`` (a catalog key ``cli.name.*``) is longer than ``limit`` characters."""
    return bilingual("cli.too_long", (("name", Ref(name)), ("limit", limit)))


def _delimiter(header_line: str) -> str:
    # Excel in a Vietnamese locale writes ";" (the comma is the decimal separator there); a
    # copy from a spreadsheet gives tabs. The header names contain none of these.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean(cell: str) -> str:
    # NFC so that the same procedure typed on two systems groups together in reports; inner
    # whitespace (including a newline in a quoted cell) becomes one space.
    return unicodedata.normalize("NFC", " ".join(cell.split()))


def parse_receipts_csv(text: str, *, today: date, valid_days: int) -> CsvImport:
    """Reads and checks every row; any error means no receipt may be created.

    ``today`` and ``valid_days`` reject rows whose survey period is already over: a QR code
    printed for them would only ever get "this receipt has expired".
    """
    text = text.removeprefix("\ufeff")
    delimiter = _delimiter(text.lstrip("\r\n").split("\n", 1)[0])
    records = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    header: list[str] | None = None
    for _, cells in records:
        if any(c.strip() for c in cells):
            header = cells
            break
    if header is None:
        return CsvImport([], [RowError(None, (bilingual("cli.csv.empty"),))])

    columns: dict[str, int] = {}
    ignored: list[str] = []
    header_problems: list[Problem] = []
    for index, name in enumerate(header):
        key = column_key(name)
        column = COLUMNS.get(key)
        if column is None:
            if key:
                ignored.append(name.strip())
        elif column in columns:
            first = header[columns[column]].strip()
            header_problems.append(
                bilingual(
                    "cli.csv.same_column",
                    (("first", quoted(first)), ("second", quoted(name.strip()))),
                )
            )
        else:
            columns[column] = index
    if "procedure" not in columns:
        header_problems.append(bilingual("cli.csv.no_procedure_column"))
    if header_problems:
        return CsvImport([], [RowError(1, tuple(header_problems))], ignored_columns=tuple(ignored))

    requests: list[ReceiptRequest] = []
    errors: list[RowError] = []
    dossier_rows: dict[str, int] = {}
    for line, raw in records:
        cells = [_clean(c) for c in raw]
        if not any(cells):
            continue  # Excel leaves rows of bare separators at the end

        def cell(column: str, cells: list[str] = cells) -> str:
            index = columns.get(column)
            return cells[index] if index is not None and index < len(cells) else ""

        problems: list[Problem] = []
        if any(cells[len(header) :]):
            problems.append(
                bilingual(
                    "cli.csv.extra_cells",
                    (("cells", len(cells)), ("columns", len(header))),
                    en=(
                        ("cells", counted(len(cells), "cell", "cells")),
                        ("columns", counted(len(header), "column", "columns")),
                    ),
                )
            )
        procedure = cell("procedure")
        if not procedure:
            problems.append(bilingual("cli.csv.no_procedure"))
        elif len(procedure) > MAX_PROCEDURE_CHARS:
            problems.append(too_long("cli.name.procedure", MAX_PROCEDURE_CHARS))
        field = cell("field")
        if len(field) > MAX_FIELD_CHARS:
            problems.append(too_long("cli.name.field", MAX_FIELD_CHARS))
        dossier = cell("dossier")
        if len(dossier) > MAX_DOSSIER_CHARS:
            problems.append(too_long("cli.name.dossier", MAX_DOSSIER_CHARS))
        elif dossier in dossier_rows:
            # One row per dossier: a repeat would give the same citizen two surveys.
            problems.append(
                bilingual(
                    "cli.csv.dossier_repeats",
                    (("dossier", quoted(dossier)), ("row", dossier_rows[dossier])),
                )
            )
        elif dossier:
            dossier_rows[dossier] = line
        raw_date = cell("handed_over_on")
        handed_over_on = parse_date(raw_date) if raw_date else None
        if raw_date and handed_over_on is None:
            problems.append(bilingual("cli.csv.bad_date", (("date", quoted(raw_date)),)))
        elif valid_until(handed_over_on, today, valid_days) < today:
            problems.append(
                bilingual(
                    "cli.csv.survey_over",
                    (("days", valid_days),),
                    en=(("days", counted(valid_days, "day", "days")),),
                )
            )
        if problems:
            errors.append(RowError(line, tuple(problems)))
            continue
        requests.append(ReceiptRequest(procedure, field or None, handed_over_on, dossier or None))
    if not requests and not errors:
        errors.append(RowError(None, (bilingual("cli.csv.no_rows"),)))
    return CsvImport(requests, errors, "dossier" in columns, tuple(ignored))
