"""Reminders: only between 7:00 and 21:00 local time (both edges, in Hanoi's zone), one per
stalled survey, every chat its own."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from jobs.reminders import is_daytime, remind_due
from storage import read_transaction
from storage.queries.outbox import pending
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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
    settings = DispatchSettings(
        tz=TZ, survey_remind_after=timedelta(hours=2), survey_ttl=timedelta(days=7)
    )
    dispatcher = Dispatcher(engine, settings, clock=clock, new_id=SequentialIds())
    chats = ["an", "binh", "chi"]
    for n, chat in enumerate(chats):
        await complete_survey(dispatcher, chat, random.Random(n), finish="leave")
    clock.advance(timedelta(hours=3))  # 12:00 local: all three due
    assert await remind_due(dispatcher, TZ, limit=2) == 2
    assert await remind_due(dispatcher, TZ, limit=2) == 1
    assert await remind_due(dispatcher, TZ, limit=2) == 0
    async with read_transaction(engine) as conn:
        for chat in chats:
            queued = await pending(conn, "test", clock(), chat_id=chat, limit=100)
            keys = [getattr(r.message, "key", "") for r in queued]
            assert keys.count("survey.reminder") == 1, chat
