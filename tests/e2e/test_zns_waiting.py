"""A ZNS notice that waits (outside Zalo's sending hours), end to end over the fake Zalo with
a controlled clock: the officer who was told "sent as a template" is told it waits and until
when; the digest counts it held, then sent by template, or re-sent when the citizen writes
first (it then goes at once, as a normal message, and never by ZNS). The wiring and filing
are those of ``test_zalo_zns`` and ``test_zns_schedule``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.channels.zns_schedule import ZnsSchedule
from tests.e2e import test_zalo_zns as zns_tests
from tests.e2e.test_zalo_zns import ZNS
from tests.e2e.test_zns_schedule import HANOI, _local
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo
from tests.support.zalo_e2e import (
    ANSWER,
    CITIZEN,
    STAFF,
    answer_later,
    digest_counts,
    file_named,
    life,
)

zalo = zns_tests.zalo
database = zns_tests.database


@pytest.mark.parametrize("first", ["the opening", "the citizen"])
async def test_a_notice_waiting_for_zns_is_told_and_counted_as_it_went(
    zalo: FakeZalo, database: Database, first: str
) -> None:
    schedule = ZnsSchedule(HANOI, (time(6), time(22)))
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS, zns_schedule=schedule) as bot:
        code = await file_named(bot, consent=True)
        night = _local(clock.now + timedelta(days=10), 23)
        clock.now = night - timedelta(days=10)
        await answer_later(bot, clock, code)  # at 23:00 in Hanoi: ZNS waits for 06:00
        told = [m.text for m in zalo.messages(STAFF)[-2:]]
        assert "Người gửi được báo bằng tin mẫu Zalo" in told[0], told
        opening = _local(night + timedelta(days=1), 6)
        assert f"sẽ gửi qua ZNS lúc {opening.astimezone(HANOI):%H:%M %d/%m/%Y}" in told[1], told
        assert code in told[1]
        staff_before = len(zalo.messages(STAFF))
        clock.now = _local(night + timedelta(days=1), 1)
        await bot.drain()  # tried again before the opening: told and counted once
        assert len(zalo.messages(STAFF)) == staff_before
        assert await digest_counts(database) == (0, {"held": 1, "resent": 0, "template": 0})
        before = len(zalo.messages(CITIZEN))
        if first == "the citizen":
            await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
            after = [m.text for m in zalo.messages(CITIZEN)[before:]]
            assert ANSWER in after[0], after  # at once, ahead of the reply, not at 06:00
        clock.now = opening
        await bot.drain()
    staff = [m.text for m in zalo.messages(STAFF)]
    assert sum("sẽ gửi qua ZNS" in t for t in staff) == 1, staff
    if first == "the citizen":
        assert zalo.zns_sends == []
        assert await digest_counts(database) == (0, {"held": 1, "resent": 1, "template": 0})
    else:
        [sent] = zalo.zns_sends
        assert sent.data["code"] == code
        assert await digest_counts(database) == (0, {"held": 1, "resent": 0, "template": 1})
