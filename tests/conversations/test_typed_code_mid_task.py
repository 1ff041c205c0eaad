"""A receipt's short code typed in the middle of a task, as every channel hands it over
(``zalo_codes.typed_code``: ``/start CODE`` with the message kept): read like the receipt's
QR where the step does not read a number, kept as text where it does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.zalo_codes import typed_code
from conversations import Choice, Command, ConversationState, Env, Facts, Inbound, Text, handle
from conversations.context import ReceiptFacts
from conversations.engine import prompt

ENV = Env(now=datetime(2026, 11, 30, 3, tzinfo=UTC), new_id=lambda: 7)
DESCRIPTION = "Công trình số 5 ngõ 12 xây vượt tầng, lấn chiếm vỉa hè."
RECEIPT = ReceiptFacts(5, "tok", "P1")
TO_FILES: list[Inbound] = [Command("phananh"), Choice("c.cat:capphep"), Text(DESCRIPTION)]
TASKS: dict[str, list[Inbound]] = {
    "complaint-text": TO_FILES[:2],
    "complaint-files": TO_FILES,
    "complaint-name": [*TO_FILES, Choice("c.files:done"), Choice("c.who:named")],
    "lookup-phone": [Command("tracuu"), Text("PA-2026-000123")],
    "lookup-code": [Command("tracuu")],
}
#: The same right code as citizens type it: plain, full-width with bidi marks, glued, "mã".
RIGHT = ["4339-0222-32", "\u202d４３３９-０２２２-３２\u202c", "\u2068 4339022232\u2069\u200e",
         "Mã: 4339 0222 32"]  # fmt: skip


def _state(steps: list[Inbound]) -> ConversationState:
    state = ConversationState("vi")
    for event in steps:
        outcome = handle(state, event, ENV, Facts())
        assert outcome.state is not None
        state = outcome.state
    return state


def _typed(state: ConversationState, text: str, facts: Facts) -> list[str]:
    event = typed_code(text)
    assert event is not None, text
    return [r.key for r in handle(state, event, ENV, facts).replies]


@pytest.mark.parametrize("task", ["complaint-text", "complaint-files", "complaint-name",
                                  "lookup-phone"])  # fmt: skip
@pytest.mark.parametrize("text", RIGHT)
def test_a_right_code_where_no_number_is_read_asks_keep_or_drop(task: str, text: str) -> None:
    state = _state(TASKS[task])
    assert state.step != "l.code"
    assert _typed(state, text, Facts(receipt=RECEIPT)) == ["input.switch_ask"]


@pytest.mark.parametrize("task", ["complaint-files", "lookup-phone"])
def test_a_right_code_no_receipt_has_is_said_unknown_and_the_task_goes_on(task: str) -> None:
    state = _state(TASKS[task])
    keys = _typed(state, "4339-0222-32", Facts())
    assert keys == ["receipt.unknown", *[r.key for r in prompt(state, ENV)]]


@pytest.mark.parametrize(
    ("task", "text"),
    [
        ("lookup-phone", "0912 345 678"),  # a phone number: near a code's shape, stays text
        ("lookup-phone", "4339-0222-33"),  # a wrong check digit at a phone step: text
        ("complaint-text", "4339-0222-33"),
        ("lookup-code", "4339-0222-32"),  # the lookup's code prompt reads digits
    ],
)
def test_digits_at_a_step_that_reads_them_stay_text(task: str, text: str) -> None:
    state = _state(TASKS[task])
    keys = _typed(state, text, Facts(receipt=RECEIPT))
    assert "input.switch_ask" not in keys
    assert not any(k.startswith("receipt.") for k in keys)
