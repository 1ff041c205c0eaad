"""End to end over the fake Zalo with a controlled clock (issue 15): a named complaint filed
on Zalo, its sender agreeing to ZNS, answered 10 days later, reaches the phone they gave as
one ZNS message; without consent (or when ZNS refuses) the answer is held and arrives once
when the citizen writes again, across a restart. The process wiring is ``life`` of
``test_zalo_window.py``, with ``ZALO_ZNS_TEMPLATE_NOTICE`` set and no OA template."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_zalo_template_long import PART, long_answer, squeezed
from tests.e2e.test_zalo_window import database
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo, running
from tests.support.zalo_e2e import (
    CITIZEN,
    STAFF,
    answer_later,
    counts,
    digest_counts,
    file_named,
    life,
)

__all__ = ["database"]  # the fixture, used by name

ZNS = "412233"
FIELDS = {"code", "status", "date"}


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with running() as fake:
        fake.approve_zns(ZNS, FIELDS)
        yield fake


async def test_with_consent_the_answer_goes_by_zns_to_the_phone_given(
    zalo: FakeZalo, database: Database
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS) as bot:
        code = await file_named(bot, consent=True)
        await answer_later(bot, clock, code)
    [sent] = zalo.zns_sends
    # Staff are told the sender hears of it by a template message, not "not yet told".
    told = zalo.messages(STAFF)[-1].text
    assert "Người gửi được báo bằng tin mẫu Zalo" in told, told
    assert (sent.phone, sent.template_id) == ("84912345678", ZNS)
    day = f"{clock.now.astimezone(ZoneInfo('Asia/Ho_Chi_Minh')):%d/%m/%Y}"
    assert sent.data == {"code": code, "status": "Đã giải quyết", "date": day}
    assert len(sent.tracking_id) <= 48
    assert zalo.template_sends == []
    # Counted once, as sent by template; the rating buttons wait for the next message.
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
    before = len(zalo.messages(CITIZEN))
    clock.now += timedelta(hours=5)
    async with life(zalo, database, clock, zns=ZNS) as bot:  # restarted
        assert len(zalo.zns_sends) == 1  # not sent again by the restart
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
    first = zalo.messages(CITIZEN)[before]
    assert code in first.text
    assert len(zalo.zns_sends) == 1
    assert (await counts(database)).get("held", 0) == 0
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})


@pytest.mark.parametrize("why", ["no consent", "zns refuses"])
async def test_otherwise_the_answer_is_held_and_arrives_once_after_a_restart(
    zalo: FakeZalo, database: Database, why: str
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS) as bot:
        code = await file_named(bot, consent=why != "no consent")
        if why == "zns refuses":
            zalo.refuse_zns(-108)
        await answer_later(bot, clock, code)
        before = len(zalo.messages(CITIZEN))
    assert zalo.zns_sends == []
    assert (await counts(database))["held"] == 1
    if why == "no consent":
        assert "Người gửi chưa được báo" in zalo.messages(STAFF)[-1].text
    else:  # told "by a template message" before the send; corrected when ZNS refused
        told = [m.text for m in zalo.messages(STAFF)[-2:]]
        assert "Người gửi được báo bằng tin mẫu Zalo" in told[0], told
        assert "chưa gửi được tới người dân" in told[1], told
    clock.now += timedelta(hours=5)
    async with life(zalo, database, clock, zns=ZNS) as bot:  # restarted
        assert len(zalo.messages(CITIZEN)) == before
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
        await bot.text(CITIZEN, "Cảm ơn")
    after = [m.text for m in zalo.messages(CITIZEN)[before:]]
    answered = [t for t in after if "đã tháo dỡ phần lấn chiếm" in t]
    assert len(answered) == 1, after
    assert after[0] == answered[0]
    assert zalo.zns_sends == []
    assert await digest_counts(database) == (0, {"held": 1, "resent": 1, "template": 0})


@pytest.mark.parametrize("act", ["answer", "ask"])
async def test_a_long_answer_is_one_zns_counted_once_and_arrives_whole_when_they_write(
    zalo: FakeZalo, database: Database, act: str
) -> None:
    """Fresh tester's D2 on the ZNS path: a 1,900-character answer (longer than one Zalo
    message) went as a ZNS for its first part and was held, and counted, again for its
    second. One notice is one ZNS message, counted once; ZNS carries its code and status
    only, so the whole notice arrives once when the citizen writes."""
    note = long_answer(1900)
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS) as bot:
        code = await file_named(bot, consent=True)
        clock.now += timedelta(days=10)
        zalo.out_of_window(CITIZEN)
        await bot.text(STAFF, "/start")
        await bot.press(STAFF, f"#c:case:{code}:{act}")
        await bot.text(STAFF, note)
        before = len(zalo.messages(CITIZEN))
    [sent] = zalo.zns_sends
    assert sent.data["code"] == code
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
    clock.now += timedelta(hours=5)
    async with life(zalo, database, clock, zns=ZNS) as bot:  # restarted
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
    got = squeezed("".join(PART.sub("", m.text) for m in zalo.messages(CITIZEN)[before:]))
    assert squeezed(note) in got, got
    assert got.count(squeezed(note[:80])) == 1, got
    assert len(zalo.zns_sends) == 1
    assert (await counts(database)).get("held", 0) == 0
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
