"""The export's cells: number formats, fonts, alignment, and a streamed sheet that sizes its
rows, shared by every sheet of the workbook (moved from export_xlsx.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from conversations import round_half_up

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import (
        WriteOnlyWorksheet,
    )  # a private module of openpyxl: named in annotations only

INDEX_FORMAT = "0.00"
COUNT_FORMAT = "0"
DATE_FORMAT = "DD/MM/YYYY"
# A cell holds at most 32,767 characters (Excel and LibreOffice both cut there).
MAX_CELL_CHARS = 32_767

Value = str | int | float | date | None


# --- cells -----------------------------------------------------------------------------------

# A font without a name is drawn by LibreOffice in its serif fallback; name the workbook's own
# default (Calibri; LibreOffice substitutes a metric-compatible font) so bold rows match.
_FONT = {"name": "Calibri", "family": 2, "scheme": "minor"}
_PLAIN = Font(**_FONT, size=11)
_BOLD = Font(**_FONT, size=11, bold=True)
_ITALIC = Font(**_FONT, size=11, italic=True)
_TITLE = Font(**_FONT, size=13, bold=True)
_TOP = Alignment(vertical="top")
# Short values in narrow columns (numbering, yes/no, a rating) read apart from their neighbours.
_CENTER = Alignment(vertical="top", horizontal="center")
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
_LINE_POINTS = 15.0  # the height of one line of 11 pt text
#: Excel's tallest row (409 points); a taller one is refused or reset. A longer text is kept
#: whole in its cell, wrapped, and read in the cell or the formula bar.
MAX_ROW_POINTS = 409.0
# A column width counts digits of the default font; a line of Vietnamese text holds a little
# more than one character per unit (1.3 measured in LibreOffice; less is the safe side).
CHARS_PER_WIDTH = 1.15


class _Sheet:
    """A streamed worksheet that counts its rows, so a row of wrapped text gets its height.

    Neither LibreOffice nor Excel reliably grows a row for wrapped text on opening a file, and
    a write-only sheet cannot be measured afterwards: the height is estimated as it is written.
    """

    def __init__(
        self, ws: WriteOnlyWorksheet, widths: Sequence[float], align: Alignment | None = None
    ) -> None:
        self.ws = ws
        self.widths = widths
        self.align = align  # for cells given none: the small sheets align every cell to the top
        self.row = 0
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width

    def cell(
        self,
        value: Value,
        *,
        font: Font | None = None,
        fmt: str | None = None,
        align: Alignment | None = None,
    ) -> Cell:
        if isinstance(value, str):
            value = _clean(value)
        cell = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str):
            # Text starting with "=" (a citizen's comment, say) would otherwise become a formula.
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        if fmt is not None:
            cell.number_format = fmt
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
        align = align or self.align
        if align is not None:
            cell.alignment = align
        return cell

    def plain(self, value: Value) -> Cell | Value:
        """An unstyled value: passed as it is when that is safe, which writes much faster."""
        if isinstance(value, date) or (
            isinstance(value, str) and (value.startswith("=") or value != _clean(value))
        ):
            return self.cell(value)
        return value

    def append(self, cells: Sequence[Cell | Value] = ()) -> None:
        self.row += 1
        lines = max(
            (self._lines(i, c) for i, c in enumerate(cells) if isinstance(c, Cell)),
            default=1,
        )
        if lines > 1:
            height = min(lines * _LINE_POINTS + 2, MAX_ROW_POINTS)
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(list(cells))

    def values(self, values: Iterable[Value], *, font: Font | None = None) -> None:
        self.append([self.cell(v, font=font) for v in values])

    def header(self, names: Iterable[str]) -> None:
        self.append([self.cell(n, font=_BOLD, align=_HEADER_ALIGN) for n in names])

    def _lines(self, column: int, cell: Cell) -> int:
        if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
            return 1
        width = self.widths[column] if column < len(self.widths) else 8.43
        per_line = max(1, int(width * CHARS_PER_WIDTH))
        return sum(max(1, len(textwrap.wrap(part, per_line))) for part in cell.value.split("\n"))


def _page(
    ws: WriteOnlyWorksheet, *, landscape: bool, title_row: int | None, fit_width: bool = True
) -> None:
    """Prints on A4, as wide as the page, with the table header repeated on every page."""
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    if fit_width:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as needed
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"


def _clean(text: str) -> str:
    """Without the control characters XML forbids, and no longer than a cell may hold."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", text))[:MAX_CELL_CHARS]


def _day(d: date) -> str:
    return f"{d:%d/%m/%Y}"


def _percent(count: int, base: int) -> float | None:
    return None if base == 0 else round_half_up(100 * count / base, 2)
