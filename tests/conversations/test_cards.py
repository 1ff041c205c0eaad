"""What a case looks like to the people who read it: staff cards, alerts and the citizen's view."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.channels import zalo
from bot.limits import TelegramLimit
from conversations import (
    Choice,
    Command,
    ComplaintFacts,
    ConversationState,
    Env,
    Facts,
    Inbound,
    Message,
    Notify,
    Outcome,
    Reply,
    Text,
    default_catalog,
    handle,
)
from conversations.context import CaseNote
from conversations.limits import MAX_MESSAGE_UNITS
from storage.outbound import TextMessage

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
    (datetime(2026, 3, 10, 2, 0), "10/03 09:00"),  # naive, as a driver may give it: UTC
    (datetime(2026, 3, 10, 9, 0, tzinfo=HANOI), "10/03 09:00"),  # in another zone already
]


@pytest.mark.parametrize(("stored", "staff_sees"), LOCAL_TIMES)
def test_staff_card_history_is_in_local_time(stored: datetime, staff_sees: str) -> None:
    facts = Facts(admin=True, sender="1", complaints={CODE: case(note(stored))})
    outcome = handle(ConversationState("vi"), Command("hoso", CODE), env(), facts)
    (card,) = texts(outcome)
    assert f"• {staff_sees} — Đang xử lý: Đã gọi điện cho người gửi." in card


@pytest.mark.parametrize("server_zone", ["America/New_York", "Asia/Tokyo"])
def test_a_naive_stored_time_is_utc_whatever_the_servers_zone(
    server_zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A time stored without its zone is UTC, never the zone the server happens to run in."""
    monkeypatch.setenv("TZ", server_zone)
    time.tzset()
    try:
        test_staff_card_history_is_in_local_time(datetime(2026, 3, 10, 2, 0), "10/03 09:00")
    finally:
        monkeypatch.undo()
        time.tzset()


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
        Choice("c.addr:skip"),
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


# --- long cards leave as several messages, each within every channel's limit ---------------

ANGRY = "😡" * 2000  # 2,000 characters, 4,000 UTF-16 code units (what Telegram counts)
WORDS = " ".join(f"từ{i:04d}" for i in range(330))  # 2,000 characters of words
DECOMPOSED = unicodedata.normalize("NFD", "Hồ sơ đã quá hạn trả kết quả. " * 67)[:2000]
LONG_NOTE = "Đã liên hệ phòng quản lý đô thị, chờ ý kiến. " * 44  # 1,980 characters


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def long_case(description: str, notes: int = 0) -> ComplaintFacts:
    history = tuple(
        note(datetime(2026, 3, 10, 2, i % 60, tzinfo=UTC), f"{i}: {LONG_NOTE}")
        for i in range(notes)
    )
    return case(*history, description=description)


def rendered(replies: tuple[Reply, ...] | list[Reply], lang: str) -> list[Message]:
    return [CATALOG.render(r, lang) for r in replies]


def description_of(parts: list[Message], label: str) -> str:
    """The description as the parts carry it: after the label, then the "…" lines."""
    chunks: list[str] = []
    for message in parts:
        for line in message.text.split("\n"):
            if line.startswith(label) or (chunks and line.startswith("…") and not done(chunks)):
                chunks.append(line.removeprefix(label))
    return "".join(c.strip("…") for c in chunks)


def done(chunks: list[str]) -> bool:
    return not chunks[-1].endswith("…")


def assert_fits_every_channel(parts: list[Message]) -> None:
    cards = [m for m in parts if m.key != "menu.again"]
    assert all(utf16(m.text) > 1200 for m in cards[:-1])  # parts are filled, not wasted
    for message in parts:
        assert utf16(message.text) <= MAX_MESSAGE_UNITS, utf16(message.text)
        assert utf16(message.text) <= TelegramLimit.MAX_TEXT
        typed = TextMessage(message.text, message.choices, message.key)
        shown = zalo.render(typed, "(Gõ số / type: {words})")["text"]
        assert len(shown) <= zalo.MAX_TEXT
        assert shown.startswith(message.text)  # Zalo did not have to cut it


def test_the_engine_limit_is_within_every_channels() -> None:
    assert MAX_MESSAGE_UNITS <= zalo.MAX_TEXT
    assert MAX_MESSAGE_UNITS <= TelegramLimit.MAX_TEXT


