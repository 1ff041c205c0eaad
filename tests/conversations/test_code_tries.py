"""Wrong short receipt codes are limited per chat per local day on every channel: the rule is
the conversation's, so a code typed on Telegram, in the web chat, on Zalo or the console, or
sent as ``/start CODE``, counts the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conversations import (
    Command,
    ConversationState,
    Env,
    Facts,
    Inbound,
    Text,
    default_catalog,
    handle,
)
from conversations.context import ComplaintFacts, ReceiptFacts
from conversations.flows.receipt_codes import MAX_WRONG_CODES
from conversations.flows.tracking import MAX_LOOKUP_MISSES

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
    state: ConversationState, event: Inbound, facts: Facts, now: datetime = NOW
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


def _case(code: str) -> ComplaintFacts:
    return ComplaintFacts(
        code=code,
        category="other",
        status="received",
        description="Một phản ánh để thử.",
        source="telegram",
        anonymous=False,
        name="Nguyễn Văn A",
        phone="0903111222",
        language="vi",
        created_at=NOW,
        due_on=NOW.date(),
        owned=False,
        reachable=True,
    )


def _wrong_phones(state: ConversationState, facts: Facts, times: int) -> ConversationState:
    for _ in range(times):
        state, said = keys(state, Command("tracuu", CASE), facts)
        assert said == ["lookup.ask_phone"]
        state, said = keys(state, Text("0903999999"), facts)
        assert said == ["lookup.refused", "menu.again"]
    return state


CASE = "PA-2026-000777"
#: Task switches that must not reset a chat's counts for the day: a complaint started and
#: cancelled, a survey started and cancelled, a lookup asked for and cancelled.
SWITCHES = {
    "complaint": [Command("phananh"), Command("huy")],
    "survey": [Command("khaosat"), Command("huy")],
    "lookup": [Command("tracuu"), Command("huy")],
    "complaint-then-survey": [Command("phananh"), Command("khaosat"), Command("huy")],
}


@pytest.mark.parametrize("switch", SWITCHES.values(), ids=SWITCHES.keys())
def test_wrong_codes_still_count_after_a_task_switch(switch: list[Command]) -> None:
    state = ConversationState("vi")
    for _ in range(MAX_WRONG_CODES):
        state, _ = keys(state, WRONG[0], Facts())
    for event in switch:
        state, _ = keys(state, event, Facts())
    _, said = keys(state, WRONG[0], Facts())
    assert said == ["zalo.code_tries"]


@pytest.mark.parametrize("switch", SWITCHES.values(), ids=SWITCHES.keys())
def test_lookup_misses_still_count_after_a_task_switch(switch: list[Command]) -> None:
    facts = Facts(complaints={CASE: _case(CASE)})
    state = _wrong_phones(ConversationState("vi"), facts, MAX_LOOKUP_MISSES)
    for event in switch:
        state, _ = keys(state, event, facts)
    _, said = keys(state, Command("tracuu", CASE), facts)
    assert said == ["lookup.too_many", "menu.again"]


@pytest.mark.parametrize(
    ("arg", "counts"),
    [
        ("1234567", False),  # 7 digits: no code, an unknown token
        ("12345678", True),  # 8 to 13 digits: a code, right or wrong
        ("1234567890123", True),
        ("12345678901234", False),  # 14: no code
        ("48217730a5", False),  # a letter: a token
    ],
    ids=["7-digits", "8-digits", "13-digits", "14-digits", "letter"],
)
def test_what_counts_as_a_wrong_code(arg: str, counts: bool) -> None:
    state = ConversationState("vi")
    for _ in range(MAX_WRONG_CODES):
        state, said = keys(state, Command("start", arg), Facts())
        assert "zalo.code_tries" not in said
    _, said = keys(state, WRONG[0], Facts())
    assert (said == ["zalo.code_tries"]) is counts


@pytest.mark.parametrize(
    ("now", "tomorrow"),
    [
        (NOW, "02/06/2026"),
        (datetime(2026, 6, 1, 18, 0, tzinfo=UTC), "03/06/2026"),  # 01:00 on the 2nd in Hanoi
        (datetime(2026, 12, 31, 5, 0, tzinfo=UTC), "01/01/2027"),
    ],
    ids=["morning", "after-local-midnight", "new-year"],
)
def test_the_refusal_says_how_many_and_from_which_local_day(now: datetime, tomorrow: str) -> None:
    state = ConversationState("vi")
    for _ in range(MAX_WRONG_CODES):
        state, _ = keys(state, WRONG[0], Facts(), now)
    outcome = handle(state, WRONG[0], env(now), Facts())
    (text,) = [default_catalog().render(r, "vi").text for r in outcome.replies]
    assert f"sai mã trên giấy biên nhận {MAX_WRONG_CODES} lần hôm nay" in text
    assert f"gửi lại từ ngày {tomorrow}." in text
    assert (outcome.state or state) == state  # nothing changes: not even one more count


def test_a_wrong_code_mid_survey_keeps_the_survey_and_counts() -> None:
    state = ConversationState("vi", flow="survey", step="1.1", data={"rid": 5})
    after, said = keys(state, WRONG[0], Facts())
    assert "zalo.code_tries" not in said
    assert (after.flow, after.step, after.data) == ("survey", "1.1", {"rid": 5})
    for _ in range(MAX_WRONG_CODES - 1):
        after, _ = keys(after, WRONG[0], Facts())
    after, said = keys(after, WRONG[0], Facts())
    assert said[0] == "zalo.code_tries"
    assert (after.flow, after.step) == ("survey", "1.1")
