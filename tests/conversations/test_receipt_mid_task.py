"""A receipt link or short code that opens nothing, sent in the middle of a task: the code
is said to be invalid and the task's own question is asked again, never the main menu (the
same on every channel: the engine decides)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from conversations import Choice, Command, ConversationState, Env, Facts, Inbound, Text, handle
from conversations.context import ReceiptFacts
from conversations.engine import prompt

ENV = Env(now=datetime(2026, 11, 30, 3, tzinfo=UTC), new_id=lambda: 7)
DESCRIPTION = "Công trình số 5 ngõ 12 xây vượt tầng, lấn chiếm vỉa hè."
USED = ReceiptFacts(1, "tok", "P1", response_status="used")
EXPIRED = ReceiptFacts(2, "tok2", "P1", valid_until=date(2026, 11, 1))

TASKS: dict[str, list[Inbound]] = {
    "complaint-text": [Command("phananh"), Choice("c.cat:capphep")],
    "complaint-files": [Command("phananh"), Choice("c.cat:capphep"), Text(DESCRIPTION)],
    "complaint-who": [
        Command("phananh"), Choice("c.cat:capphep"), Text(DESCRIPTION), Choice("c.files:done"),
    ],
    "lookup": [Command("tracuu")],
}  # fmt: skip


def _state(steps: list[Inbound]) -> ConversationState:
    state = ConversationState("vi")
    for event in steps:
        outcome = handle(state, event, ENV, Facts())
        assert outcome.state is not None
        state = outcome.state
    assert state.flow is not None
    return state


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize(
    ("arg", "receipt", "said"),
    [
        ("BADTOKEN", None, "receipt.unknown"),
        ("4339022232", None, "receipt.unknown"),
        ("123", None, "receipt.unknown"),
        ("tok", USED, "receipt.used"),
        ("tok2", EXPIRED, "receipt.expired"),
    ],
    ids=["bad-token", "unknown-short-code", "short-digits", "used", "expired"],
)
def test_a_code_that_opens_nothing_repeats_the_task_question(
    task: str, arg: str, receipt: ReceiptFacts | None, said: str
) -> None:
    state = _state(TASKS[task])
    outcome = handle(state, Command("start", arg), ENV, Facts(receipt=receipt))
    keys = [r.key for r in outcome.replies]
    assert keys[0] == said
    assert "menu.again" not in keys
    assert keys[1:] == [r.key for r in prompt(state, ENV)]
    assert outcome.state is not None
    assert (outcome.state.flow, outcome.state.step) == (state.flow, state.step)
    assert outcome.state.data == state.data  # the half-written task is kept
