"""ZNS within Zalo's sending hours and the OA's daily quota, over the fake Zalo with a
controlled clock (issue 15): a notice due at night waits and goes at the next opening (not
before); a notice over the day's quota waits for the next day's opening and the digest counts
it. Waiting spends none of the message's attempts. The wiring and filing are those of
``test_zalo_window`` and ``test_zalo_zns``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.channels.zns_schedule import ZnsSchedule, parse_hours
from storage import read_transaction, write_transaction
from storage.queries.zalo_chats import notices_between, record_notices
from storage.schema import outbox
from tests.e2e import test_zalo_zns as zns_tests
from tests.e2e.test_zalo_zns import ZNS
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo
from tests.support.zalo_e2e import answer_later, digest_counts, file_named, life

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
#: The fake OA with the approved ZNS template, and the bot's database.
zalo = zns_tests.zalo
database = zns_tests.database


def _local(day: datetime, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` in Hanoi on ``day``'s local date, as UTC."""
    local = datetime.combine(day.astimezone(HANOI).date(), time(hour, minute), HANOI)
    return local.astimezone(UTC)


async def _attempts(database: Database) -> list[int]:
    engine = database.open()
    try:
        async with read_transaction(engine) as conn:
            found = await conn.execute(
                select(outbox.c.attempts).where(outbox.c.status == "pending")
            )
            return [int(n) for n in found.scalars()]
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("06:00-22:00", (time(6), time(22))),
        ("07:30-24:00", (time(7, 30), time.max)),
        ("", None),
    ],
)
def test_sending_hours_are_read_from_the_setting(
    text: str, hours: tuple[time, time] | None
) -> None:
    assert parse_hours(text) == hours


@pytest.mark.parametrize("text", ["22:00-06:00", "6-22", "06:00-24:30", "25:00-26:00"])
def test_sending_hours_that_make_no_sense_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|closing"):
        parse_hours(text)


@pytest.mark.parametrize(
    ("at", "opens"),
    [((5, 59), (6, 0)), ((22, 0), (6, 0)), ((23, 30), (6, 0)), ((6, 0), None), ((21, 59), None)],
)
def test_the_next_opening(at: tuple[int, int], opens: tuple[int, int] | None) -> None:
    schedule = ZnsSchedule(HANOI, (time(6), time(22)))
    now = _local(datetime(2026, 3, 2, 5, tzinfo=UTC), *at)
    found = schedule.next_opening(now)
    if opens is None:
        assert found is None
        return
    assert found is not None
    assert found.astimezone(HANOI).time() == time(*opens)
    assert timedelta(0) < found - now <= timedelta(hours=8)


async def test_a_notice_due_at_night_goes_at_the_next_opening(
    zalo: FakeZalo, database: Database
) -> None:
    schedule = ZnsSchedule(HANOI, (time(6), time(22)), daily_quota=0)
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS, zns_schedule=schedule) as bot:
        code = await file_named(bot, consent=True)
        # Answered 10 days later, at 23:00 in Hanoi: outside the sending hours.
        night = _local(clock.now + timedelta(days=10), 23)
        clock.now = night - timedelta(days=10)
        await answer_later(bot, clock, code)
        assert clock.now == night
        assert zalo.zns_sends == []
        assert await _attempts(database) == [0]  # waiting spends no attempt
        clock.now = _local(night + timedelta(days=1), 5, 59)
        await bot.drain()
        assert zalo.zns_sends == []
        clock.now = _local(night + timedelta(days=1), 6)
        await bot.drain()
    [sent] = zalo.zns_sends
    assert sent.data["code"] == code
    # Held overnight, then sent by template (tests/e2e/test_zns_waiting.py).
    assert await digest_counts(database) == (0, {"held": 1, "resent": 0, "template": 1})


async def test_a_notice_over_the_day_s_quota_waits_for_the_next_day_and_is_counted(
    zalo: FakeZalo, database: Database
) -> None:
    schedule = ZnsSchedule(HANOI, (time(6), time(22)), daily_quota=1)
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS, zns_schedule=schedule) as bot:
        code = await file_named(bot, consent=True)
        noon = _local(clock.now + timedelta(days=10), 12)
        engine = database.open()
        async with write_transaction(engine) as conn:  # today's one ZNS went this morning
            await record_notices(conn, ["zns"], _local(noon, 9))
        await engine.dispose()
        clock.now = noon - timedelta(days=10)
        await answer_later(bot, clock, code)
        assert zalo.zns_sends == []
        assert await _attempts(database) == [0]
        engine = database.open()
        async with read_transaction(engine) as conn:
            counted = await notices_between(conn, _local(noon, 0), _local(noon, 23, 59))
        await engine.dispose()
        assert counted["zns_quota"] == 1  # the digest's alert (tests/jobs/test_digests.py)
        clock.now = _local(noon, 21, 59)  # still today: over the quota
        await bot.drain()
        assert zalo.zns_sends == []
        clock.now = _local(noon + timedelta(days=1), 6)
        await bot.drain()
    [sent] = zalo.zns_sends
    assert sent.data["code"] == code
