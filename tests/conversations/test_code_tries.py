"""Wrong short receipt codes are limited per chat per local day on every channel: the rule is
the conversation's, so a code typed on Telegram, in the web chat, on Zalo or the console, or
sent as ``/start CODE``, counts the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conversations import Command, ConversationState, Env, Facts, handle
from conversations.context import ReceiptFacts
from conversations.flows.receipt_codes import MAX_WRONG_CODES

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
GOOD = "4821773015"
RECEIPT = ReceiptFacts(id=1, token="8SyN4PwfjmFtUT-FAga8tGM9", procedure="p1")

#: What each channel makes of a code: typed as a plain message (Zalo, Telegram, the web chat
#: and the console read it with ``zalo_codes.typed_code``), or sent after ``/start``.
WRONG = [
    Command("start", "4821773016", typed="4821-7730-16"),  # one wrong digit
    Command("start", "4821773016"),
    Command("start", "482177301", typed="482 177 301"),  # a digit short: the format hint
    Command("start", "04821773015", typed="04821773015"),  # a leading 0
]


def env(now: datetime = NOW) -> Env:
    return Env(now=now, new_id=lambda: 7)


def keys(
    state: ConversationState, event: Command, facts: Facts, now: datetime = NOW
) -> tuple[ConversationState, list[str]]:
    outcome = handle(state, event, env(now), facts)
    return outcome.state or state, [r.key for r in outcome.replies]


@pytest.mark.parametrize("wrong", WRONG, ids=["typed", "sent", "short", "leading-0"])
def test_wrong_codes_stop_for_the_day_then_a_right_one_waits_for_tomorrow(wrong: Command) -> None:
    state = ConversationState("vi")
    for _ in range(MAX_WRONG_CODES):
        state, said = keys(state, wrong, Facts())
        assert "zalo.code_tries" not in said
    state, said = keys(state, wrong, Facts())
    assert said == ["zalo.code_tries"]
    # Right or wrong, a code is not looked at any more that day …
    right = Command("start", GOOD, typed="4821-7730-15")
    _, said = keys(state, right, Facts(receipt=RECEIPT))
    assert said == ["zalo.code_tries"]
    # … and the next local day it opens its survey.
    tomorrow = NOW + timedelta(days=1)
    after, said = keys(state, right, Facts(receipt=RECEIPT), tomorrow)
    assert "zalo.code_tries" not in said
    assert after.flow == "survey"


def test_right_codes_and_long_tokens_are_not_counted() -> None:
    state = ConversationState("vi")
    for _ in range(MAX_WRONG_CODES + 2):
        state, said = keys(state, Command("start", GOOD), Facts(receipt=RECEIPT))
        assert "zalo.code_tries" not in said
        state, said = keys(state, Command("start", "XyZ" * 8), Facts())  # an unknown token
        assert "zalo.code_tries" not in said


def test_the_count_survives_going_back_to_the_menu() -> None:
    state = ConversationState("vi")
    for _ in range(MAX_WRONG_CODES):
        state, _ = keys(state, WRONG[0], Facts())
    state, _ = keys(state, Command("huy"), Facts())
    state, said = keys(state, WRONG[0], Facts())
    assert said == ["zalo.code_tries"]
