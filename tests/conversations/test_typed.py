"""A receipt code typed as a plain message is a code only where no step reads typed text."""

from __future__ import annotations

import pytest

from conversations import Command, ConversationState, Text, read_as

TYPED = Command("start", "1234567890", typed="1234-5678-90")
SENT = Command("start", "1234567890")  # "/start 1234567890": a command, wherever it comes


@pytest.mark.parametrize(
    ("flow", "step", "event", "expected"),
    [
        (None, None, TYPED, TYPED),  # at rest: the receipt code
        ("complaint", "c.phone", TYPED, Text("1234-5678-90")),
        ("complaint", "c.text", TYPED, Text("1234-5678-90")),
        ("lookup", "l.phone", TYPED, Text("1234-5678-90")),
        ("supplement", "sup.text", TYPED, Text("1234-5678-90")),
        ("survey", "comment", TYPED, Text("1234-5678-90")),
        ("survey", "info", TYPED, TYPED),  # buttons: "a survey is under way", as the token
        ("complaint", "c.phone", SENT, SENT),
        (None, None, Text("1234567890"), Text("1234567890")),
    ],
    ids=[
        "idle", "phone", "complaint-text", "lookup-phone", "supplement", "survey-comment",
        "survey-buttons", "real-command", "text",
    ],
)  # fmt: skip
def test_read_as(
    flow: str | None, step: str | None, event: Command | Text, expected: Command | Text
) -> None:
    assert read_as(ConversationState("vi", flow, step), event) == expected
