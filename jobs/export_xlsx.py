"""Writes the spreadsheet export (XLSX): indices, descriptive indicators, responses, complaints.

The responses sheet is anonymous by construction: a row carries the answers and the date, and
its number is a position in the file, never an id that could be matched with a chat. Personal
data of complaints (name, phone, description) appears only in the full register, on request.
Only plain cells, fonts, alignment, number formats, widths, heights, frozen panes and print
settings are used, all of which LibreOffice reads as Excel does; figures are numbers with a
format, never text, so each reader shows them with its own decimal separator.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from io import BytesIO
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from conversations import Questionnaire, default_catalog, load_questionnaire, round_half_up
from conversations.deadlines import missed_by
from storage.queries.export import ExportComplaint, ExportResponse

from .sipas_index import Report, Share, asks_prevalence

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from .dossier_measures import (
        DossierMeasures,
    )  # a private module of openpyxl: named in annotations only

# The agency's zone (the TIMEZONE setting's default): the day a case becomes overdue is local.
LOCAL_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
INDEX_FORMAT = "0.00"
COUNT_FORMAT = "0"
DATE_FORMAT = "DD/MM/YYYY"
# A cell holds at most 32,767 characters (Excel and LibreOffice both cut there).
MAX_CELL_CHARS = 32_767
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")

Value = str | int | float | date | None

# The export's own wordings. Statuses and categories come from the message catalog, options
# from the questionnaire; these are the sheet's headings, which no conversation uses.
_LABELS: Mapping[str, Mapping[str, str]] = {
    "vi": {
        "sheet.index": "Chỉ số SIPAS",
        "sheet.descriptive": "Chỉ số mô tả",
        "sheet.responses": "Phiếu trả lời",
        "sheet.complaints": "Phản ánh",
        "title": "Chỉ số hài lòng (theo phương pháp SIPAS)",
        "period": "Kỳ báo cáo",
        "method.label": "Phương pháp",
        "completed": "Số phiếu hoàn thành (tính chỉ số)",
        "partial": "Số phiếu không hoàn thành: đã hủy hoặc quá hạn (không tính)",
        "in_progress": "Số phiếu đang làm dở, chưa kết thúc (không tính)",
        "procedure": "Thủ tục",
        "field": "Lĩnh vực",
        "generated": "Thời điểm lập",
        "col.no": "STT",
        "col.code": "Mã",
        "col.item": "Yếu tố / Tiêu chí",
        "col.base": "Số trả lời",
        "col.mean": "Điểm trung bình",
        "col.index": "Chỉ số (%)",
        "col.note": "Ghi chú",
        "note.left_out": "Chưa có đánh giá, không tính vào chỉ số chung",
        "note.no_answers": "Chưa có đánh giá",
        "note.overall_left_out": "Không tính yếu tố chưa có đánh giá: {codes}",
        "overall": "Chỉ số hài lòng chung",
        "method": (
            "Chỉ số tiêu chí = tỷ lệ trả lời Hài lòng và Rất hài lòng trên số trả lời; chỉ số yếu"
            " tố = trung bình chỉ số các tiêu chí; chỉ số chung = trung bình chỉ số các yếu tố."
        ),
        "sheet.descriptive.title": "Chỉ số mô tả",
        "desc.item": "Chỉ tiêu",
        "desc.count": "Số lượng",
        "desc.base": "Trên tổng số",
        "desc.percent": "Tỷ lệ (%)",
        "desc.channels": "Kênh tiếp cận thông tin về thủ tục (chọn nhiều; tỷ lệ trên số phiếu)",
        "desc.trips": "Số lần đến cơ quan để hoàn thành hồ sơ",
        "desc.submission": "Hình thức nộp hồ sơ",
        "desc.flags": "Các chỉ tiêu cần lưu ý",
        "desc.three_or_more": "Đến cơ quan từ 3 lần trở lên",
        "desc.late": "Nhận kết quả muộn hơn hẹn",
        "desc.late_with_apology": "Trễ hẹn có phiếu xin lỗi và hẹn lại",
        "desc.harassment": "Công chức gây phiền hà, sách nhiễu",
        "desc.unofficial_payment": "Công chức gợi ý, đòi nộp thêm tiền ngoài quy định",
        "desc.harassment.prevalence": "Cho biết có tình trạng công chức gây phiền hà, sách nhiễu",
        "desc.unofficial_payment.prevalence": (
            "Cho biết có tình trạng phải nộp thêm tiền ngoài phí, lệ phí"
        ),
        "desc.expectations": "Mong đợi cải thiện, xếp theo số lượt chọn (tỷ lệ trên số phiếu)",
        "desc.complaint_ratings": "Đánh giá việc giải quyết phản ánh, kiến nghị",
        "desc.rating_mean": "Điểm trung bình",
        "sheet.responses.title": "Phiếu trả lời (ẩn danh), kỳ",
        "resp.no": "STT",
        "resp.date": "Ngày hoàn thành",
        "resp.procedure": "Thủ tục",
        "resp.field": "Lĩnh vực",
        "sheet.complaints.title": "Danh sách phản ánh, kiến nghị",
        "full_register": "Sổ đầy đủ — có thông tin cá nhân",
        "c.code": "Mã phản ánh",
        "c.category": "Loại",
        "c.status": "Trạng thái",
        "c.source": "Nguồn",
        "c.created": "Ngày tiếp nhận",
        "c.due": "Hạn xử lý",
        "c.closed": "Ngày kết thúc",
        "c.overdue": "Quá hạn",
        "c.rating": "Đánh giá (1–5)",
        "c.anonymous": "Ẩn danh",
        "c.name": "Họ tên",
        "c.phone": "Số điện thoại",
        "c.description": "Nội dung",
        "yes": "Có",
        "no": "Không",
        "missed.forward": "chuyển cơ quan có thẩm quyền",
        "missed.accept": "báo thụ lý",
        "missed.resolve": "giải quyết",
        "source.chat": "Chatbot",
        "source.hotline": "Đường dây nóng",
    },
    "en": {
        "sheet.index": "SIPAS indices",
        "sheet.descriptive": "Descriptive",
        "sheet.responses": "Responses",
        "sheet.complaints": "Complaints",
        "title": "Satisfaction index (SIPAS method)",
        "period": "Period",
        "method.label": "Method",
        "completed": "Completed surveys (in the index)",
        "partial": "Surveys not completed: cancelled or expired (not counted)",
        "in_progress": "Surveys still in progress (not counted)",
        "procedure": "Procedure",
        "field": "Field",
        "generated": "Generated at",
        "col.no": "No.",
        "col.code": "Code",
        "col.item": "Element / Criterion",
        "col.base": "Answers",
        "col.mean": "Mean score",
        "col.index": "Index (%)",
        "col.note": "Note",
        "note.left_out": "No ratings; left out of the overall index",
        "note.no_answers": "No ratings",
        "note.overall_left_out": "Elements without ratings left out: {codes}",
        "overall": "Overall satisfaction index",
        "method": (
            "Criterion index = share of Satisfied and Very satisfied answers; element index ="
            " mean of its criteria's indices; overall index = mean of the element indices."
        ),
        "sheet.descriptive.title": "Descriptive indicators",
        "desc.item": "Indicator",
        "desc.count": "Count",
        "desc.base": "Out of",
        "desc.percent": "Share (%)",
        "desc.channels": "How citizens heard of the procedure (several allowed, share of surveys)",
        "desc.trips": "Trips to the agency to complete the dossier",
        "desc.submission": "How the dossier was submitted",
        "desc.flags": "Warning indicators",
        "desc.three_or_more": "Came 3 times or more",
        "desc.late": "Result later than promised",
        "desc.late_with_apology": "Late, with a written apology and a new date",
        "desc.harassment": "Trouble or harassment by a civil servant",
        "desc.unofficial_payment": "Asked to pay beyond the regulated fees",
        "desc.harassment.prevalence": "Said civil servants cause trouble or harass people here",
        "desc.unofficial_payment.prevalence": "Said paying beyond the regulated fees happens here",
        "desc.expectations": "What to improve, most chosen first (share of surveys)",
        "desc.complaint_ratings": "Ratings of complaint handling",
        "desc.rating_mean": "Mean score",
        "sheet.responses.title": "Responses (anonymous), period",
        "resp.no": "No.",
        "resp.date": "Completed on",
        "resp.procedure": "Procedure",
        "resp.field": "Field",
        "sheet.complaints.title": "Complaints and suggestions",
        "full_register": "Full register — contains personal data",
        "c.code": "Code",
        "c.category": "Category",
        "c.status": "Status",
        "c.source": "Source",
        "c.created": "Received on",
        "c.due": "Due on",
        "c.closed": "Closed on",
        "c.overdue": "Overdue",
        "c.rating": "Rating (1–5)",
        "c.anonymous": "Anonymous",
        "c.name": "Name",
        "c.phone": "Phone",
        "c.description": "Description",
        "yes": "Yes",
        "no": "No",
        "missed.forward": "forward to the competent body",
        "missed.accept": "tell the sender it is accepted",
        "missed.resolve": "resolve",
        "source.chat": "Chatbot",
        "source.hotline": "Hotline",
    },
}


# The rows come straight from storage: the same fields, one definition.
ResponseRow = ExportResponse
ComplaintRow = ExportComplaint


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
    lang = language if language in _LABELS else "vi"
    local = generated_at.astimezone(timezone)
    # The report's own method: its criteria codes mean that questionnaire's questions.
    ctx = _Context(lang, _LABELS[lang], questionnaire or load_questionnaire(report.method))
    # Write-only mode streams rows to the file: 10,000 responses take seconds, not minutes.
    wb = Workbook(write_only=True)
    _index_sheet(wb.create_sheet(ctx.t["sheet.index"]), ctx, report, agency, local)
    _descriptive_sheet(wb.create_sheet(ctx.t["sheet.descriptive"]), ctx, report)
    _responses_sheet(wb.create_sheet(ctx.t["sheet.responses"]), ctx, report, responses)
    _complaints_sheet(
        wb.create_sheet(ctx.t["sheet.complaints"]), ctx, complaints, full_register, local.date()
    )
    if dossiers is not None and not dossiers.empty:
        from .export_dossiers import LABELS, dossier_sheet

        period = f"{ctx.t['period']}: {_day(report.start)}–{_day(report.end)}"
        dossier_sheet(wb.create_sheet(LABELS[lang]["sheet"]), dossiers, lang, period)
    wb.properties.creator = agency
    wb.properties.title = ctx.t["title"]
    # openpyxl stores the document dates as naive UTC.
    wb.properties.created = generated_at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


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
        t["c.due"], t["c.closed"], t["c.overdue"], t["c.rating"], t["c.anonymous"],
    ]  # fmt: skip
    widths = [16, 32, 24, 15, 12, 12, 12, 28, 10, 9]
    if full_register:
        columns += [t["c.name"], t["c.phone"], t["c.description"]]
        widths += [24, 15, 60]
    ws.freeze_panes = "B3"
    _page(ws, landscape=True, title_row=2)
    sheet = _Sheet(ws, widths, align=_TOP)
    title = t["sheet.complaints.title"]
    sheet.values([f"{title} — {t['full_register']}" if full_register else title], font=_TITLE)
    sheet.header(columns)
    for c in complaints:
        cells = [
            sheet.cell(c.code),
            sheet.cell(_catalog_text(ctx.lang, f"category.{c.category}", c.category)),
            sheet.cell(_catalog_text(ctx.lang, f"status.{c.status}", c.status)),
            sheet.cell(t.get(f"source.{c.source}", c.source)),
            sheet.cell(c.created_on),
            sheet.cell(c.due_on),
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
