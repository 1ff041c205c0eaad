"""Reminders: only between 7:00 and 21:00 local time (both edges, in Hanoi's zone), one per
stalled survey, every chat its own."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Command, InboundEvent
from jobs.ports import Processed
from jobs.reminders import is_daytime, remind_due
from storage import read_transaction
from storage.queries.outbox import pending
from tests.support.clock import SequentialClock, SequentialIds, SettableClock
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: A survey left alone is reminded after 2 hours, and expires after 7 days.
SETTINGS = DispatchSettings(
    tz=TZ, survey_remind_after=timedelta(hours=2), survey_ttl=timedelta(days=7)
)


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (6, 59, False),
        (7, 0, True),
        (12, 0, True),
        (20, 59, True),
        (21, 0, False),  # 21:00 is already evening
        (23, 30, False),
        (0, 0, False),
    ],
)
def test_daytime_edges_are_local_hours(hour: int, minute: int, expected: bool) -> None:
    local = datetime(2026, 11, 2, hour, minute, tzinfo=TZ)
    assert is_daytime(local, TZ) is expected
    # The same moment given in UTC (as the clock gives it) is judged by the local hour.
    assert is_daytime(local.astimezone(UTC), TZ) is expected


async def test_every_stalled_chat_gets_its_own_reminder_in_batches(engine: AsyncEngine) -> None:
    """Three surveys stalled at once: a run with a batch of 2 reminds two, the next the third;
    each chat's reminder is its own event (none is taken for another's redelivery)."""
    clock = SequentialClock(start=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # 09:00 local
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=SequentialIds())
    chats = ["an", "binh", "chi"]
    for n, chat in enumerate(chats):
        await complete_survey(dispatcher, chat, random.Random(n), finish="leave")
    clock.advance(timedelta(hours=3))  # 12:00 local: all three due
    assert await remind_due(dispatcher, TZ, limit=2) == 2
    assert await remind_due(dispatcher, TZ, limit=2) == 1
    assert await remind_due(dispatcher, TZ, limit=2) == 0
    for chat in chats:
        assert await _reminders(engine, clock(), "test", chat) == 1, chat


async def _reminders(engine: AsyncEngine, now: datetime, channel: str, chat: str) -> int:
    async with read_transaction(engine) as conn:
        queued = await pending(conn, channel, now, chat_id=chat, limit=100)
    return [getattr(r.message, "key", "") for r in queued].count("survey.reminder")


async def test_chats_stalled_at_the_same_moment_each_get_their_reminder(
    engine: AsyncEngine,
) -> None:
    """Stalled at the very same second: two chats of one channel, and one chat id on two
    channels. A reminder's event key names its chat and channel, so none of the four is
    taken for another's redelivery."""
    clock = SettableClock(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # 09:00 local
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=SequentialIds())
    chats = [("test", "an"), ("test", "binh"), ("zalo", "an"), ("zalo", "chi")]
    for n, (channel, chat) in enumerate(chats):
        await complete_survey(dispatcher, chat, random.Random(n), finish="leave", channel=channel)
    clock.now += timedelta(hours=3)
    assert await remind_due(dispatcher, TZ) == 4
    assert await remind_due(dispatcher, TZ) == 0
    for channel, chat in chats:
        assert await _reminders(engine, clock.now, channel, chat) == 1, (channel, chat)


async def test_a_later_survey_of_the_same_chat_gets_its_own_reminder(engine: AsyncEngine) -> None:
    """One reminder per survey, not per chat: the chat's next survey, stalled at another
    time, is reminded too (its key names its own deadline)."""
    clock = SettableClock(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=SequentialIds())
    await complete_survey(dispatcher, "an", random.Random(1), finish="cancel")
    await complete_survey(dispatcher, "an", random.Random(2), finish="leave")
    clock.now += timedelta(hours=3)
    assert await remind_due(dispatcher, TZ) == 1
    await dispatcher.process([InboundEvent("an-cancel", "test", "an", Command("huy"))])
    clock.now += timedelta(minutes=10)
    await complete_survey(dispatcher, "an", random.Random(3), finish="leave")
    clock.now += timedelta(hours=3)
    assert await remind_due(dispatcher, TZ) == 1


class _FailingSink:
    """The dispatcher, but the first event's place holds an exception and the second's a
    result with nothing to send: neither is a reminder sent."""

    def __init__(self, inner: Dispatcher) -> None:
        self.inner = inner
        self.engine = inner.engine
        self.clock = inner.clock
        self.on_jobs = inner.on_jobs
        self.on_surveys_ended = inner.on_surveys_ended

    async def process(self, events: Sequence[InboundEvent]) -> list[Processed | Exception]:
        results: list[Processed | Exception] = list(await self.inner.process(events))
        results[0] = RuntimeError("this event failed")
        first = results[1]
        assert isinstance(first, Handled)
        results[1] = Handled(first.event_id, duplicate=False)
        return results


async def test_only_reminders_that_went_out_are_counted(engine: AsyncEngine) -> None:
    clock = SettableClock(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=SequentialIds())
    for n, chat in enumerate(["an", "binh", "chi"]):
        await complete_survey(dispatcher, chat, random.Random(n), finish="leave")
    clock.now += timedelta(hours=3)
    assert await remind_due(_FailingSink(dispatcher), TZ) == 1
