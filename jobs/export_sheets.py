"""The export's four sheets: SIPAS indices, descriptive indicators, anonymous responses and
the complaint register (moved from export_xlsx.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from openpyxl.styles import Font

from conversations import Questionnaire, default_catalog
from conversations.deadlines import missed_by
from storage.queries.export import ExportComplaint, ExportResponse

from .export_cells import (
    _BOLD,
    _CENTER,
    _ITALIC,
    _PLAIN,
    _TITLE,
    _TOP,
    _WRAP,
    COUNT_FORMAT,
    INDEX_FORMAT,
    Value,
    _day,
    _page,
    _percent,
    _Sheet,
)
from .sipas_index import Report, Share, asks_prevalence

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import (
        WriteOnlyWorksheet,
    )  # a private module of openpyxl: named in annotations only

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")

# The rows come straight from storage: the same fields, one definition.
ResponseRow = ExportResponse
ComplaintRow = ExportComplaint


@dataclass(frozen=True)
class _Context:
    lang: str
    t: Mapping[str, str]
    q: Questionnaire

    def text(self, key: str, fallback: str) -> str:
        found = self.q.texts.get(self.q.key(key.split("/", 1)[-1]))
        if found is None:
            return fallback
        return found.get(self.lang) or found.get("vi") or fallback

    def option(self, step: str, code: str) -> str:
        return self.text(f"q.{step}.{code}", code)


# --- sheet 1: indices ------------------------------------------------------------------------


def _index_sheet(
    ws: WriteOnlyWorksheet, ctx: _Context, report: Report, agency: str, local: datetime
) -> None:
    t = ctx.t
    header: list[tuple[str, Value, Font]] = [
        (agency, None, _BOLD),
        (t["title"], None, _TITLE),
        (t["period"], f"{_day(report.start)}–{_day(report.end)}", _PLAIN),
        # One method per report, named as the report and the digest name it (LAW-2026.md).
        (t["method.label"], report.method_name or report.method, _PLAIN),
        (t["completed"], report.completed, _PLAIN),
        (t["partial"], report.partial, _PLAIN),
        (t["in_progress"], report.in_progress, _PLAIN),
    ]
    if report.procedure:
        header.append((t["procedure"], report.procedure, _PLAIN))
    if report.field:
        header.append((t["field"], report.field, _PLAIN))
    header.append((t["generated"], f"{local:%d/%m/%Y %H:%M}", _PLAIN))
    table_row = len(header) + 2
    # A write-only sheet writes its view and layout before its first row.
    ws.freeze_panes = f"A{table_row + 1}"
    _page(ws, landscape=True, title_row=table_row)
    sheet = _Sheet(ws, [6, 7, 58, 11, 11, 11, 11, 11, 10, 11, 10, 28], align=_TOP)
    for label, value, font in header:
        # The label in column A spills over the empty B and C; the value sits in D.
        sheet.append([sheet.cell(label, font=font), None, None, sheet.cell(value)])
    sheet.append()
    scale = [f"{ctx.text(f'scale.{v}', str(v))} ({v})" for v in range(1, 6)]
    columns = [t["col.no"], t["col.code"], t["col.item"], *scale]
    sheet.header([*columns, t["col.base"], t["col.mean"], t["col.index"], t["col.note"]])
    number = 0
    for i, element in enumerate(report.elements):
        sheet.append(
            [
                sheet.cell(ROMAN[i] if i < len(ROMAN) else str(i + 1), font=_BOLD, align=_CENTER),
                sheet.cell(element.code, font=_BOLD, align=_CENTER),
                sheet.cell(report.names.get(element.code, element.code), font=_BOLD, align=_WRAP),
                None, None, None, None, None,
                sheet.cell(element.base, font=_BOLD, fmt=COUNT_FORMAT),
                None,
                # An element without answers has no index: an empty cell, not a zero.
                sheet.cell(element.index, font=_BOLD, fmt=INDEX_FORMAT),
                sheet.cell(t["note.left_out"] if element.index is None else None, font=_ITALIC,
                           align=_WRAP),
            ]
        )  # fmt: skip
        for criterion in element.criteria:
            number += 1
            sheet.append(
                [
                    sheet.cell(number, align=_CENTER),
                    sheet.cell(criterion.code, align=_CENTER),
                    sheet.cell(report.names.get(criterion.code, criterion.code), align=_WRAP),
                    *(sheet.cell(n, fmt=COUNT_FORMAT) for n in criterion.levels),
                    sheet.cell(criterion.base, fmt=COUNT_FORMAT),
                    sheet.cell(criterion.mean, fmt=INDEX_FORMAT),
                    sheet.cell(criterion.index, fmt=INDEX_FORMAT),
                    sheet.cell(t["note.no_answers"] if criterion.index is None else None),
                ]
            )
    left_out = ", ".join(report.without_answers)
    note = t["note.overall_left_out"].format(codes=left_out) if left_out else None
    sheet.append(
        [
            None, None,
            sheet.cell(t["overall"], font=_BOLD),
            None, None, None, None, None,
            sheet.cell(report.base, font=_BOLD, fmt=COUNT_FORMAT),
            None,
            sheet.cell(report.index, font=_BOLD, fmt=INDEX_FORMAT),
            sheet.cell(note, font=_ITALIC, align=_WRAP),
        ]
    )  # fmt: skip
    sheet.append()
    sheet.append([None, None, sheet.cell(t["method"], font=_ITALIC, align=_WRAP)])


# --- sheet 2: descriptive indicators ---------------------------------------------------------


def _descriptive_sheet(ws: WriteOnlyWorksheet, ctx: _Context, report: Report) -> None:
    t, d = ctx.t, report.descriptive
    _page(ws, landscape=False, title_row=None)
    sheet = _Sheet(ws, [60, 12, 12, 12], align=_TOP)
    sheet.values([t["sheet.descriptive.title"]], font=_TITLE)
    sheet.values([f"{t['period']}: {_day(report.start)}–{_day(report.end)}"])
    sheet.values([f"{t['method.label']}: {report.method_name or report.method}"])
    sheet.append([sheet.cell(t["completed"]), sheet.cell(report.completed)])
    columns = [t["desc.item"], t["desc.count"], t["desc.base"], t["desc.percent"]]

    def table(title: str, rows: Iterable[tuple[str, int, int]]) -> None:
        sheet.append()
        sheet.values([title], font=_BOLD)
        sheet.header(columns)
        for label, count, base in rows:
            sheet.append(
                [
                    sheet.cell(label, align=_WRAP),
                    sheet.cell(count, fmt=COUNT_FORMAT),
                    sheet.cell(base, fmt=COUNT_FORMAT),
                    sheet.cell(_percent(count, base), fmt=INDEX_FORMAT),
                ]
            )

    # Several channels may be named: each share is of the completed surveys (they add past 100).
    table(t["desc.channels"], ((ctx.option("info", c), n, report.completed) for c, n in d.channels))
    if d.submission:  # asked by QĐ 1001's form only
        submitted = sum(n for _, n in d.submission)
        table(
            t["desc.submission"],
            ((ctx.option("channel", c), n, submitted) for c, n in d.submission),
        )
    trips_base = sum(n for _, n in d.trips)
    table(t["desc.trips"], ((ctx.option("trips", c), n, trips_base) for c, n in d.trips))
    prevalence = ".prevalence" if asks_prevalence(report.method) else ""
    flags: list[tuple[str, Share]] = [
        (t["desc.three_or_more"], d.three_or_more_trips),
        (t["desc.late"], d.late),
        (t["desc.late_with_apology"], d.late_with_apology),
        # QĐ 1001 asks how common such conduct is, QĐ 2640 whether it happened to the person.
        (t[f"desc.harassment{prevalence}"], d.harassment),
        (t[f"desc.unofficial_payment{prevalence}"], d.unofficial_payment),
    ]
    table(t["desc.flags"], ((label, s.count, s.base) for label, s in flags))
    table(
        t["desc.expectations"],
        (
            (f"{rank}. {ctx.option('expect', c)}", n, report.completed)
            for rank, (c, n) in enumerate(d.expectations, start=1)
        ),
    )
    ratings_base = sum(d.complaint_ratings)
    table(
        t["desc.complaint_ratings"],
        (
            (f"{ctx.text(f'scale.{v}', str(v))} ({v})", n, ratings_base)
            for v, n in enumerate(d.complaint_ratings, start=1)
        ),
    )
    sheet.append(
        [
            sheet.cell(t["desc.rating_mean"], font=_BOLD),
            None,
            sheet.cell(ratings_base, font=_BOLD, fmt=COUNT_FORMAT),
            sheet.cell(d.complaint_rating_mean, font=_BOLD, fmt=INDEX_FORMAT),
        ]
    )


# --- sheet 3: anonymous responses ------------------------------------------------------------


def _responses_sheet(
    ws: WriteOnlyWorksheet, ctx: _Context, report: Report, responses: Sequence[ResponseRow]
) -> None:
    t, steps = ctx.t, ctx.q.steps
    ws.freeze_panes = "E3"
    # Dozens of columns: shrunk to one page wide they could not be read, so they run on.
    _page(ws, landscape=True, title_row=2, fit_width=False)
    sheet = _Sheet(ws, [7, 12, 16, 16, *(6 if s.kind == "rating" else 22 for s in steps)])
    sheet.values([f"{t['sheet.responses.title']} {_day(report.start)}–{_day(report.end)}"])
    # A criterion is headed by its code (the indices sheet gives its wording); any other item
    # by its question, which is all a reader has to go on.
    items = [s.id if s.kind == "rating" else ctx.text(s.text_key, s.id) for s in steps]
    sheet.header([t["resp.no"], t["resp.date"], t["resp.procedure"], t["resp.field"], *items])
    # sorted() is stable: responses of the same day keep the order they were given in.
    for number, response in enumerate(sorted(responses, key=lambda r: r.completed_on), 1):
        cells = [
            number,
            sheet.cell(response.completed_on),
            sheet.plain(response.procedure),
            sheet.plain(response.field),
        ]
        cells += [sheet.plain(_answer(ctx, s.id, s.kind, response.answers)) for s in steps]
        sheet.append(cells)


def _answer(ctx: _Context, item: str, kind: str, answers: Mapping[str, int | str]) -> Value:
    value = answers.get(item)
    if value is None or value == "":
        return None
    if kind == "rating":
        # A rating read back as text ("4") is still a number, so the sheet can add it up.
        return (
            int(value) if isinstance(value, int) or (value.isascii() and value.isdigit()) else value
        )
    if kind == "text":
        return str(value)
    codes = str(value).split(",") if kind == "multi" else [str(value)]
    return "; ".join(ctx.option(item, c) for c in codes if c)


# --- sheet 4: complaints ---------------------------------------------------------------------


def _complaints_sheet(
    ws: WriteOnlyWorksheet,
    ctx: _Context,
    complaints: Sequence[ComplaintRow],
    full_register: bool,
    today: date,
) -> None:
    t = ctx.t
    columns = [
        t["c.code"], t["c.category"], t["c.status"], t["c.source"], t["c.created"],
        t["c.forward_due"], t["c.accept_due"], t["c.resolve_due"], t["c.forwarded_to"],
        t["c.forwarded_on"], t["c.closed"], t["c.overdue"], t["c.rating"], t["c.anonymous"],
    ]  # fmt: skip
    widths = [16, 32, 24, 15, 12, 14, 12, 12, 28, 12, 12, 28, 10, 9]
    if full_register:
        columns += [t["c.name"], t["c.phone"], t["c.description"]]
        widths += [24, 15, 60]
    ws.freeze_panes = "B3"
    _page(ws, landscape=True, title_row=2)
    sheet = _Sheet(ws, widths, align=_TOP)
    title = t["sheet.complaints.title"]
    # Which cases: filed in the period, and every older one still open at its end.
    title = f"{title} — {t['complaints.scope']}"
    sheet.values([f"{title} — {t['full_register']}" if full_register else title], font=_TITLE)
    sheet.header(columns)
    for c in complaints:
        cells = [
            sheet.cell(c.code),
            sheet.cell(_catalog_text(ctx.lang, f"category.{c.category}", c.category)),
            sheet.cell(_catalog_text(ctx.lang, f"status.{c.status}", c.status)),
            sheet.cell(t.get(f"source.{c.source}", c.source)),
            sheet.cell(c.created_on),
            sheet.cell(c.forward_due_on),
            sheet.cell(c.accept_due_on),
            sheet.cell(c.due_on),
            sheet.cell(c.forwarded_to, align=_WRAP),
            sheet.cell(c.forwarded_on),
            sheet.cell(c.closed_on),
            sheet.cell(_overdue(t, c, today), align=_WRAP),
            sheet.cell(c.rating, align=_CENTER),
            sheet.cell(t["yes"] if c.anonymous else t["no"], align=_CENTER),
        ]
        if full_register:
            cells += [
                sheet.cell(c.name),
                sheet.cell(c.phone),
                sheet.cell(c.description, align=_WRAP),
            ]
        sheet.append(cells)


def _catalog_text(lang: str, key: str, fallback: str) -> str:
    """A status or category wording; a code no longer in the catalog is shown as it is."""
    catalog = default_catalog()
    return catalog.text(lang, key) if catalog.has(key) else fallback


def _overdue(t: Mapping[str, str], c: ComplaintRow, today: date) -> str:
    """The "no", or "yes: " and the deadlines missed, by the rule the staff list and the
    digest use (``conversations.deadlines``); a closed case missed the day to resolve if it
    closed after it."""
    missed = missed_by(c, today, closed_on=c.closed_on)
    if not missed:
        return t["no"]
    return f"{t['yes']}: " + ", ".join(t[f"missed.{m.kind}"] for m in missed)
