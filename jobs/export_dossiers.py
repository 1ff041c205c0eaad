"""The export's dossier sheet: followed, invitations answered, on time and late, within half the
legal time limit, per procedure beside its SIPAS index (counts only, never a dossier code)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

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
from .sipas_index import Share

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

LABELS: Mapping[str, Mapping[str, str]] = {
    "vi": {
        "sheet": "Hồ sơ",
        "title": "Hồ sơ theo dõi qua chat, từ hệ thống một cửa",
        "registered": "Hồ sơ tiếp nhận trong kỳ",
        "followed": "Được theo dõi qua chat",
        "invited": "Mời đánh giá khi trả kết quả",
        "answered": "Đã đánh giá",
        "rate": "Tỷ lệ phản hồi (%)",
        "within_day": "Đánh giá trong vòng một ngày sau khi trả kết quả (%)",
        "median": "Số ngày từ khi trả kết quả đến khi đánh giá (trung vị; 7 = từ 7 ngày)",
        "col.procedure": "Thủ tục",
        "col.name": "Tên thủ tục",
        "col.completed": "Hồ sơ có kết quả",
        "col.on_time": "Đúng hẹn",
        "col.on_time_pct": "Đúng hẹn (%)",
        "col.late": "Trễ hẹn",
        "col.late_pct": "Trễ hẹn (%)",
        "col.limit": "Có thời hạn quy định",
        "col.half": "Trong 50% thời hạn",
        "col.half_pct": "Trong 50% thời hạn (%)",
        "col.sipas": "Chỉ số SIPAS cùng kỳ (%)",
        "col.sipas_base": "Số phiếu SIPAS",
        "total": "Tổng cộng",
        "note": (
            "Đúng hẹn: có kết quả không muộn hơn ngày hẹn ban đầu. Trong 50% thời hạn: số ngày "
            "làm việc từ sau ngày tiếp nhận đến ngày có kết quả không quá một nửa thời hạn giải "
            "quyết theo quy định (mục tiêu rút ngắn còn 50%)."
        ),
    },
    "en": {
        "sheet": "Dossiers",
        "title": "Dossiers followed by chat, from the one-stop system",
        "registered": "Dossiers received in the period",
        "followed": "Followed by chat",
        "invited": "Invited to rate at hand-over",
        "answered": "Rated",
        "rate": "Response rate (%)",
        "within_day": "Rated within a day of the hand-over (%)",
        "median": "Days from hand-over to answer (median; 7 = 7 or more)",
        "col.procedure": "Procedure",
        "col.name": "Name",
        "col.completed": "Completed",
        "col.on_time": "On time",
        "col.on_time_pct": "On time (%)",
        "col.late": "Late",
        "col.late_pct": "Late (%)",
        "col.limit": "With a legal limit",
        "col.half": "Within 50% of it",
        "col.half_pct": "Within 50% of it (%)",
        "col.sipas": "SIPAS index, same period (%)",
        "col.sipas_base": "SIPAS surveys",
        "total": "Total",
        "note": (
            "On time: the result was made no later than the date first promised. Within 50%: "
            "the working days after the day received, up to the day of the result, are at most "
            "half the legal time limit (the goal of cutting times to 50%)."
        ),
    },
}


def _pct(share: Share) -> float | None:
    return share.percent


def dossier_sheet(
    ws: WriteOnlyWorksheet, measures: DossierMeasures, language: str, period: str
) -> None:
    t = LABELS.get(language, LABELS["vi"])
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
