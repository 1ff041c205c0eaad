"""A complaint within the limit reaches staff whole: 2,000 "😡" are 2,000 characters (the
limit) but 4,000 UTF-16 code units, which is what Telegram counts. The staff alert and the
``/hoso`` card leave as one or more messages within 4,096 units, none dropped, none cut."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from bot.runtime.replies import utf16_length
from conversations import Choice, Command, Inbound, InboundEvent, Text
from storage import read_transaction
from storage.queries.outbox import pending
from tests.support.clock import SequentialClock, SequentialIds

STAFF = "staff-1"
SETTINGS = DispatchSettings(survey_ttl=timedelta(days=7), admin_chats=(("test", STAFF),))
TELEGRAM_MAX_UNITS = 4096


async def _texts(engine: AsyncEngine, clock: SequentialClock, chat: str) -> list[str]:
    async with read_transaction(engine) as conn:
        queued = await pending(conn, "test", clock(), chat_id=chat, limit=100)
    return [getattr(q.message, "text", "") for q in queued]


async def test_two_thousand_angry_faces_reach_staff(
    engine: AsyncEngine, clock: SequentialClock
) -> None:
    angry = "😡" * 2000
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=SequentialIds())
    steps: list[tuple[str, Inbound]] = [
        ("citizen", Command("phananh")),
        ("citizen", Choice("c.cat:capphep")),
        ("citizen", Text(angry)),
        ("citizen", Choice("c.files:done")),
        ("citizen", Choice("c.who:anon")),
        ("citizen", Choice("c.addr:skip")),
        ("citizen", Choice("c.confirm:send")),
    ]
    for n, (chat, payload) in enumerate(steps):
        [done] = await dispatcher.process([InboundEvent(f"e{n}", "test", chat, payload)])
        assert isinstance(done, Handled)
    alert = await _texts(engine, clock, STAFF)
    [code] = {w for t in alert for w in t.split() if w.startswith("PA-")}
    [done] = await dispatcher.process(
        [InboundEvent("card", "test", STAFF, Command("hoso", code), admin=True)]
    )
    assert isinstance(done, Handled)
    await dispatcher.close()
    card = [m.text for m in done.messages]
    for messages in (alert, card):
        assert all(utf16_length(t) <= TELEGRAM_MAX_UNITS for t in messages)
        assert "".join(messages).count("😡") == 2000  # every face arrived, none cut off
