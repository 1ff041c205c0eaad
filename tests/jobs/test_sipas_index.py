"""The index formula of SIPAS.md, on the worked example and hand-computed cases."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from conversations import load_questionnaire
from jobs.sipas_index import Report, answer_counts, compute, criterion_index

#: These tests build reports from hand-made counts of the 2640 criteria (22).
Q2640 = load_questionnaire("sipas-2640")

D1, D2 = date(2026, 1, 1), date(2026, 6, 30)


def _counts(
    levels: dict[str, list[int]], answered: dict[str, int] | None = None
) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for code, ns in levels.items():
        for value, n in enumerate(ns, start=1):
            if n:
                counts[(code, str(value))] = n
    for key, n in (answered or {}).items():
        counts[(key, "answered")] = n
    return counts


def test_worked_example_of_sipas_md() -> None:
    counts = _counts(
        {
            "5.1": [2, 4, 14, 30, 10],
            "5.2": [3, 5, 12, 30, 10],
            "5.3": [4, 6, 14, 26, 10],
            "5.4": [5, 8, 15, 22, 10],
        },
        {"E5": 60, "E*": 60},
    )
    report = compute(counts, start=D1, end=D2, completed=60, partial=0, questionnaire=Q2640)
    element = report.elements[4]
    assert [c.index for c in element.criteria] == [66.67, 66.67, 60.0, 53.33]
    assert element.index == 61.67
    assert report.index == 61.67  # the only element with answers
    assert report.without_answers == ("1", "2", "3", "4")


@pytest.mark.parametrize(
    ("levels", "index", "mean", "base"),
    [
        ([0, 0, 0, 1, 1], 100.0, 4.5, 2),
        ([1, 1, 1, 1, 0], 25.0, 2.5, 4),
        ([0, 0, 3, 0, 0], 0.0, 3.0, 3),
        ([0, 0, 0, 0, 0], None, None, 0),
        ([1, 0, 0, 0, 2], 66.67, 3.67, 3),
    ],
    ids=["all-satisfied", "quarter", "neutral-counts-against", "no-answers", "rounding"],
)
def test_criterion_index(
    levels: list[int], index: float | None, mean: float | None, base: int
) -> None:
    found = criterion_index("1.1", _counts({"1.1": levels}))
    assert (found.index, found.mean, found.base) == (index, mean, base)


def test_skips_are_not_in_the_base_and_means_are_of_unrounded_indices() -> None:
    # Element 1: 1.1 = 2/3 satisfied (66.666…), 1.2 = 1/3 (33.333…), 1.3 skipped by all,
    # 1.4 = 1/1. Element index = mean of the three answered criteria = 66.666… -> 66.67
    counts = _counts(
        {"1.1": [1, 0, 0, 1, 1], "1.2": [0, 2, 0, 1, 0], "1.4": [0, 0, 0, 0, 1]},
        {"E1": 3, "E*": 3},
    )
    report = compute(counts, start=D1, end=D2, completed=3, partial=5, questionnaire=Q2640)
    e1 = report.elements[0]
    assert [c.base for c in e1.criteria] == [3, 3, 0, 1]
    assert e1.criteria[2].index is None
    assert e1.index == 66.67
    assert report.index == 66.67
    assert report.completed == 3
    assert report.partial == 5  # counted separately, never in a base
    assert report.base == 3


def test_overall_is_the_mean_of_elements_not_of_criteria() -> None:
    counts = _counts({"1.1": [0, 0, 0, 0, 4], "2.1": [4, 0, 0, 0, 0], "2.2": [4, 0, 0, 0, 0]})
    report = compute(counts, start=D1, end=D2, completed=4, partial=0, questionnaire=Q2640)
    assert report.elements[0].index == 100.0
    assert report.elements[1].index == 0.0
    assert report.index == 50.0  # not 33.33 (the mean over the three criteria)


def test_json_follows_the_contract() -> None:
    counts = _counts({"1.1": [0, 0, 1, 2, 1]}, {"E1": 4, "E*": 4})
    data = compute(counts, start=D1, end=D2, completed=4, partial=1, questionnaire=Q2640).to_json()
    assert data["from"] == "2026-01-01"
    assert data["to"] == "2026-06-30"
    assert (data["completed"], data["partial"]) == (4, 1)
    assert data["overall"] == {"index": 75.0, "base": 4}
    first = data["elements"][0]
    assert first["name"] == "Tiếp cận dịch vụ hành chính công"
    assert first["criteria"][0] == {
        "code": "1.1", "name": first["criteria"][0]["name"], "index": 75.0, "base": 4,
        "mean": 4.0, "levels": [0, 0, 1, 2, 1],
    }  # fmt: skip


def test_answer_counts_explodes_one_survey() -> None:
    counts = answer_counts(
        {"1.1": 4, "1.2": 5, "5.1": 2, "info": "portal,staff", "trips": "3", "comment": "tốt"}
    )
    assert counts == {
        ("1.1", "4"): 1, ("1.2", "5"): 1, ("E1", "answered"): 1, ("5.1", "2"): 1,
        ("E5", "answered"): 1, ("E*", "answered"): 1, ("info", "portal"): 1,
        ("info", "staff"): 1, ("trips", "3"): 1,
    }  # fmt: skip


def test_descriptive_shares() -> None:
    counts = {
        ("trips", "1"): 6, ("trips", "3"): 3, ("trips", "4"): 1,
        ("timing", "ontime"): 8, ("timing", "late"): 2, ("apology", "yes"): 1, ("apology", "no"): 1,
        ("payment", "yes"): 1, ("payment", "no"): 9, ("expect", "faster"): 5, ("expect", "fees"): 7,
    }  # fmt: skip
    d = compute(counts, start=D1, end=D2, completed=10, partial=0, questionnaire=Q2640).descriptive
    assert d.three_or_more_trips.percent == 40.0
    assert d.late.percent == 20.0
    assert d.late_with_apology.percent == 50.0
    assert d.unofficial_payment.count == 1
    assert d.expectations[:2] == (("fees", 7), ("faster", 5))


@pytest.mark.parametrize(
    ("levels", "index", "mean"),
    [
        ([799, 0, 0, 1, 0], 0.13, 1.0),  # 1 of 800 is 0.125: round() would give 0.12
        ([0, 0, 0, 7, 1], 100.0, 4.13),  # mean 33/8 = 4.125: round() would give 4.12
    ],
)
def test_figures_are_rounded_half_up(levels: list[int], index: float, mean: float) -> None:
    found = criterion_index("1.1", _counts({"1.1": levels}))
    assert (found.index, found.mean) == (index, mean)


def test_shares_and_complaint_means_are_rounded_half_up() -> None:
    counts = {("timing", "late"): 1, ("timing", "ontime"): 799}
    d = compute(
        counts,
        start=D1,
        end=D2,
        completed=800,
        partial=0,
        complaint_ratings=(0, 0, 0, 7, 1),
        questionnaire=Q2640,
    ).descriptive
    assert d.late.percent == 0.13
    assert d.complaint_rating_mean == 4.13  # 33/8 = 4.125


#: The method in force (QĐ 1001/QĐ-BNV): its 19 criteria, and the descriptive questions only
#: it asks (how the dossier was submitted, how common harassment and extra payments are).
Q1001 = load_questionnaire("sipas-1001")


def _contract_report() -> Report:
    counts = _counts(
        {"1.1": [0, 1, 1, 2, 4], "1.2": [1, 0, 0, 0, 1], "2.1": [0, 0, 3, 0, 0]},
        {"E1": 8, "E2": 3, "E*": 9},
    )
    counts.update({
        ("info", "portal"): 5, ("info", "staff"): 2, ("info", "posted"): 2,
        ("channel", "online_full"): 3, ("channel", "inperson"): 1,
        ("trips", "1"): 4, ("trips", "2"): 2, ("trips", "3"): 1, ("trips", "4"): 1,
        ("trips", "0"): 1,
        ("timing", "early"): 1, ("timing", "ontime"): 5, ("timing", "late"): 3,
        ("apology", "yes"): 2, ("apology", "no"): 1,
        ("harass", "none"): 6, ("harass", "some"): 1, ("harass", "many"): 1,
        ("payment", "none"): 7, ("payment", "many"): 1,
        ("expect", "fees"): 4, ("expect", "faster"): 4, ("expect", "online"): 1,
    })  # fmt: skip
    return compute(
        counts, start=D1, end=D2, completed=9, partial=2, in_progress=1,
        complaint_ratings=(1, 0, 0, 2, 1), procedure="1.009994", field_name="Xây dựng",
        questionnaire=Q1001,
    )  # fmt: skip


def test_the_whole_report_json_is_the_contract() -> None:
    """Every key and value of the report JSON (DESIGN.md's interface contract: other tools
    read it), worked by hand; the descriptive options in their ranked order."""
    data = _contract_report().to_json()

    def criterion(
        code: str, index: float | None, mean: float | None, levels: list[int]
    ) -> dict[str, Any]:
        name = Q1001.text(f"q.{code}", "vi")
        return {"code": code, "name": name, "index": index, "base": sum(levels), "mean": mean,
                "levels": levels}  # fmt: skip

    def element(
        code: str, index: float | None, base: int, criteria: list[dict[str, Any]]
    ) -> dict[str, Any]:
        name = Q1001.text(f"element.{code}", "vi")
        return {"code": code, "name": name, "index": index, "base": base, "criteria": criteria}

    def unrated(*codes: str) -> list[dict[str, Any]]:
        return [criterion(code, None, None, [0, 0, 0, 0, 0]) for code in codes]

    expected: dict[str, Any] = {
        "method": "sipas-1001",
        "method_name": "Quyết định 1001/QĐ-BNV (phương pháp 2023–2026, 19 tiêu chí dịch vụ)",
        "from": "2026-01-01",
        "to": "2026-06-30",
        "completed": 9,
        "partial": 2,
        "in_progress": 1,
        "procedure": "1.009994",
        "field": "Xây dựng",
        # mean of the elements' unrounded indices: (62.5 + 0) / 2
        "overall": {"index": 31.25, "base": 9},
        "elements": [
            element("1", 62.5, 8, [
                criterion("1.1", 75.0, 4.13, [0, 1, 1, 2, 4]),  # 33/8 = 4.125 -> 4.13
                criterion("1.2", 50.0, 3.0, [1, 0, 0, 0, 1]),
                *unrated("1.3", "1.4"),
            ]),
            element("2", 0.0, 3, [criterion("2.1", 0.0, 3.0, [0, 0, 3, 0, 0]),
                                  *unrated("2.2", "2.3", "2.4")]),
            element("3", None, 0, unrated("3.1", "3.2", "3.3", "3.4", "3.5")),
            element("4", None, 0, unrated("4.1", "4.2", "4.3")),
            element("5", None, 0, unrated("5.1", "5.2", "5.3")),
        ],
        "elements_without_answers": ["3", "4", "5"],
        "descriptive": {
            "channels": {"portal": 5, "posted": 2, "staff": 2, "family": 0, "media": 0,
                         "other": 0},
            "submission": {"online_full": 3, "inperson": 1, "online_partial": 0, "post": 0},
            "trips": {"1": 4, "2": 2, "3": 1, "4": 1, "0": 1},
            "three_or_more_trips": {"count": 2, "base": 9, "percent": 22.22},
            "late": {"count": 3, "base": 9, "percent": 33.33},
            "late_with_apology": {"count": 2, "base": 3, "percent": 66.67},
            # 1001 asks how common: "some" and "many" count as met
            "harassment": {"count": 2, "base": 8, "percent": 25.0},
            "unofficial_payment": {"count": 1, "base": 8, "percent": 12.5},
            "expectations": {"faster": 4, "fees": 4, "online": 1, "info": 0, "facility": 0,
                             "transparency": 0, "simplify": 0, "attitude": 0, "skills": 0,
                             "feedback": 0},
            "complaint_ratings": {"levels": [1, 0, 0, 2, 1], "base": 4, "mean": 3.5},
        },
    }  # fmt: skip
    assert data == expected
    # dict equality ignores order; the ranked lists are read in order by the reports
    for key in ("channels", "submission", "trips", "expectations"):
        assert list(data["descriptive"][key]) == list(expected["descriptive"][key]), key
    assert list(data) == list(expected)


def test_a_report_without_names_shows_the_codes() -> None:
    report = dataclasses.replace(_contract_report(), names={})
    element = report.to_json()["elements"][0]
    assert (element["name"], element["criteria"][0]["name"]) == ("1", "1.1")


def test_shares_and_means_of_nothing_are_none() -> None:
    empty = compute({}, start=D1, end=D2, completed=0, partial=0, questionnaire=Q1001)
    data = empty.to_json()
    assert data["overall"] == {"index": None, "base": 0}
    assert data["descriptive"]["late"] == {"count": 0, "base": 0, "percent": None}
    assert data["descriptive"]["complaint_ratings"] == {
        "levels": [0, 0, 0, 0, 0], "base": 0, "mean": None,
    }  # fmt: skip
    assert data["elements_without_answers"] == ["1", "2", "3", "4", "5"]


def test_weakest_lists_three_lowest_and_on_a_tie_the_one_more_people_rated_first() -> None:
    counts = _counts(
        {
            "1.1": [1, 0, 0, 1, 0],  # 50 %, base 2
            "1.2": [2, 0, 0, 2, 0],  # 50 %, base 4: listed before 1.1
            "1.3": [1, 0, 0, 0, 3],  # 75 %
            "1.4": [0, 0, 1, 0, 9],  # 90 %
            "2.1": [0, 0, 0, 0, 5],  # 100 %: never listed
        }
    )
    report = compute(counts, start=D1, end=D2, completed=10, partial=0, questionnaire=Q1001)
    assert [c.code for c in report.weakest()] == ["1.2", "1.1", "1.3"]
    assert [c.code for c in report.weakest(5)] == ["1.2", "1.1", "1.3", "1.4"]


def test_a_report_in_english_names_elements_criteria_and_method_in_english() -> None:
    counts = _counts({"1.1": [0, 0, 0, 0, 1]})
    english = compute(
        counts, start=D1, end=D2, completed=1, partial=0, questionnaire=Q1001, language="en"
    ).to_json()
    assert english["method_name"] == Q1001.text("q.method", "en")
    assert english["method_name"].startswith("Decision 1001/QĐ-BNV")
    assert english["elements"][0]["name"] == "Access to the service"
    assert english["elements"][0]["criteria"][0]["name"] == Q1001.text("q.1.1", "en")
    vietnamese = compute(counts, start=D1, end=D2, completed=1, partial=0, questionnaire=Q1001)
    assert vietnamese.to_json()["elements"][0]["name"] == Q1001.text("element.1", "vi")
    assert vietnamese.in_progress == 0  # none unless told


def test_trip_counts_show_zero_for_an_option_nobody_chose() -> None:
    counts = {("trips", "1"): 3}
    d = compute(counts, start=D1, end=D2, completed=3, partial=0, questionnaire=Q1001).descriptive
    assert d.trips == (("1", 3), ("2", 0), ("3", 0), ("4", 0), ("0", 0))
    assert (d.three_or_more_trips.count, d.three_or_more_trips.base) == (0, 3)


def test_yes_no_shares_count_every_answer_in_the_base() -> None:
    # QĐ 2640 asks yes / no: both are in the base, "yes" in the count
    counts = {("payment", "yes"): 1, ("payment", "no"): 9, ("harass", "yes"): 2}
    d = compute(counts, start=D1, end=D2, completed=10, partial=0, questionnaire=Q2640).descriptive
    assert (d.unofficial_payment.count, d.unofficial_payment.base) == (1, 10)
    assert (d.harassment.count, d.harassment.base) == (2, 2)


def test_answer_counts_without_ratings_and_with_a_question_left_out() -> None:
    # no rated criterion: no element, and not "any element", was answered
    counts = answer_counts({"trips": "2", "expect": "fees"}, Q1001)
    assert counts == {("trips", "2"): 1, ("expect", "fees"): 1}
    # "channel", the first question, was not asked: the later ones still count
    counts = answer_counts({"info": "portal", "payment": "none"}, Q1001)
    assert counts == {("info", "portal"): 1, ("payment", "none"): 1}


def test_a_questionnaire_without_the_trips_question_counts_trips_one_to_four() -> None:
    # A method whose form does not ask the number of trips (none of the two shipped ones):
    # the report still has the four trip counts SIPAS.md names, all from the counts given.
    without = dataclasses.replace(Q2640, steps=tuple(s for s in Q2640.steps if s.id != "trips"))
    counts = {("trips", "1"): 1, ("trips", "2"): 2, ("trips", "3"): 3, ("trips", "4"): 4}
    d = compute(counts, start=D1, end=D2, completed=10, partial=0, questionnaire=without)
    assert d.descriptive.trips == (("1", 1), ("2", 2), ("3", 3), ("4", 4))
    assert (d.descriptive.three_or_more_trips.count, d.descriptive.three_or_more_trips.base) == (
        7,
        10,
    )
