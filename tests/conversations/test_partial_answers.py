"""Answers a fresh tester typed in part, and saw re-asked (issue 13, second try-out): a part of
one option's label ("Trực tiếp"), several option numbers joined by words ("4 và 5"), yes and
no said with emphasis ("Có chứ", "không đâu"), a rating as stars ("⭐⭐⭐⭐"); and ``/start``
during a lookup answered with a generic prompt instead of the lookup's own question."""

from __future__ import annotations

import pytest

from conversations import Command, ConversationState, Inbound, Text, default_catalog, handle
from conversations.effects import Ref
from conversations.flows import survey
from tests.support.engine import ENV
from tests.support.engine import walk as _walk

CATALOG = default_catalog()


def _at(step: str, ans: dict[str, object] | None = None) -> ConversationState:
    data = {"rid": 1, "ans": ans or {}, "hist": [], "form": "sipas-1001"}
    return ConversationState("vi", survey.FLOW, step, data)


def _answer(step: str, typed: str) -> object:
    outcome = handle(_at(step), Text(typed), ENV)
    assert outcome.state is not None
    return survey.SurveyData.load(outcome.state.data).ans.get(step)


# --- a part of one option's label -----------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "typed", "meant"),
    [
        ("channel", "Trực tiếp", "inperson"),
        ("channel", "truc tiep", "inperson"),
        ("channel", "trực tiếp ạ", "inperson"),
        ("channel", "một phần", "online_partial"),
        ("channel", "toàn trình", "online_full"),
        ("channel", "bưu chính", "post"),
        ("channel", "In person", "inperson"),
        ("timing", "Sớm hơn", "early"),
        ("timing", "muộn", "late"),
        ("trips", "4 lần", "4"),
        ("info", "Niêm yết", "posted"),
        ("info", "báo, đài", "media"),
        ("1.1", "hài lòng", 4),
        ("1.1", "rất không", 1),
    ],
)
def test_a_part_of_one_label_chooses_it(step: str, typed: str, meant: object) -> None:
    got = _answer(step, typed)
    assert got == meant


@pytest.mark.parametrize(
    ("step", "typed", "named"),
    [
        ("channel", "Trực tuyến", ["Trực tuyến một phần", "Trực tuyến toàn trình"]),
        ("channel", "online", ["Trực tuyến một phần", "Trực tuyến toàn trình"]),
        ("timing", "hơn hẹn", ["Sớm hơn hẹn", "Muộn hơn hẹn"]),
        ("info", "qua", ["Qua công chức", "Qua người thân, bạn bè", "Qua báo, đài, internet"]),
    ],
)
def test_a_part_of_several_labels_is_asked_about_by_name(
    step: str, typed: str, named: list[str]
) -> None:
    state = _at(step)
    outcome = handle(state, Text(typed), ENV)
    assert outcome.state == state
    assert outcome.replies[0].key == "input4.ambiguous"
    shown = CATALOG.render(outcome.replies[0], "vi").text
    assert shown.splitlines()[1:-1] == named
    assert outcome.replies[-1].choices  # the question again, with its buttons


@pytest.mark.parametrize("typed", ["Bỏ", "tại", "quay", "khác nữa", "trực tiếp ở chỗ khác"])
def test_a_word_that_names_no_option_is_no_answer(typed: str) -> None:
    """A short word inside a label, a navigation button's word, words not in any label."""
    assert _answer("channel", typed) is None


# --- several numbers joined by words --------------------------------------------------------


@pytest.mark.parametrize("typed", ["4 và 5", "4, 5", "4 5", "4 va 5", "4 and 5", "4 & 5"])
def test_several_numbers_at_a_multi_select_choose_each(typed: str) -> None:
    assert _answer("info", typed) == "family,media"


@pytest.mark.parametrize("typed", ["4 và 9", "4 hoặc 5", "4 và năm nào"])
def test_numbers_with_another_word_or_out_of_range_are_no_answer(typed: str) -> None:
    assert _answer("info", typed) is None


# --- yes and no with emphasis ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Có chứ", "yes"),
        ("có ạ", "yes"),
        ("Có chứ ạ!", "yes"),
        ("có rồi", "yes"),
        ("đúng rồi", "yes"),
        ("không đâu", "no"),
        ("Không đâu ạ", "no"),
        ("không mà", "no"),
        ("có đâu", "no"),
        ("đâu có", "no"),
        ("chưa đâu", "no"),
    ],
)
def test_emphatic_yes_and_no(typed: str, meant: str) -> None:
    state = _at("apology", {"timing": "late"})
    outcome = handle(state, Text(typed), ENV)
    assert outcome.state is not None
    assert survey.SurveyData.load(outcome.state.data).ans.get("apology") == meant


# --- a rating as stars ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "level"),
    [("⭐⭐⭐⭐", 4), ("⭐", 1), ("⭐️⭐️⭐️", 3), ("★★", 2), ("🌟🌟🌟🌟🌟", 5), ("⭐ ⭐ ⭐", 3)],
)
def test_stars_are_the_rating(typed: str, level: int) -> None:
    assert _answer("1.1", typed) == level


@pytest.mark.parametrize("typed", ["⭐⭐⭐⭐⭐⭐", "⭐⭐⭐⭐⭐⭐⭐", "⭐👍", "☆☆☆"])
def test_stars_off_the_scale_are_asked_again(typed: str) -> None:
    outcome = handle(_at("1.1"), Text(typed), ENV)
    assert outcome.replies[0].key == "survey.invalid_rating"
    assert outcome.changes == ()


# --- /start in the middle of a task ---------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "task", "question"),
    [
        ((Command("tracuu", "PA-2026-000001"),), "input.task.lookup", "lookup.ask_phone"),
        ((Command("tracuu"),), "input.task.lookup", "lookup.ask_code"),
        ((Command("phananh"),), "input.task.complaint", "complaint.ask_category"),
        ((Command("phananh"), Text("1")), "input.task.complaint", "complaint.ask_text"),
    ],
)
def test_start_mid_task_names_it_and_asks_its_own_question(
    opening: tuple[Inbound, ...], task: str, question: str
) -> None:
    state = _walk(*opening)
    outcome = handle(state, Command("start"), ENV)
    assert outcome.state == state
    busy, asked = outcome.replies
    assert busy.key == "input.busy"
    assert dict(busy.params)["task"] == Ref(task)
    assert asked.key == question
    assert asked.choices  # its own buttons (Hủy …), as when it was first asked
