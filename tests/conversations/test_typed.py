"""A receipt code typed as a plain message is a code except where a step reads it as a number
(a lookup's code, a survey comment, a staff note); at a free-text step (a phone prompt among
them) only a code whose check digit is right is one, digits merely of its shape stay text."""

from __future__ import annotations

import pytest

from conversations import Command, ConversationState, Text, read_as

TYPED = Command("start", "1234567890", typed="1234-5678-90")  # a right check digit
WRONG = Command("start", "1234567891", typed="1234-5678-91")
SENT = Command("start", "1234567890")  # "/start 1234567890": a command, wherever it comes


@pytest.mark.parametrize(
    ("flow", "step", "event", "expected"),
    [
        (None, None, TYPED, TYPED),  # at rest: the receipt code
        ("complaint", "c.phone", TYPED, TYPED),  # no phone number starts with 1
        ("complaint", "c.text", TYPED, TYPED),
        ("complaint", "c.files", TYPED, TYPED),
        ("complaint", "c.files", WRONG, WRONG),  # the files step reads no text at all
        ("lookup", "l.phone", TYPED, TYPED),
        ("supplement", "sup.text", TYPED, TYPED),
        ("complaint", "c.phone", WRONG, Text("1234-5678-91")),
        ("complaint", "c.text", WRONG, Text("1234-5678-91")),
        ("lookup", "l.phone", WRONG, Text("1234-5678-91")),
        ("supplement", "sup.text", WRONG, Text("1234-5678-91")),
        ("lookup", "l.code", TYPED, Text("1234-5678-90")),
        ("survey", "comment", TYPED, Text("1234-5678-90")),
        ("survey", "info", TYPED, TYPED),  # buttons: "a survey is under way", as the token
        ("complaint", "c.phone", SENT, SENT),
        (None, None, Text("1234567890"), Text("1234567890")),
    ],
    ids=[
        "idle", "phone", "complaint-text", "files", "files-wrong", "lookup-phone", "supplement",
        "phone-wrong", "complaint-text-wrong", "lookup-phone-wrong", "supplement-wrong",
        "lookup-code", "survey-comment",
        "survey-buttons", "real-command", "text",
    ],
)  # fmt: skip
def test_read_as(
    flow: str | None, step: str | None, event: Command | Text, expected: Command | Text
) -> None:
    assert read_as(ConversationState("vi", flow, step), event) == expected
