"""The export's dossier sheet: followed, invitations answered, on time and late, within half the
legal time limit, per procedure beside its SIPAS index (counts only, never a dossier code)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations import default_catalog

from .dossier_measures import DossierMeasures, ProcedureMeasures
from .export_cells import (
    _BOLD,
    _ITALIC,
    _TITLE,
    _TOP,
    _WRAP,
    COUNT_FORMAT,
    INDEX_FORMAT,
    _page,
    _Sheet,
)
from .export_labels import export_language
from .sipas_index import Share

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

#: The sheet's wordings are catalog keys ``report.dossier_sheet.*``
#: (conversations/catalogs/reports.*.yaml).
LABEL_PREFIX = "report.dossier_sheet."


def dossier_labels(language: str) -> dict[str, str]:
    """The sheet's wordings in ``language`` (Vietnamese for a language the export lacks)."""
    return default_catalog().section(export_language(language), LABEL_PREFIX)


def _pct(share: Share) -> float | None:
    return share.percent


def dossier_sheet(
    ws: WriteOnlyWorksheet, measures: DossierMeasures, language: str, period: str
) -> None:
    t = dossier_labels(language)
    _page(ws, landscape=True, title_row=None)
    sheet = _Sheet(ws, [12, 40, 11, 9, 9, 9, 9, 11, 11, 11, 12, 10], align=_TOP)
    sheet.values([t["title"]], font=_TITLE)
    sheet.values([period])
    c = measures.counts
    for label, value, fmt in (
        (t["registered"], c.registered, COUNT_FORMAT),
        (t["followed"], c.followed, COUNT_FORMAT),
        (t["invited"], c.invited, COUNT_FORMAT),
        (t["answered"], c.answered, COUNT_FORMAT),
        (t["rate"], _pct(measures.response_rate), INDEX_FORMAT),
        (t["within_day"], _pct(measures.answered_within_a_day), INDEX_FORMAT),
        (t["median"], measures.median_days, COUNT_FORMAT),
    ):
        sheet.append([sheet.cell(label), None, sheet.cell(value, fmt=fmt)])
    sheet.append()
    sheet.header(
        [t[k] for k in ("col.procedure", "col.name", "col.completed", "col.on_time",
                        "col.on_time_pct", "col.late", "col.late_pct", "col.limit", "col.half",
                        "col.half_pct", "col.sipas", "col.sipas_base")]
    )  # fmt: skip
    for p in measures.procedures:
        _row(sheet, p, p.procedure, p.name or "")
    _row(sheet, measures.total(), t["total"], "", bold=True)
    sheet.append()
    sheet.append([sheet.cell(t["note"], font=_ITALIC, align=_WRAP)])


def _row(sheet: _Sheet, p: ProcedureMeasures, code: str, name: str, *, bold: bool = False) -> None:
    font = _BOLD if bold else None
    sheet.append(
        [
            sheet.cell(code, font=font),
            sheet.cell(name, font=font, align=_WRAP),
            sheet.cell(p.completed, font=font, fmt=COUNT_FORMAT),
            sheet.cell(p.on_time, font=font, fmt=COUNT_FORMAT),
            sheet.cell(_pct(p.on_time_share), font=font, fmt=INDEX_FORMAT),
            sheet.cell(p.late, font=font, fmt=COUNT_FORMAT),
            sheet.cell(_pct(p.late_share), font=font, fmt=INDEX_FORMAT),
            sheet.cell(p.with_limit, font=font, fmt=COUNT_FORMAT),
            sheet.cell(p.within_half, font=font, fmt=COUNT_FORMAT),
            sheet.cell(_pct(p.half_share), font=font, fmt=INDEX_FORMAT),
            sheet.cell(p.sipas_index, font=font, fmt=INDEX_FORMAT),
            sheet.cell(p.sipas_base if not bold else None, font=font, fmt=COUNT_FORMAT),
        ]
    )
