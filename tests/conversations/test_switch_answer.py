"""While "keep it or drop it?" waits, typed text answers only that question (a fresh tester's
"bỏ việc đang làm đi ạ" became the complaint's text, and "3" a survey answer)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from conversations import Choice, Command, ConversationState, Text, handle
from conversations.context import Env

ENV = Env(now=datetime(2026, 11, 30, 3, tzinfo=UTC), new_id=itertools.count(10**12).__next__)


def _walk(*events: object) -> ConversationState:
    state = ConversationState(language="vi")
    for event in events:
        state = handle(state, event, ENV).state or state  # type: ignore[arg-type]
    return state


HALF_DONE = {
    "complaint": (Command("phananh"), Choice("c.cat:capphep")),
    "survey": (Command("khaosat"), Choice("consent:yes")),
}


@pytest.mark.parametrize("task", sorted(HALF_DONE))
@pytest.mark.parametrize("typed", ["bỏ việc đang làm đi ạ", "3", "Công trình lấn chiếm lối đi"])
def test_an_unclear_answer_asks_again_and_reaches_no_hidden_step(task: str, typed: str) -> None:
    other = Command("khaosat") if task == "complaint" else Command("phananh")
    asked = _walk(*HALF_DONE[task], other)
    outcome = handle(asked, Text(typed), ENV)
    assert [r.key for r in outcome.replies] == ["input.switch_unclear", "input.switch_ask"]
    assert outcome.changes == ()
    assert outcome.state == asked


@pytest.mark.parametrize(("typed", "kept"), [("1", True), ("2", False)])
def test_the_options_typed_answer_it(typed: str, kept: bool) -> None:
    asked = _walk(*HALF_DONE["complaint"], Command("khaosat"))
    outcome = handle(asked, Text(typed), ENV)
    assert outcome.state is not None
    assert (outcome.state.flow == "complaint") is kept