@pytest.mark.parametrize(
    ("description", "notes", "parts"),
    [
        (ANGRY, 0, 3),  # 4,000 units of emoji
        (WORDS, 0, 2),
        (DECOMPOSED, 0, 2),  # Vietnamese written with combining marks
        ("Hồ sơ quá hạn.", 6, 8),  # a long history
        (ANGRY, 4, 8),  # (4,000 + 4 × 2,000 units) / about 1,700 a part
    ],
    ids=["emoji", "words", "decomposed", "history", "both"],
)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_long_staff_card_is_split_and_marked(
    description: str, notes: int, parts: int, lang: str
) -> None:
    facts = Facts(admin=True, sender="1", complaints={CODE: long_case(description, notes)})
    outcome = handle(ConversationState(lang), Command("hoso", CODE), env(), facts)
    shown = rendered(outcome.replies, lang)
    assert len(shown) == parts
    assert_fits_every_channel(shown)
    assert shown[0].key == "staff.case"
    assert shown[0].text.split("\n")[0].endswith(f" (1/{parts})")
    for n, message in enumerate(shown[1:], start=2):
        assert message.key == "case.more"
        assert message.text.split("\n")[0].endswith(f"{CODE} ({'tiếp' if lang == 'vi' else 'continued'}) ({n}/{parts})")  # fmt: skip
    # Nothing is lost: the whole description, every note, the buttons on the last part only.
    label = "Nội dung: " if lang == "vi" else "Description: "
    assert description_of(shown, label).replace(" ", "") == description.replace(" ", "")
    everything = "\n".join(m.text for m in shown)
    assert all(f"{i}: Đã liên hệ" in everything for i in range(notes))
    assert [len(m.choices) for m in shown] == [0] * (parts - 1) + [6]  # 5 actions, a note
    for message in shown:  # never cut between a letter and its accent
        for line in message.text.split("\n"):
            if line.startswith("…"):
                assert unicodedata.combining(line[1]) == 0
    # The same case, short: one message, no mark.
    facts = Facts(admin=True, sender="1", complaints={CODE: case(note(NOW))})
    outcome = handle(ConversationState(lang), Command("hoso", CODE), env(), facts)
    (one,) = rendered(outcome.replies, lang)
    assert one.text.split("\n")[0].endswith(f"{CODE} ({'qua tin nhắn' if lang == 'vi' else 'by message'})")  # fmt: skip


def test_a_long_new_case_alert_reaches_staff_in_parts() -> None:
    steps: list[Inbound] = [
        Command("phananh"),
        Choice("c.cat:trehen"),
        Text(ANGRY),
        Choice("c.files:done"),
        Choice("c.who:anon"),
        Choice("c.addr:skip"),
        Choice("c.confirm:send"),
    ]
    outcome = _file(ConversationState("vi"), steps, NOW)
    alerts = rendered([c.reply for c in outcome.changes if isinstance(c, Notify)], "vi")
    assert len(alerts) == 3
    assert_fits_every_channel(alerts)
    assert description_of(alerts, "Nội dung: ") == ANGRY
    assert [len(m.choices) for m in alerts] == [0, 0, 6]  # 5 actions, a note


def test_a_long_citizen_view_is_split() -> None:
    history = tuple(note(NOW, f"{i}: {LONG_NOTE}") for i in range(3))
    facts = Facts(complaints={CODE: case(*history)})
    outcome = handle(ConversationState("vi"), Command("tracuu", CODE), env(), facts)
    shown = rendered(outcome.replies, "vi")
    assert [m.key for m in shown] == ["lookup.card", *["case.more"] * 3, "menu.again"]
    assert_fits_every_channel(shown)
    everything = "\n".join(m.text for m in shown)
    assert all(f"{i}: Đã liên hệ" in everything for i in range(3))


def test_a_long_case_list_is_split() -> None:
    cases = tuple(replace(case(), code=f"PA-2026-{i:06d}") for i in range(120))
    facts = Facts(admin=True, sender="1", open_cases=cases)
    outcome = handle(ConversationState("vi"), Command("hoso"), env(), facts)
    shown = rendered(outcome.replies, "vi")
    assert len(shown) > 1
    assert_fits_every_channel(shown)
    assert shown[0].text.startswith(f"Phản ánh đang mở: 120 (1/{len(shown)})")
    assert all(m.key == "staff.list_more" for m in shown[1:])
    everything = "\n".join(m.text for m in shown)
    assert all(f"PA-2026-{i:06d}" in everything for i in range(120))
    assert [len(m.choices) for m in shown] == [0] * (len(shown) - 1) + [10]
