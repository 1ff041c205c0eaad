"""End to end over the fake Zalo with a controlled clock (issue 15): a named complaint filed
on Zalo, its sender agreeing to ZNS, answered 10 days later, reaches the phone they gave as
one ZNS message; without consent (or when ZNS refuses) the answer is held and arrives once
when the citizen writes again, across a restart. The process wiring is ``life`` of
``test_zalo_window.py``, with ``ZALO_ZNS_TEMPLATE_NOTICE`` set and no OA template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_zalo_window import (
    CITIZEN,
    STAFF,
    Life,
    _counts,
    _digest_counts,
    database,
    life,
)
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo, running

__all__ = ["database"]  # the fixture, used by name

ZNS = "412233"
FIELDS = {"code", "status", "date"}


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with running() as fake:
        fake.approve_zns(ZNS, FIELDS)
        yield fake


async def _file_named(bot: Life, consent: bool) -> str:
    """A named complaint filed on Zalo with phone 0912 345 678; its tracking code."""
    await bot.text(CITIZEN, "/phananh")
    await bot.text(CITIZEN, "2")
    await bot.text(CITIZEN, "Công trình lấn chiếm vỉa hè trước số 12 đường Lê Lợi.")
    await bot.text(CITIZEN, "xong")
    await bot.press(CITIZEN, "#c:c.who:named")
    await bot.text(CITIZEN, "Trần Văn Ba")
    await bot.text(CITIZEN, "0912 345 678")
    asked = bot.zalo.messages(CITIZEN)[-1]
    assert "tin nhắn Zalo (ZNS)" in asked.text, asked.text
    await bot.press(CITIZEN, "#c:c.zns:yes" if consent else "#c:c.zns:no")
    await bot.text(CITIZEN, "12 Lê Lợi, phường Bến Thành, TP Hồ Chí Minh")
    await bot.press(CITIZEN, "#c:c.confirm:send")
    texts = [m.text for m in bot.zalo.messages(CITIZEN)]
    match = re.search(r"PA-\d{4}-\d{6}", "\n".join(texts))
    assert match is not None, texts
    # How they will hear back, as they chose.
    note = "đã đồng ý" if consent else "tin được giữ lại"
    assert note in texts[-1] or note in texts[-2], texts[-3:]
    return match.group(0)


async def _answer_ten_days_later(bot: Life, clock: SettableClock, code: str) -> None:
    clock.now += timedelta(days=10)
    bot.zalo.out_of_window(CITIZEN)
    await bot.text(STAFF, "/start")
    await bot.press(STAFF, f"#c:case:{code}:answer")
    await bot.text(STAFF, "Đã xử lý xong: công trình đã tháo dỡ phần lấn chiếm.")


async def test_with_consent_the_answer_goes_by_zns_to_the_phone_given(
    zalo: FakeZalo, database: Database
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS) as bot:
        code = await _file_named(bot, consent=True)
        await _answer_ten_days_later(bot, clock, code)
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
    assert await _digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
    before = len(zalo.messages(CITIZEN))
    clock.now += timedelta(hours=5)
    async with life(zalo, database, clock, zns=ZNS) as bot:  # restarted
        assert len(zalo.zns_sends) == 1  # not sent again by the restart
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
    first = zalo.messages(CITIZEN)[before]
    assert code in first.text
    assert len(zalo.zns_sends) == 1
    assert (await _counts(database)).get("held", 0) == 0
    assert await _digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})


@pytest.mark.parametrize("why", ["no consent", "zns refuses"])
async def test_otherwise_the_answer_is_held_and_arrives_once_after_a_restart(
    zalo: FakeZalo, database: Database, why: str
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=ZNS) as bot:
        code = await _file_named(bot, consent=why != "no consent")
        if why == "zns refuses":
            zalo.refuse_zns(-108)
        await _answer_ten_days_later(bot, clock, code)
        before = len(zalo.messages(CITIZEN))
    assert zalo.zns_sends == []
    assert (await _counts(database))["held"] == 1
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
    assert await _digest_counts(database) == (0, {"held": 1, "resent": 1, "template": 0})
