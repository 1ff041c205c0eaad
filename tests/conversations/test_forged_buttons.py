"""Forged button data (a client may send any callback data, e.g. ``1.2:²`` or
``rate:CODE:²``) never raises inside the engine: at every step of every flow the citizen gets
a reply (the polite re-ask or a word on a stale button), never the generic error."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.context import ComplaintFacts, Env, Facts
from conversations.effects import ConversationState
from conversations.engine import GLOBAL_BUTTONS, handle, prompt
from conversations.events import Choice, Command, Inbound, Text
from conversations.parsing import is_ascii_number

# The path below walks the 2640 form (its 1.1 comes after the timing questions).
ENV = Env(
    now=datetime(2026, 11, 30, 3, tzinfo=UTC),
    new_id=itertools.count(10**12).__next__,
    survey_method="sipas-2640",
)

#: Paths that walk each flow; every state along them is a place a forged button may land.
PATHS: list[list[Inbound]] = [
    [Command("khaosat"), Choice("consent:yes"), Choice("info:posted"), Choice("info:done"),
     Choice("trips:1"), Choice("timing:late"), Choice("apology:no"), Choice("1.1:5")],
    [Command("phananh"), Choice("c.cat:capphep"), Text("Công trình lấn chiếm lối đi chung"),
     Choice("c.files:done"), Choice("c.who:named"), Text("Nguyễn Văn A")],
    [Command("tracuu")],
    [Command("ngonngu")],
    [Command("xoadulieu")],
]  # fmt: skip


def _states() -> list[ConversationState]:
    found = [ConversationState(language="vi")]
    for path in PATHS:
        state = ConversationState(language="vi")
        for event in path:
            state = handle(state, event, ENV, Facts()).state or state
            found.append(state)
    return found


STATES = _states()
STEPS = sorted({s.step for s in STATES if s.step} | {"1.2", "5.4", "summary", "consent"})
PREFIXES = [*STEPS, *sorted(GLOBAL_BUTTONS), "c.cat", "c.who", "c.confirm", "p.intro", ""]
ODD = st.text(
    alphabet=st.sampled_from(["²", "٣", "⑤", "5", "0", "-", ":", ",", "é", "\u200b", "x", " "]),
    max_size=12,
)
FORGED = st.one_of(
    st.builds(lambda p, v: f"{p}:{v}", st.sampled_from(PREFIXES), ODD),
    st.builds(lambda p, c, v: f"{p}:{c}:{v}", st.sampled_from(PREFIXES), ODD, ODD),
    st.text(max_size=64),
)


def test_the_paths_reach_every_flow() -> None:
    assert {s.flow for s in STATES} >= {None, "survey", "complaint"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=st.sampled_from(STATES), data=FORGED)
def test_forged_button_data_gets_a_reply_never_an_exception(
    state: ConversationState, data: str
) -> None:
    outcome = handle(state, Choice(data), ENV, Facts())
    assert outcome.replies, f"no reply to {data!r} at {state.flow}/{state.step}"


def test_the_named_inputs() -> None:
    survey = next(s for s in STATES if s.step == "1.1")
    for data in ["1.2:²", "1.1:²", "1.1:٣", "rate:PA-2026-000001:²", "rate:x:²", "case:PA:²"]:
        outcome = handle(survey, Choice(data), ENV, Facts())
        assert outcome.replies
        assert (outcome.state or survey).step == "1.1" or data.startswith("case")


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", True), ("0", True), ("", False), ("²", False), ("١٢", False), ("⑤", False),
     ("1²", False), ("-1", False), (" 1", False), ("１２", False)],
)  # fmt: skip
def test_only_ascii_digits_count_as_a_number(text: str, number: bool) -> None:
    """Every check before an ``int()`` on client data uses this, not ``str.isdigit``."""
    assert is_ascii_number(text) is number
    if number:
        int(text)


def _case(status: str, *, owned: bool) -> ComplaintFacts:
    return ComplaintFacts(
        code="PA-2026-000007", category="khac", status=status, description="…",
        source="telegram", anonymous=False, name="A", phone="0903111222", language="vi",
        created_at=ENV.now, due_on=ENV.now.date(), owned=owned, reachable=True,
    )  # fmt: skip


def _keys(state: ConversationState, event: Inbound, facts: Facts) -> list[str]:
    return [r.key for r in handle(state, event, ENV, facts).replies]


@pytest.mark.parametrize("state", [STATES[0], next(s for s in STATES if s.step == "1.1")])
@pytest.mark.parametrize(
    ("button", "facts"),
    [
        ("rate:PA-2026-000007:5", Facts()),  # no such case
        ("rate:PA-2026-999999:1", Facts()),
        ("rate:PA-2026-000007:²", Facts()),
        ("rate:PA-0000-000000:5", Facts()),
        ("rate:nonsense:5", Facts()),
        ("rate::5", Facts()),
        # another chat's case, in each state: nothing about it shows either
        *[
            ("rate:PA-2026-000007:5", Facts(complaints={"PA-2026-000007": _case(s, owned=False)}))
            for s in ("new", "resolved", "waiting_citizen")
        ],
    ],
)
def test_a_forged_rating_of_an_unknown_case_answers_as_an_unknown_code(
    state: ConversationState, button: str, facts: Facts
) -> None:
    """Issue 10: ``rate:CODE`` for a case that does not exist (or is not the chat's) answered
    "not yet ready to be rated", telling that the code exists; now it gets what a lookup of an
    unknown code ends with (``lookup.refused``, the same for "no such case" and "not yours"),
    and the chat's own flow is left as it was, its question asked again mid-task (the menu
    offered at rest: no dead end)."""
    outcome = handle(state, Choice(button), ENV, facts)
    asked = [r.key for r in prompt(state, ENV)] if state.flow else ["menu.again"]
    assert [r.key for r in outcome.replies] == ["lookup.refused", *asked]
    assert (outcome.state or state) == state
    assert not outcome.changes


@pytest.mark.parametrize(
    "facts",
    [Facts(), *[Facts(complaints={"PA-2026-000007": _case(s, owned=False)})
                for s in ("new", "resolved", "waiting_citizen")]],
)  # fmt: skip
def test_a_forged_supplement_button_of_an_unknown_case_answers_as_an_unknown_code(
    facts: Facts,
) -> None:
    assert _keys(STATES[0], Choice("supp:PA-2026-000007"), facts) == [
        "lookup.refused",
        "menu.again",
    ]


def test_the_chats_own_case_still_says_why_it_cannot_be_rated() -> None:
    mine = Facts(complaints={"PA-2026-000007": _case("new", owned=True)})
    assert _keys(STATES[0], Choice("rate:PA-2026-000007:5"), mine) == [
        "rating.not_now",
        "menu.again",
    ]
    done = Facts(complaints={"PA-2026-000007": _case("resolved", owned=True)})
    assert _keys(STATES[0], Choice("rate:PA-2026-000007:5"), done)[0] == "rating.thanks"


#: Button data a client may forge, or an old message may still carry, pressed mid-task; the
#: facts of the chat when it is pressed (its own case, resolved or not, or none).
MID_TASK_DATA = [
    "rate:PA-2026-000007:²", "rate:PA-2026-000007:5", "rate:PA-2026-999999:5",
    "rate:nonsense:5", "rate::5", "rate:PA-2026-000007:0", "rate:PA-2026-000007:٣",
    "1.2:²", "1.1:²", "zz:1", "nope", "", ":", "x" * 300, "rate:" + "9" * 300 + ":5",
    "case:PA:²", "case:PA-2026-000007:take", "lang:xx", "menu:xx", "forget:maybe",
    "trips:9", "c.cat:nosuch", "c.who:²", "summary:²", "consent:²",
]  # fmt: skip
MID_TASK_FACTS = {
    "none": Facts(),
    "own new": Facts(complaints={"PA-2026-000007": _case("new", owned=True)}),
    "own resolved": Facts(complaints={"PA-2026-000007": _case("resolved", owned=True)}),
    "not own": Facts(complaints={"PA-2026-000007": _case("resolved", owned=False)}),
}
MID_TASK = [s for s in STATES if s.flow in ("survey", "complaint")]


@pytest.mark.parametrize("facts", MID_TASK_FACTS.values(), ids=MID_TASK_FACTS.keys())
@pytest.mark.parametrize("data", MID_TASK_DATA)
def test_a_forged_button_mid_task_asks_the_tasks_question_again(data: str, facts: Facts) -> None:
    """Issue 10: ``rate:CODE:²`` (or a rating of an unknown code, or a case card's button)
    pressed while a survey or complaint question waits was answered (``lookup.refused``,
    ``rating.not_now``, even the menu) without the question, leaving the citizen no button to
    press. At every step of both tasks, any forged or stale data that leaves the task at its
    step now ends with the step's question, buttons and all, after one word on what was
    pressed; the menu is never offered in its place."""
    for state in MID_TASK:
        outcome = handle(state, Choice(data), ENV, facts)
        after = outcome.state or state
        where = f"{data[:40]!r} at {state.flow}/{state.step}"
        if (after.flow, after.step) != (state.flow, state.step):
            continue  # taken as an answer (``1.1:5`` style data of this very step)
        asked = prompt(after, ENV)
        keys = [r.key for r in outcome.replies]
        if keys == ["common.already_answered"]:
            # The previous step's button tapped twice: its answer (this question) is the
            # last message shown, buttons and all.
            continue
        assert list(outcome.replies[-len(asked) :]) == asked, f"no question again: {where}"
        assert len(outcome.replies) > len(asked), f"no word on the button: {where}"
        assert not {"menu.again", "menu.welcome", "menu.unknown"} & set(keys), where
