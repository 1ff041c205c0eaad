"""Writes the spreadsheet export (XLSX): indices, descriptive indicators, responses, complaints.

The responses sheet is anonymous by construction: a row carries the answers and the date, and
its number is a position in the file, never an id that could be matched with a chat. Personal
data of complaints (name, phone, description) appears only in the full register, on request.
Only plain cells, fonts, alignment, number formats, widths, heights, frozen panes and print
settings are used, all of which LibreOffice reads as Excel does; figures are numbers with a
format, never text, so each reader shows them with its own decimal separator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from io import BytesIO
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from conversations import Questionnaire, load_questionnaire

from .export_cells import _day
from .export_labels import export_labels, export_language
from .export_sheets import (
    ComplaintRow,
    ResponseRow,
    _complaints_sheet,
    _Context,
    _descriptive_sheet,
    _index_sheet,
    _responses_sheet,
)
from .sipas_index import Report

if TYPE_CHECKING:
    from .dossier_measures import DossierMeasures

#: The rows (from storage) are importable from here, as before the sheets moved out.
__all__ = ["LOCAL_TIMEZONE", "ComplaintRow", "ResponseRow", "export_workbook"]

# The agency's zone (the TIMEZONE setting's default): the day a case becomes overdue is local.
LOCAL_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def export_workbook(
    report: Report,
    responses: Sequence[ResponseRow],
    complaints: Sequence[ComplaintRow],
    *,
    language: str = "vi",
    agency: str,
    full_register: bool = False,
    generated_at: datetime,
    timezone: tzinfo = LOCAL_TIMEZONE,
    questionnaire: Questionnaire | None = None,
    dossiers: DossierMeasures | None = None,
) -> bytes:
    """The export as XLSX bytes.

    ``generated_at`` must be timezone-aware: it is shown, and decides which open complaints
    are overdue, in ``timezone``'s local date. Criterion and element wordings come from
    ``report.names`` (build the report in ``language``); option wordings from ``questionnaire``.
    """
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    lang = export_language(language)
    local = generated_at.astimezone(timezone)
    # The report's own method: its criteria codes mean that questionnaire's questions.
    ctx = _Context(lang, export_labels(lang), questionnaire or load_questionnaire(report.method))
    # Write-only mode streams rows to the file: 10,000 responses take seconds, not minutes.
    wb = Workbook(write_only=True)
    _index_sheet(wb.create_sheet(ctx.t["sheet.index"]), ctx, report, agency, local)
    _descriptive_sheet(wb.create_sheet(ctx.t["sheet.descriptive"]), ctx, report)
    _responses_sheet(wb.create_sheet(ctx.t["sheet.responses"]), ctx, report, responses)
    _complaints_sheet(
        wb.create_sheet(ctx.t["sheet.complaints"]), ctx, complaints, full_register, local.date()
    )
    if dossiers is not None and not dossiers.empty:
        from .export_dossiers import dossier_labels, dossier_sheet

        period = f"{ctx.t['period']}: {_day(report.start)}–{_day(report.end)}"
        dossier_sheet(wb.create_sheet(dossier_labels(lang)["sheet"]), dossiers, lang, period)
    wb.properties.creator = agency
    wb.properties.title = ctx.t["title"]
    # openpyxl stores the document dates as naive UTC.
    wb.properties.created = generated_at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
