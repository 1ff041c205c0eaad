"""What the digest and report messages say: titles, weakest criteria, counts (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from conversations import default_catalog, load_questionnaire
from conversations.periods import DigestKind, Period
from jobs.digest import CaseSummary, build_digest, report_lines
from jobs.sipas_index import compute

#: These tests build reports from hand-made counts of the 2640 criteria (22).
Q2640 = load_questionnaire("sipas-2640")

CATALOG = default_catalog()
AGENCY = "Sở Xây dựng"

# kind, first day, last day: the digest of a whole period, or of one still running.
TITLES: list[tuple[DigestKind, date, date, str, str]] = [
    ("daily", date(2026, 11, 5), date(2026, 11, 5),
     "BẢN TIN NGÀY 05/11/2026", "DAILY DIGEST 05/11/2026"),
    ("weekly", date(2026, 11, 2), date(2026, 11, 8),
     "BẢN TIN TUẦN 02/11–08/11/2026", "WEEKLY DIGEST 02/11–08/11/2026"),
    ("weekly", date(2026, 12, 28), date(2027, 1, 3),
     "BẢN TIN TUẦN 28/12/2026–03/01/2027", "WEEKLY DIGEST 28/12/2026–03/01/2027"),
    ("weekly", date(2026, 11, 2), date(2026, 11, 4),
     "BẢN TIN TUẦN 02/11–08/11/2026 (số liệu đến hết 04/11/2026)",
     "WEEKLY DIGEST 02/11–08/11/2026 (figures to 04/11/2026)"),
    ("monthly", date(2026, 11, 1), date(2026, 11, 30),
     "BẢN TIN THÁNG 11/2026", "MONTHLY DIGEST 11/2026"),
    # On the 1st, the month so far is a single day: the title still names the month.
    ("monthly", date(2026, 11, 1), date(2026, 11, 1),
     "BẢN TIN THÁNG 11/2026 (số liệu đến hết 01/11/2026)",
     "MONTHLY DIGEST 11/2026 (figures to 01/11/2026)"),
    ("monthly", date(2026, 2, 1), date(2026, 2, 28),
     "BẢN TIN THÁNG 02/2026", "MONTHLY DIGEST 02/2026"),
    ("halfyear", date(2026, 1, 1), date(2026, 6, 30),
     "BÁO CÁO 6 THÁNG ĐẦU NĂM 2026", "SIX-MONTH REPORT, JANUARY–JUNE 2026"),
    ("halfyear", date(2026, 7, 1), date(2026, 12, 31),
     "BÁO CÁO 6 THÁNG CUỐI NĂM 2026", "SIX-MONTH REPORT, JULY–DECEMBER 2026"),
    ("yearly", date(2026, 1, 1), date(2026, 12, 31),
     "BÁO CÁO NĂM 2026", "ANNUAL REPORT 2026"),
    ("yearly", date(2026, 1, 1), date(2026, 3, 15),
     "BÁO CÁO NĂM 2026 (số liệu đến hết 15/03/2026)", "ANNUAL REPORT 2026 (figures to 15/03/2026)"),
]  # fmt: skip


def title(kind: DigestKind, start: date, end: date, lang: str) -> str:
    report = compute({}, start=start, end=end, completed=0, partial=0, questionnaire=Q2640)
    reply = build_digest(kind, Period(start, end), report, None, CaseSummary(), AGENCY)
    return CATALOG.render(reply, lang).text.split("\n")[0]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_digest_title_names_its_period(lang: str) -> None:
    # The whole table at once: a dict diff shows every title that is wrong.
    got = {(k, s, e): title(k, s, e, lang) for k, s, e, _, _ in TITLES}
    wanted = {(k, s, e): f"{vi if lang == 'vi' else en} — {AGENCY}" for k, s, e, vi, en in TITLES}
    assert got == wanted


def _levels(criteria: dict[str, list[int]]) -> dict[tuple[str, str], int]:
    return {
        (code, str(value)): n
        for code, ns in criteria.items()
        for value, n in enumerate(ns, start=1)
        if n
    }


FULL, HALF, THIRD, QUARTER, NONE = [0, 0, 0, 1, 3], [1, 0, 0, 1, 0], [2, 0, 0, 1, 0], [3, 0, 0, 0, 1], [0, 2, 0, 0, 0]  # fmt: skip
# criteria answered -> the weakest-criteria section of the digest (codes listed)
WEAKEST: list[tuple[str, dict[str, list[int]], list[str]]] = [
    ("all at 100%", {"1.1": FULL, "2.1": FULL, "3.1": FULL},
     ["Mọi tiêu chí có đánh giá đều đạt 100%."]),
    ("one below", {"1.1": FULL, "2.1": HALF, "3.1": FULL, "4.1": FULL},
     ["Tiêu chí thấp nhất (tiêu chí duy nhất dưới 100%):", "2.1"]),
    ("two below", {"1.1": FULL, "2.1": HALF, "3.1": QUARTER, "4.1": FULL},
     ["2 tiêu chí thấp nhất:", "3.1", "2.1"]),
    ("four below", {"1.1": HALF, "2.1": THIRD, "3.1": QUARTER, "4.1": NONE, "5.1": FULL},
     ["3 tiêu chí thấp nhất:", "4.1", "3.1", "2.1"]),
    ("no answers", {}, []),
]  # fmt: skip


def weakest_section(criteria: dict[str, list[int]], lang: str = "vi") -> list[str]:
    start = end = date(2026, 11, 5)
    report = compute(
        _levels(criteria), start=start, end=end, completed=4, partial=0, questionnaire=Q2640
    )
    return [
        str(line.param("code")) if line.key == "digest.weakest" else CATALOG.render(line, lang).text
        for line in report_lines(report, None)
        if line.key.startswith("digest.weakest")
    ]


def test_weakest_criteria_leave_out_those_at_100_percent() -> None:
    got = {name: weakest_section(criteria) for name, criteria, _ in WEAKEST}
    assert got == {name: lines for name, _, lines in WEAKEST}
    assert weakest_section({"1.1": FULL, "2.1": FULL}, "en") == [
        "Every rated criterion is at 100%."
    ]
    assert weakest_section({"1.1": HALF, "2.1": THIRD}, "en") == [
        "The 2 weakest criteria:",
        "2.1",
        "1.1",
    ]


def test_the_complaint_rating_mean_is_rounded_half_up_once() -> None:
    def shown(ratings: tuple[int, int, int, int, int]) -> str:
        start = date(2026, 11, 5)
        report = compute({}, start=start, end=start, completed=0, partial=0,
                         complaint_ratings=ratings, questionnaire=Q2640)  # fmt: skip
        (line,) = [r for r in report_lines(report, None) if r.key == "digest.complaint_ratings"]
        return CATALOG.render(line, "vi").text

    table = {
        (0, 0, 0, 13, 7): "trung bình 4,4/5 (20 lượt)",  # 87/20 = 4.35: a tie, rounded up
        (0, 0, 0, 751, 249): "trung bình 4,2/5 (1000 lượt)",  # 4.249, never 4.25 then 4.3
        (0, 0, 0, 3, 1): "trung bình 4,3/5 (4 lượt)",  # 4.25
    }
    assert {r: shown(r).split(": ", 1)[1] for r in table} == table


def test_the_digest_lists_open_and_overdue_cases_per_officer() -> None:
    from jobs.digest import case_lines

    cases = CaseSummary(open=4, officers=(("An", 2, 1), ("Bình", 1, 0), (None, 1, 1)))
    catalog = default_catalog()
    vi = [catalog.render(r, "vi").text for r in case_lines(cases)]
    en = [catalog.render(r, "en").text for r in case_lines(cases)]
    assert vi[-3:] == [
        "• An: 2 đang mở, 1 quá hạn",
        "• Bình: 1 đang mở, 0 quá hạn",
        "• Chưa có ai nhận: 1 đang mở, 1 quá hạn",
    ]
    assert en[-1] == "• Nobody yet: 1 open, 1 overdue"
    assert case_lines(CaseSummary(open=2))[-1].key == "digest.cases"  # nobody took any: no list


# The harassment and extra-payment questions: QĐ 2640 asks what happened to the person, QĐ
# 1001 how common such conduct is; the red-flag line words the counts as its question did.
FLAG_WORDING = [
    ("sipas-2640", {("harass", "yes"): 1, ("payment", "yes"): 2},
     "2 người bị gợi ý, đòi tiền ngoài quy định; 1 người bị gây phiền hà"),
    ("sipas-1001", {("harass", "some"): 1, ("payment", "many"): 2},
     "2 người cho biết có tình trạng phải nộp thêm tiền ngoài phí, lệ phí; 1 người cho biết có"
     " tình trạng công chức gây phiền hà, sách nhiễu"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "counts", "wording"), FLAG_WORDING, ids=["2640", "1001"])
def test_the_red_flags_are_worded_as_the_question_asked(
    method: str, counts: dict[tuple[str, str], int], wording: str
) -> None:
    start = date(2026, 11, 5)
    report = compute(counts, start=start, end=start, completed=3, partial=0,
                     questionnaire=load_questionnaire(method))  # fmt: skip
    lines = [CATALOG.render(r, "vi").text for r in report_lines(report, None)]
    (flags,) = [line for line in lines if line.startswith("Cảnh báo")]
    assert flags.endswith(wording)
    if method == "sipas-1001":
        assert "bị gợi ý" not in flags
        assert "bị gây phiền hà" not in flags


def test_the_digest_says_which_deadline_each_overdue_case_missed() -> None:
    from conversations.deadlines import Missed
    from jobs.digest import case_lines

    forward, accept = Missed("forward", date(2026, 3, 6)), Missed("accept", date(2026, 3, 13))
    resolve = Missed("resolve", date(2026, 3, 18))
    cases = CaseSummary(
        open=9,
        listed=2,
        overdue=(
            ("PA-2026-000001", (forward, accept)),
            ("PA-2026-000002", (forward,)),
            ("PA-2026-000003", (forward, resolve)),
            ("PA-2026-000004", (resolve,)),
        ),
    )
    vi = [CATALOG.render(r, "vi").text for r in case_lines(cases)]
    en = [CATALOG.render(r, "en").text for r in case_lines(cases)]
    assert vi[1:] == [
        "⚠ Quá hạn: 4 (PA-2026-000001, PA-2026-000002, +2)",
        "   – Quá hạn chuyển cơ quan có thẩm quyền (5 ngày làm việc): 3"
        " (PA-2026-000001, PA-2026-000002, +1)",
        "   – Quá hạn báo thụ lý cho người gửi (10 ngày làm việc): 1 (PA-2026-000001)",
        "   – Quá hạn giải quyết: 2 (PA-2026-000003, PA-2026-000004)",
    ]
    assert en[3] == (
        "   – Missed deadline to tell the sender it is accepted (10 working days): 1"
        " (PA-2026-000001)"
    )
