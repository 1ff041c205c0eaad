"""What a case looks like to the people who read it: staff cards, alerts and the citizen's view."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from conversations import (
    Choice,
    Command,
    ComplaintFacts,
    ConversationState,
    Env,
    Facts,
    Inbound,
    Notify,
    Outcome,
    Text,
    default_catalog,
    handle,
)
from conversations.context import CaseNote

CATALOG = default_catalog()
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "PA-2026-000001"
NOW = datetime(2026, 3, 12, 3, 0, tzinfo=UTC)


def env(now: datetime = NOW) -> Env:
    return Env(now=now, new_id=lambda: 1, tz=HANOI, new_code=lambda year: CODE)


def case(*history: CaseNote, description: str = "Hồ sơ quá hạn trả kết quả.") -> ComplaintFacts:
    return ComplaintFacts(
        code=CODE,
        category="trehen",
        status="in_progress",
        description=description,
        source="chat",
        anonymous=False,
        name="Trần Văn Bình",
        phone="0987654321",
        language="vi",
        created_at=datetime(2026, 3, 9, 1, 0, tzinfo=UTC),
        due_on=date(2026, 3, 20),
        owned=True,
        reachable=True,
        history=history,
    )


def texts(outcome: Outcome, lang: str = "vi") -> list[str]:
    return [CATALOG.render(r, lang).text for r in outcome.replies]


def note(at: datetime, text: str = "Đã gọi điện cho người gửi.") -> CaseNote:
    return CaseNote(at=at, to_status="in_progress", note=text, actor="staff:1", public=True)


# A note written at 09:00 in Hanoi is stored as 02:00 UTC; people must read 09:00.
LOCAL_TIMES = [
    (datetime(2026, 3, 10, 2, 0, tzinfo=UTC), "10/03 09:00"),
    (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), "10/03 06:30"),  # in UTC still the 9th
    (datetime(2026, 12, 31, 17, 5, tzinfo=UTC), "01/01 00:05"),  # a new year
]


@pytest.mark.parametrize(("stored", "staff_sees"), LOCAL_TIMES)
def test_staff_card_history_is_in_local_time(stored: datetime, staff_sees: str) -> None:
    facts = Facts(admin=True, sender="1", complaints={CODE: case(note(stored))})
    outcome = handle(ConversationState("vi"), Command("hoso", CODE), env(), facts)
    (card,) = texts(outcome)
    assert f"• {staff_sees} — Đang xử lý: Đã gọi điện cho người gửi." in card


# The citizen sees dates: those differ from UTC's between 17:00 and 24:00 UTC.
CITIZEN_DATES = [
    (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), "10/03/2026"),
    (datetime(2026, 3, 9, 17, 0, tzinfo=UTC), "10/03/2026"),
    (datetime(2026, 12, 31, 17, 5, tzinfo=UTC), "01/01/2027"),
]


@pytest.mark.parametrize(("stored", "citizen_sees"), CITIZEN_DATES)
def test_citizen_lookup_shows_local_dates(stored: datetime, citizen_sees: str) -> None:
    facts = Facts(complaints={CODE: case(note(stored))})
    outcome = handle(ConversationState("vi"), Command("tracuu", CODE), env(), facts)
    assert f"• {citizen_sees}: Đã gọi điện cho người gửi." in texts(outcome)[0]


@pytest.mark.parametrize(("stored", "staff_sees"), LOCAL_TIMES)
def test_card_after_a_supplement_is_in_local_time(stored: datetime, staff_sees: str) -> None:
    waiting = replace(case(note(stored)), status="waiting_citizen")
    state = ConversationState("vi", flow="supplement", step="sup.text", data={"case": CODE})
    outcome = handle(state, Text("Đây là ảnh biên nhận."), env(), Facts(complaints={CODE: waiting}))
    cards = [
        c.reply for c in outcome.changes if isinstance(c, Notify) and c.reply.key == "staff.case"
    ]
    assert staff_sees in CATALOG.render(cards[0], "vi").text


def _file(state: ConversationState, steps: list[Inbound], now: datetime) -> Outcome:
    outcome = Outcome((), state=state)
    for event in steps:
        outcome = handle(outcome.state or state, event, env(now), Facts())
    return outcome


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        (datetime(2026, 3, 10, 2, 0, tzinfo=UTC), "10/03 09:00"),
        (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), "10/03 06:30"),
    ],
)
def test_new_case_alert_says_when_it_came_in_local_time(now: datetime, shown: str) -> None:
    steps: list[Inbound] = [
        Command("phananh"),
        Choice("c.cat:trehen"),
        Text("Hồ sơ hoàn công nộp ngày 02/12 đã quá hẹn trả kết quả."),
        Choice("c.files:done"),
        Choice("c.who:anon"),
        Choice("c.confirm:send"),
    ]
    outcome = _file(ConversationState("vi"), steps, now)
    alerts = [c.reply for c in outcome.changes if isinstance(c, Notify)]
    assert alerts, "no alert to staff"
    text = "\n".join(CATALOG.render(r, "vi").text for r in alerts)
    assert f"• {shown} — Mới tiếp nhận" in text


def test_env_local_reads_naive_times_as_utc() -> None:
    naive = datetime(2026, 3, 10, 2, 0)
    assert env().local(naive) == datetime(2026, 3, 10, 9, 0, tzinfo=HANOI)
