"""End to end over the fake Zalo (issue 15): every notice a staff action sends a complaint's
reporter goes the same way outside Zalo's 7 days, whatever its catalog key: ONE approved
template message when the agency has one, counted once; else held, and delivered once when
the citizen writes again (across a restart), counted held then re-sent.

The actions that tell the reporter: taking a new case (in progress), asking for more, the
answer with its rating request, forwarding it out of the agency's remit, and marking it a
duplicate. Before, the forward out of remit (``law.notice_forwarded``: not a "notice." key)
went neither as a template nor by ZNS, and was not counted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conversations.catalog import default_catalog
from tests.e2e.test_zalo_window import TEMPLATE, database
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo, running
from tests.support.zalo_e2e import (
    CITIZEN,
    STAFF,
    Life,
    counts,
    digest_counts,
    file_complaint,
    file_named,
    life,
    tracking_code,
)

__all__ = ["database"]  # the fixture, used by name

#: Where the forward out of remit sends the case (the officer's note).
ELSEWHERE = "Sở Giao thông vận tải TP Hồ Chí Minh"


@dataclass(frozen=True)
class Act:
    """A staff action that tells the reporter: its button, its note ("": none asked; "{first}":
    the code of the citizen's earlier complaint), what the notice says, and whether it has
    buttons (kept for the citizen's next message when it went as a template)."""

    name: str
    note: str
    says: str
    buttons: bool


ACTS = [
    Act("take", "", "đang được xử lý", buttons=False),
    Act("ask", "Xin gửi thêm ảnh chụp vỉa hè.", "Xin gửi thêm ảnh chụp vỉa hè.", buttons=True),
    Act("answer", "Đã tháo dỡ, dọn sạch vỉa hè.", "Đã tháo dỡ, dọn sạch vỉa hè.", buttons=True),
    Act("oos", ELSEWHERE, ELSEWHERE, buttons=False),
    Act("dup", "{first}", "trùng với phản ánh", buttons=False),
]


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with running(TEMPLATE) as fake:
        yield fake


async def act_later(bot: Life, clock: SettableClock, act: Act) -> str:
    """The citizen files a complaint (two for a duplicate: the second is acted on); 10 days
    later, Zalo's window closed, staff ``act`` on it. The code acted on."""
    code = first = await file_complaint(bot)
    if act.name == "dup":
        before = len(bot.zalo.messages(CITIZEN))
        await bot.text(CITIZEN, "/phananh")
        await bot.text(CITIZEN, "2")
        await bot.text(CITIZEN, "Lại lấn chiếm vỉa hè trước số 12 đường Lê Lợi.")
        await bot.text(CITIZEN, "xong")
        await bot.press(CITIZEN, "#c:c.who:anon")
        await bot.press(CITIZEN, "#c:c.addr:skip")
        await bot.press(CITIZEN, "#c:c.confirm:send")
        code = tracking_code([m.text for m in bot.zalo.messages(CITIZEN)[before:]])
        assert code != first
    clock.now += timedelta(days=10)
    bot.zalo.out_of_window(CITIZEN)  # Zalo's clock agrees: the window is closed
    await bot.text(STAFF, "/start")  # staff are within their own window
    await bot.press(STAFF, f"#c:case:{code}:{act.name}")
    if act.note:
        await bot.text(STAFF, act.note.format(first=first))
    return code


def staff_done(zalo: FakeZalo, code: str) -> str:
    """What the officer was told when their action on ``code`` was done (an open case's card
    follows it)."""
    done = [m.text for m in zalo.messages(STAFF)[-2:] if m.text.startswith(f"Đã cập nhật {code}")]
    assert done, zalo.messages(STAFF)[-2:]
    return done[-1]


def told(zalo: FakeZalo, code: str) -> list[str]:
    """The citizen's messages (normal ones) that are the notice of ``code``'s action."""
    return [m.text for m in zalo.messages(CITIZEN) if code in m.text]


@pytest.mark.parametrize("act", ACTS, ids=lambda a: a.name)
async def test_outside_the_window_each_notice_is_one_template_counted_once(
    zalo: FakeZalo, database: Database, act: Act
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, TEMPLATE) as bot:
        code = await act_later(bot, clock, act)
    [sent] = zalo.template_sends  # one template message for one notice
    assert (sent.user_id, sent.template_id) == (CITIZEN, TEMPLATE)
    assert code in sent.data["content"], sent.data
    assert act.says in sent.data["content"], sent.data
    if act.note:  # staff are told how the sender hears of it (a take redraws the card)
        assert "Người gửi được báo bằng tin mẫu Zalo" in staff_done(zalo, code)
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
    # A notice with buttons waits whole for the citizen's next message; it is not recounted.
    assert (await counts(database)).get("held", 0) == (1 if act.buttons else 0)
    async with life(zalo, database, clock, TEMPLATE) as bot:  # restarted
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
    assert (await counts(database)).get("held", 0) == 0
    assert len(zalo.template_sends) == 1
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})


@pytest.mark.parametrize("act", ACTS, ids=lambda a: a.name)
async def test_without_a_template_each_notice_is_held_and_arrives_once(
    zalo: FakeZalo, database: Database, act: Act
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock) as bot:
        code = await act_later(bot, clock, act)
    before = len(zalo.messages(CITIZEN))
    assert not [t for t in told(zalo, code) if act.says in t]  # not sent yet
    assert (await counts(database))["held"] == 1
    if act.note:  # staff are told the truth: held until the citizen writes
        assert "Người gửi chưa được báo" in staff_done(zalo, code)
    assert zalo.template_sends == []
    clock.now += timedelta(hours=5)
    async with life(zalo, database, clock) as bot:  # restarted
        assert len(zalo.messages(CITIZEN)) == before
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
        await bot.text(CITIZEN, "Cảm ơn")
    after = [m.text for m in zalo.messages(CITIZEN)[before:]]
    notices = [t for t in after if code in t and act.says in t]
    assert len(notices) == 1, after  # once
    assert after[0] == notices[0], after  # the held notice comes before the replies
    assert (await counts(database)).get("held", 0) == 0
    # Held, then re-sent: the digest counts each once.
    assert await digest_counts(database) == (0, {"held": 1, "resent": 1, "template": 0})


async def test_with_consent_a_forward_out_of_remit_goes_by_zns_counted_once(
    zalo: FakeZalo, database: Database
) -> None:
    zns = "412233"
    zalo.approve_zns(zns, {"code", "status", "date"})
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, zns=zns) as bot:
        code = await file_named(bot, consent=True)
        clock.now += timedelta(days=10)
        bot.zalo.out_of_window(CITIZEN)
        await bot.text(STAFF, "/start")
        await bot.press(STAFF, f"#c:case:{code}:oos")
        await bot.text(STAFF, ELSEWHERE)
    [sent] = zalo.zns_sends
    assert "Người gửi được báo bằng tin mẫu Zalo" in staff_done(zalo, code)
    day = f"{clock.now.astimezone(ZoneInfo('Asia/Ho_Chi_Minh')):%d/%m/%Y}"
    status = default_catalog().text("vi", "status.out_of_scope")
    assert sent.data == {"code": code, "status": status, "date": day}
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
    # The ZNS names only the status: the whole forward (where to) waits for their message.
    before = len(zalo.messages(CITIZEN))
    async with life(zalo, database, clock, zns=zns) as bot:  # restarted
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
    after = [m.text for m in zalo.messages(CITIZEN)[before:]]
    assert len([t for t in after if code in t and ELSEWHERE in t]) == 1, after
    assert len(zalo.zns_sends) == 1
    assert (await counts(database)).get("held", 0) == 0
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
