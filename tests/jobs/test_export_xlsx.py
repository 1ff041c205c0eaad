"""The XLSX export, read back with openpyxl: figures as numbers, anonymity, the register.

The report comes from ``compute(, questionnaire=Q2640)`` on hand-made counts, so every figure the sheets should
show is known; the personal data of complaints is searched for in every cell and in the raw
XML of the package, where a stray copy (a document property, a shared string) would hide.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import zipfile
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from conversations import load_questionnaire
from jobs.export_xlsx import ComplaintRow, ResponseRow, export_workbook
from jobs.sipas_index import Report, compute

#: These tests build reports from hand-made counts of the 2640 criteria (22).
Q2640 = load_questionnaire("sipas-2640")

AGENCY = "Sở Xây dựng tỉnh Hà Nam"
# 17:30 UTC on 10 March is 00:30 on 11 March in Vietnam: the local date decides "overdue".
GENERATED = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)

NAME = "Nguyễn Thị Bích Ngọc"
PHONE = "0912345678"
DESCRIPTION = "Nhà số 12 ngõ 5 bị cấp phép sai ranh giới"

CRITERIA: dict[str, tuple[int, ...]] = {
    "1.1": (1, 2, 3, 4, 5),
    "1.2": (0, 0, 0, 5, 5),
    "1.3": (2, 2, 2, 2, 2),
    # 1.4 has no answer: its index is empty and element 1 is the mean of the other three.
    **{c: (0, 1, 1, 4, 4) for c in ("2.1", "2.2", "2.3", "2.4", "2.5")},
    **{c: (1, 0, 1, 3, 5) for c in ("3.1", "3.2", "3.3", "3.4", "3.5", "3.6")},
    **{c: (0, 0, 2, 3, 5) for c in ("4.1", "4.2", "4.3")},
    # Element 5 has no answer at all: left out of the overall index.
}
DESCRIPTIVE = {
    ("info", "portal"): 12,
    ("info", "staff"): 5,
    ("trips", "1"): 10,
    ("trips", "2"): 3,
    ("trips", "3"): 1,
    ("trips", "4"): 1,
    ("timing", "ontime"): 12,
    ("timing", "late"): 3,
    ("apology", "yes"): 1,
    ("apology", "no"): 2,
    ("harass", "yes"): 1,
    ("harass", "no"): 14,
    ("payment", "no"): 15,
    ("expect", "faster"): 7,
    ("expect", "online"): 4,
}

RESPONSE_HEADER = [
    "STT",
    "Ngày hoàn thành",
    "Thủ tục",
    "Lĩnh vực",
    "Ông/Bà biết đến thủ tục hành chính này qua những kênh nào?",
    "Ông/Bà đã phải đến cơ quan bao nhiêu lần để hoàn thành hồ sơ này?",
    "Ông/Bà nhận kết quả so với ngày hẹn trên giấy biên nhận như thế nào?",
    "Khi trễ hẹn, cơ quan có gửi phiếu xin lỗi và hẹn lại ngày trả kết quả không?",
    *("1.1", "1.2", "1.3", "1.4"),
    *("2.1", "2.2", "2.3", "2.4", "2.5"),
    *("3.1", "3.2", "3.3", "3.4", "3.5", "3.6"),
    *("4.1", "4.2", "4.3"),
    "Trong quá trình giải quyết công việc, Ông/Bà có thực hiện góp ý, phản ánh, kiến nghị không?",
    *("5.1", "5.2", "5.3", "5.4"),
    "Trong quá trình giải quyết hồ sơ, có công chức nào gây phiền hà, sách nhiễu Ông/Bà không?",
    "Có công chức nào gợi ý hoặc đòi Ông/Bà nộp thêm tiền ngoài phí, lệ phí theo quy định không?",
    "Theo Ông/Bà, cơ quan cần cải thiện những mặt nào?",
    'Ông/Bà có ý kiến nào khác không? Xin gõ ý kiến của Ông/Bà, hoặc bấm "Bỏ qua".',
    "Cuối cùng, Ông/Bà có muốn cho biết đôi nét về mình không? (không bắt buộc, không hỏi tên hay số điện thoại)",
    "Ông/Bà là",
    "Giới tính",
    "Nhóm tuổi",
    "Trình độ học vấn",
    "Nghề nghiệp",
]


def make_report(
    criteria: Mapping[str, tuple[int, ...]] = CRITERIA, language: str = "vi", **kw: Any
) -> Report:
    counts: dict[tuple[str, str], int] = dict(DESCRIPTIVE)
    for code, levels in criteria.items():
        for value, n in enumerate(levels, start=1):
            if n:
                counts[(code, str(value))] = n
    for element in ("1", "2", "3", "4", "5"):
        if any(c.startswith(f"{element}.") and sum(v) for c, v in criteria.items()):
            counts[(f"E{element}", "answered")] = 15
    counts[("E*", "answered")] = 15
    return compute(
        counts,
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        completed=15,
        partial=2,
        complaint_ratings=(0, 1, 0, 2, 1),
        language=language,
        **kw,
        questionnaire=Q2640,
    )


RESPONSES = [
    ResponseRow(
        date(2026, 3, 5),
        "1.009994",
        "Xây dựng",
        {
            "info": "portal,staff",
            "trips": "3",
            "1.1": 4,
            "1.2": "5",
            "expect": "faster,online",
            "comment": '=HYPERLINK("http://x") Cần thêm ghế\x0b',
        },
    ),
    ResponseRow(date(2026, 3, 3), None, None, {"timing": "late", "apology": "no", "2.1": 1}),
    ResponseRow(date(2026, 3, 5), "1.009994", None, {"f5": "yes", "5.1": 3, "p.age": "60+"}),
]

COMPLAINTS = [
    # Open, due the day before the local date of the export: overdue.
    ComplaintRow(
        "PA-2026-000001", "capphep", "in_progress", "chat", date(2026, 2, 24),
        date(2026, 3, 10), None, None, False, NAME, PHONE, DESCRIPTION,
    ),
    # Open, due later: not overdue.
    ComplaintRow(
        "PA-2026-000002", "thaido", "new", "hotline", date(2026, 3, 9), date(2026, 3, 16),
        None, None, True, None, None, "Thái độ chưa tốt",
    ),
    # Closed after its due date: overdue; rated.
    ComplaintRow(
        "PA-2026-000003", "phi", "resolved", "chat", date(2026, 2, 20), date(2026, 3, 5),
        date(2026, 3, 6), 4, False, "Trần Văn Bình", "0987654321", "Phí thu sai",
    ),
    # A retired category and a status the catalog does not know are shown as their codes.
    ComplaintRow(
        "PA-2026-000004", "old_category", "archived", "chat", date(2026, 1, 2),
        date(2026, 1, 16), date(2026, 1, 10), None, False, None, None, None,
    ),
]  # fmt: skip


def export(
    report: Report | None = None,
    responses: list[ResponseRow] = RESPONSES,
    complaints: list[ComplaintRow] = COMPLAINTS,
    **kw: Any,
) -> bytes:
    kw.setdefault("agency", AGENCY)
    kw.setdefault("generated_at", GENERATED)
    return export_workbook(report or make_report(), responses, complaints, **kw)


def workbook(data: bytes) -> Workbook:
    return load_workbook(BytesIO(data))


def rows(ws: Worksheet) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def row_by(ws: Worksheet, column: int, value: object) -> list[Any]:
    """The cells of the first row whose ``column`` (0-based) holds ``value``."""
    for row in ws.iter_rows():
        if row[column].value == value:
            return list(row)
    raise AssertionError(f"no row with {value!r} in column {column}")


def all_cell_text(wb: Workbook) -> Iterator[str]:
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            yield from (str(v) for v in row if v is not None)


def package_text(data: bytes) -> str:
    with zipfile.ZipFile(BytesIO(data)) as z:
        return "\n".join(z.read(name).decode("utf-8") for name in z.namelist())


# --- the workbook ----------------------------------------------------------------------------


def test_sheet_names_and_properties() -> None:
    wb = workbook(export())

    assert wb.sheetnames == ["Chỉ số SIPAS", "Chỉ số mô tả", "Phiếu trả lời", "Phản ánh"]
    assert wb.properties.creator == AGENCY
    assert wb.properties.title == "Chỉ số hài lòng (theo phương pháp SIPAS)"


def test_english_sheet_names() -> None:
    wb = workbook(export(make_report(language="en"), language="en"))

    assert wb.sheetnames == ["SIPAS indices", "Descriptive", "Responses", "Complaints"]
    assert row_by(wb["SIPAS indices"], 1, "1.1")[2].value == (
        "The waiting area at the reception and result desk has enough seats."
    )


def test_generated_at_must_carry_its_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        export(generated_at=datetime(2026, 3, 10, 17, 30))


# --- sheet 1: indices ------------------------------------------------------------------------


def test_header_block() -> None:
    report = make_report(procedure="1.009994", field_name="Quy hoạch xây dựng", in_progress=4)
    ws = workbook(export(report))["Chỉ số SIPAS"]

    header = {r[0]: r[3] for r in rows(ws)[:12] if r[0] is not None}
    assert header == {
        AGENCY: None,
        "Chỉ số hài lòng (theo phương pháp SIPAS)": None,
        "Kỳ báo cáo": "01/03/2026–31/03/2026",
        "Phương pháp": Q2640.text("q.method", "vi"),
        "Số phiếu hoàn thành (tính chỉ số)": 15,
        "Số phiếu không hoàn thành: đã hủy hoặc quá hạn (không tính)": 2,
        "Số phiếu đang làm dở, chưa kết thúc (không tính)": 4,
        "Thủ tục": "1.009994",
        "Lĩnh vực": "Quy hoạch xây dựng",
        "Thời điểm lập": "11/03/2026 00:30",
        "STT": "Rất không hài lòng (1)",
    }


def test_table_header_is_frozen() -> None:
    ws = workbook(export())["Chỉ số SIPAS"]

    table = row_by(ws, 0, "STT")
    assert [c.value for c in table] == [
        "STT", "Mã", "Yếu tố / Tiêu chí",
        "Rất không hài lòng (1)", "Không hài lòng (2)", "Bình thường (3)", "Hài lòng (4)",
        "Rất hài lòng (5)", "Số trả lời", "Điểm trung bình", "Chỉ số (%)", "Ghi chú",
    ]  # fmt: skip
    assert ws.freeze_panes == f"A{table[0].row + 1}"
    assert ws.column_dimensions["C"].width > 40
    assert row_by(ws, 1, "1.2")[2].alignment.wrap_text


def test_criterion_rows_hold_the_report_figures_as_numbers() -> None:
    report = make_report()
    ws = workbook(export(report))["Chỉ số SIPAS"]

    as_json = report.to_json()
    checked = 0
    for element in as_json["elements"]:
        for criterion in element["criteria"]:
            cells = row_by(ws, 1, criterion["code"])
            assert cells[2].value == criterion["name"]
            assert [c.value for c in cells[3:8]] == criterion["levels"]
            assert cells[8].value == criterion["base"]
            assert cells[9].value == criterion["mean"]
            assert cells[10].value == criterion["index"]
            checked += 1
    assert checked == 22
    # The figures themselves, worked by hand.
    c11 = row_by(ws, 1, "1.1")
    assert [c.value for c in c11[:11]] == [1, "1.1", c11[2].value, 1, 2, 3, 4, 5, 15, 3.67, 60.0]
    assert isinstance(c11[10].value, int | float)  # a number: "60.0" is read back as 60
    assert c11[10].data_type == "n"
    assert c11[10].number_format == "0.00"
    assert c11[9].number_format == "0.00"
    assert row_by(ws, 1, "5.4")[0].value == 22


def test_element_rows_are_bold_with_index_and_base() -> None:
    report = make_report()
    ws = workbook(export(report))["Chỉ số SIPAS"]

    e1 = row_by(ws, 1, "1")
    assert e1[0].value == "I"
    assert e1[2].value == "Tiếp cận dịch vụ hành chính công"
    assert e1[2].font.bold
    assert e1[8].value == 15
    assert e1[10].value == report.elements[0].index == 66.67
    assert e1[10].number_format == "0.00"
    assert [c.value for c in e1[3:8]] == [None] * 5
    c14 = row_by(ws, 1, "1.4")
    assert (c14[8].value, c14[9].value, c14[10].value) == (0, None, None)
    assert c14[11].value == "Chưa có đánh giá"


def test_an_element_without_answers_has_an_empty_index_and_a_note() -> None:
    ws = workbook(export())["Chỉ số SIPAS"]

    e5 = row_by(ws, 1, "5")
    assert e5[10].value is None
    assert e5[11].value == "Chưa có đánh giá, không tính vào chỉ số chung"


def test_the_overall_index_row() -> None:
    report = make_report()
    ws = workbook(export(report))["Chỉ số SIPAS"]

    overall = row_by(ws, 2, "Chỉ số hài lòng chung")
    assert overall[10].value == report.index == report.to_json()["overall"]["index"] == 76.67
    assert overall[8].value == report.base == 15
    assert overall[10].font.bold
    assert overall[11].value == "Không tính yếu tố chưa có đánh giá: 5"


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["1.1", "1.2", "2.3", "3.6", "4.1", "5.2"]),
        st.tuples(*[st.integers(0, 40)] * 5),
        min_size=1,
    )
)
def test_any_counts_are_written_as_computed(criteria: dict[str, tuple[int, ...]]) -> None:
    report = make_report(criteria)
    ws = workbook(export(report, [], []))["Chỉ số SIPAS"]

    for c in report.criteria():
        cells = row_by(ws, 1, c.code)
        assert [x.value for x in cells[3:11]] == [*c.levels, c.base, c.mean, c.index]
    for e in report.elements:
        assert row_by(ws, 1, e.code)[10].value == e.index
    assert row_by(ws, 2, "Chỉ số hài lòng chung")[10].value == report.index


# --- sheet 2: descriptive --------------------------------------------------------------------


def test_descriptive_figures() -> None:
    ws = workbook(export())["Chỉ số mô tả"]

    def figures(label: str) -> list[Any]:
        return [c.value for c in row_by(ws, 0, label)[1:4]]

    assert figures("Cổng thông tin điện tử / Cổng dịch vụ công") == [12, 15, 80.0]
    assert figures("Qua công chức") == [5, 15, 33.33]
    assert figures("Khác") == [0, 15, 0.0]
    assert figures("1 lần") == [10, 15, 66.67]
    assert figures("4 lần trở lên") == [1, 15, 6.67]
    assert figures("Đến cơ quan từ 3 lần trở lên") == [2, 15, 13.33]
    assert figures("Nhận kết quả muộn hơn hẹn") == [3, 15, 20.0]
    assert figures("Trễ hẹn có phiếu xin lỗi và hẹn lại") == [1, 3, 33.33]
    assert figures("Công chức gây phiền hà, sách nhiễu") == [1, 15, 6.67]
    assert figures("Công chức gợi ý, đòi nộp thêm tiền ngoài quy định") == [0, 15, 0.0]
    # Expectations, most chosen first.
    assert figures("1. Rút ngắn thời gian giải quyết") == [7, 15, 46.67]
    assert figures("2. Ứng dụng CNTT, dịch vụ công trực tuyến") == [4, 15, 26.67]
    assert figures("Hài lòng (4)") == [2, 4, 50.0]
    assert figures("Điểm trung bình") == [None, 4, 3.75]
    assert row_by(ws, 0, "Điểm trung bình")[3].number_format == "0.00"


def test_descriptive_shares_without_a_base_are_empty() -> None:
    empty = compute(
        {},
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        completed=0,
        partial=0,
        questionnaire=Q2640,
    )
    ws = workbook(export(empty, [], []))["Chỉ số mô tả"]

    assert [c.value for c in row_by(ws, 0, "Nhận kết quả muộn hơn hẹn")[1:4]] == [0, 0, None]
    assert [c.value for c in row_by(ws, 0, "Điểm trung bình")[1:4]] == [None, 0, None]


# --- sheet 3: responses ----------------------------------------------------------------------


def test_responses_header_has_no_identifying_column() -> None:
    ws = workbook(export())["Phiếu trả lời"]

    header = rows(ws)[1]
    assert header == RESPONSE_HEADER
    lowered = " ".join(str(h).lower() for h in header)
    for word in ("chat", "token", "biên nhận", "liên hệ", "contact", "receipt", "mã phiếu"):
        assert word not in lowered.replace("giấy biên nhận", "")
    assert not [h for h in header if str(h).lower() in ("id", "mã", "code")]


def test_one_row_per_response_sorted_by_date_then_input_order() -> None:
    ws = workbook(export())["Phiếu trả lời"]

    body = rows(ws)[2:]
    col = {name: i for i, name in enumerate(RESPONSE_HEADER)}
    assert len(body) == 3
    assert [r[0] for r in body] == [1, 2, 3]
    assert [r[1] for r in body] == [
        datetime(2026, 3, 3),
        datetime(2026, 3, 5),
        datetime(2026, 3, 5),
    ]
    second, first, third = body[1], body[0], body[2]
    # The input order within a day is kept: the 5 March survey given first comes first.
    assert second[col["Thủ tục"]] == "1.009994"
    assert second[col["Lĩnh vực"]] == "Xây dựng"
    assert third[col["Lĩnh vực"]] is None
    info = RESPONSE_HEADER[4]
    assert second[col[info]] == "Cổng thông tin điện tử / Cổng dịch vụ công; Qua công chức"
    assert second[col[RESPONSE_HEADER[5]]] == "3 lần"
    assert (second[col["1.1"]], second[col["1.2"]], second[col["1.3"]]) == (4, 5, None)
    assert second[col["Theo Ông/Bà, cơ quan cần cải thiện những mặt nào?"]] == (
        "Rút ngắn thời gian giải quyết; Ứng dụng CNTT, dịch vụ công trực tuyến"
    )
    assert first[col[RESPONSE_HEADER[6]]] == "Muộn hơn hẹn"
    assert first[col[RESPONSE_HEADER[7]]] == "Không"
    assert first[col["2.1"]] == 1
    assert third[col["5.1"]] == 3
    assert third[col["Nhóm tuổi"]] == "Trên 60"
    assert ws.cell(3, 2).number_format == "DD/MM/YYYY"


def test_text_that_looks_like_a_formula_stays_text() -> None:
    data = export()
    ws = workbook(data)["Phiếu trả lời"]

    comment = RESPONSE_HEADER.index(
        'Ông/Bà có ý kiến nào khác không? Xin gõ ý kiến của Ông/Bà, hoặc bấm "Bỏ qua".'
    )
    second = rows(ws)[3]  # RESPONSES[0], after the one of 3 March
    assert second[comment] == '=HYPERLINK("http://x") Cần thêm ghế'  # control character dropped
    with zipfile.ZipFile(BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        assert not [n for n in sheets if b"<f>" in z.read(n)]


# --- sheet 4: complaints ---------------------------------------------------------------------

SCOPE = "gồm phản ánh tiếp nhận trong kỳ và mọi phản ánh tiếp nhận trước đó còn mở vào cuối kỳ"
OVERDUE = 11  # the column "Quá hạn"


def test_complaints_without_personal_data_by_default() -> None:
    data = export()
    wb = workbook(data)
    ws = wb["Phản ánh"]

    assert rows(ws)[0][0] == f"Danh sách phản ánh, kiến nghị — {SCOPE}"
    assert rows(ws)[1] == [
        "Mã phản ánh", "Loại", "Trạng thái", "Nguồn", "Ngày tiếp nhận",
        "Hạn chuyển (nếu ngoài thẩm quyền)", "Hạn báo thụ lý", "Hạn giải quyết",
        "Đã chuyển đến", "Ngày chuyển", "Ngày kết thúc", "Quá hạn", "Đánh giá (1–5)", "Ẩn danh",
    ]  # fmt: skip
    secrets = [NAME, PHONE, DESCRIPTION, "Trần Văn Bình", "0987654321", "Phí thu sai"]
    secrets += ["Thái độ chưa tốt"]
    text = list(all_cell_text(wb))
    package = package_text(data)
    for secret in secrets:
        assert not [t for t in text if secret in t], secret
        assert secret not in package, secret


def test_complaint_rows() -> None:
    ws = workbook(export())["Phản ánh"]

    body = rows(ws)[2:]
    assert body[0] == [
        "PA-2026-000001", "Cấp phép xây dựng", "Đang xử lý", "Chatbot",
        datetime(2026, 2, 24), None, None, datetime(2026, 3, 10), None, None, None,
        "Có: giải quyết", None, "Không",
    ]  # fmt: skip
    assert body[1][1:4] == ["Thái độ giao tiếp của công chức", "Mới tiếp nhận", "Đường dây nóng"]
    assert (body[1][OVERDUE], body[1][13]) == ("Không", "Có")  # due on the 16th; anonymous
    assert (body[2][2], body[2][10], body[2][OVERDUE], body[2][12]) == (
        "Đã giải quyết", datetime(2026, 3, 6), "Có: giải quyết", 4,
    )  # fmt: skip
    assert body[3][1:3] == ["old_category", "archived"]
    assert body[3][OVERDUE] == "Không"


def test_overdue_uses_the_local_date() -> None:
    # At 16:30 UTC it is still 10 March in Vietnam: the case due on the 10th is not late yet.
    ws = workbook(export(generated_at=datetime(2026, 3, 10, 16, 30, tzinfo=UTC)))["Phản ánh"]

    assert rows(ws)[2][OVERDUE] == "Không"


# A new case received 24/02 (the export is on 11/03, local): forward by 03/03, tell the
# sender by 10/03, resolve by 16/03.
_NEW = dataclasses.replace(
    COMPLAINTS[1], accept_due_on=date(2026, 3, 10), forward_due_on=date(2026, 3, 3)
)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (_NEW, "Có: chuyển cơ quan có thẩm quyền, báo thụ lý"),
        (dataclasses.replace(_NEW, forwarded_to="UBND phường"), "Có: báo thụ lý"),
        # Taken on 02/03 (the sender told), then handed back: "new" again, owes neither.
        (dataclasses.replace(_NEW, accepted_at=datetime(2026, 3, 2, 3, tzinfo=UTC)), "Không"),
        (dataclasses.replace(_NEW, status="in_progress"), "Không"),
        (
            dataclasses.replace(_NEW, due_on=date(2026, 3, 9)),
            "Có: chuyển cơ quan có thẩm quyền, giải quyết, báo thụ lý",
        ),
        (dataclasses.replace(_NEW, status="resolved", closed_on=date(2026, 3, 9)), "Không"),
    ],
    ids=["forward-accept", "forwarded", "handed-back", "taken", "all-three", "closed-on-time"],
)
def test_the_overdue_column_names_the_deadlines_the_staff_list_counts(
    case: ComplaintRow, expected: str
) -> None:
    ws = workbook(export(complaints=[case]))["Phản ánh"]

    assert rows(ws)[2][OVERDUE] == expected


def test_the_three_deadlines_and_the_forwarding_have_their_columns() -> None:
    case = dataclasses.replace(
        _NEW, forwarded_to="UBND phường Tiền Phong", forwarded_on=date(2026, 3, 2)
    )
    row = rows(workbook(export(complaints=[case]))["Phản ánh"])[2]

    assert row[5:10] == [
        datetime(2026, 3, 3), datetime(2026, 3, 10), datetime(2026, 3, 16),
        "UBND phường Tiền Phong", datetime(2026, 3, 2),
    ]  # fmt: skip


def test_the_full_register_adds_personal_data_and_says_so() -> None:
    wb = workbook(export(full_register=True))
    ws = wb["Phản ánh"]

    assert rows(ws)[0][0] == (
        f"Danh sách phản ánh, kiến nghị — {SCOPE} — Sổ đầy đủ — có thông tin cá nhân"
    )
    assert rows(ws)[1][-3:] == ["Họ tên", "Số điện thoại", "Nội dung"]
    assert rows(ws)[2][-3:] == [NAME, PHONE, DESCRIPTION]
    assert rows(ws)[3][-3:] == [None, None, "Thái độ chưa tốt"]
    # Still nothing personal on the other sheets.
    others = [str(v) for s in wb.worksheets if s.title != "Phản ánh" for r in rows(s) for v in r]
    assert not [t for t in others if NAME in t or PHONE in t]


# --- LibreOffice -----------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_file(tmp_path: Path) -> None:
    assert SOFFICE is not None
    source = tmp_path / "export.xlsx"
    source.write_bytes(export(full_register=True))

    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",  # no shared profile lock
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    csv = (tmp_path / "export.csv").read_text(encoding="utf-8")
    assert csv.splitlines()[0].startswith(AGENCY)
    # Shown as formatted: two decimals (the C locale's point in a headless run).
    assert "60.00" in csv
    assert "76.67" in csv


@pytest.mark.parametrize(
    "description",
    [
        " ".join(["Nhà số 12 ngõ 5 bị cấp phép sai ranh giới"] * 48),  # 2,000 characters
        "\n".join(f"Dòng {i}" for i in range(60)),  # 60 short lines
        "\n" * 1999 + "x",
    ],
    ids=["long", "many-lines", "newlines"],
)
def test_long_text_rows_stay_within_excels_tallest_row(description: str) -> None:
    complaint = dataclasses.replace(COMPLAINTS[0], description=description)
    ws = workbook(export(complaints=[complaint], full_register=True))["Phản ánh"]
    cell = ws.cell(row=3, column=17)  # "Nội dung", after the 14 columns and name, phone
    assert cell.value == description  # the whole text stays in the cell
    assert cell.alignment.wrap_text
    assert ws.row_dimensions[3].height == 409  # as tall as Excel allows, no taller


def test_a_1001_export_states_its_method_and_the_submission_channels() -> None:
    """Like the report and the digest, the workbook names the method its figures come from,
    on both summary sheets; QĐ 1001's submission question gets its own table; the harassment
    and extra-payment rows say what QĐ 1001 asks (how common, not "happened to me")."""
    q = load_questionnaire("sipas-1001")
    counts = {
        ("channel", "inperson"): 6,
        ("channel", "online_partial"): 3,
        ("channel", "online_full"): 1,
        ("harass", "some"): 2,
        ("harass", "none"): 8,
        ("payment", "many"): 1,
        ("payment", "none"): 9,
    }
    report = compute(counts, start=date(2026, 3, 1), end=date(2026, 3, 31), completed=10,
                     partial=0, questionnaire=q)  # fmt: skip
    wb = workbook(export(report, responses=[]))
    method = q.text("q.method", "vi")
    assert method.startswith("Quyết định 1001/QĐ-BNV")
    assert row_by(wb["Chỉ số SIPAS"], 0, "Phương pháp")[3].value == method
    ws = wb["Chỉ số mô tả"]
    assert f"Phương pháp: {method}" in [r[0] for r in rows(ws)]

    def figures(label: str) -> list[Any]:
        return [c.value for c in row_by(ws, 0, label)[1:4]]

    assert row_by(ws, 0, "Hình thức nộp hồ sơ")
    assert figures("Trực tiếp tại cơ quan") == [6, 10, 60.0]
    assert figures("Trực tuyến một phần") == [3, 10, 30.0]
    assert figures("Trực tuyến toàn trình") == [1, 10, 10.0]
    assert figures("Qua dịch vụ bưu chính") == [0, 10, 0.0]
    assert figures("Cho biết có tình trạng công chức gây phiền hà, sách nhiễu") == [2, 10, 20.0]
    assert figures("Cho biết có tình trạng phải nộp thêm tiền ngoài phí, lệ phí") == [1, 10, 10.0]
    labels = [r[0] for r in rows(ws)]
    assert "Công chức gây phiền hà, sách nhiễu" not in labels


def test_a_2640_export_has_no_submission_table() -> None:
    ws = workbook(export())["Chỉ số mô tả"]
    labels = [r[0] for r in rows(ws)]
    assert "Hình thức nộp hồ sơ" not in labels
    assert f"Phương pháp: {Q2640.text('q.method', 'vi')}" in labels
