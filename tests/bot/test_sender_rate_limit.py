"""A 429's ``retry_after`` is obeyed three ways: the row waits that long, this process pauses
that long, and every other process drawing on the channel's shared budget pauses too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import RateLimited
from bot.runtime.sender import IDLE_WAKE_S
from storage import write_transaction
from storage.schema import outbox
from tests.bot.test_sender import NOW, Channel, _queue, _rows, _sender

RETRY_AFTER = 30.0  # far above the sender's own waits (IDLE_WAKE_S, backoffs), so it shows


async def test_retry_after_holds_the_row_this_process_and_the_others(engine: AsyncEngine) -> None:
    answers = [RateLimited(RETRY_AFTER)]  # Telegram's 429, once

    def script(_chat: str, _text: str, _n: int) -> None:
        if answers:
            raise answers.pop()

    await _queue(engine, [("1", "a")])
    sender = _sender(engine, channel := Channel(script))
    await sender.drain_once()
    assert (channel.sent, await _rows(engine)) == ([], [("1", "pending", "RateLimited", 1)])
    async with engine.connect() as conn:
        not_before = (await conn.execute(select(outbox.c.not_before))).scalar_one()
    assert not_before == NOW + timedelta(seconds=RETRY_AFTER)
    # This process waits the whole pause, not its usual idle look.
    wait = await sender.step()
    assert IDLE_WAKE_S < RETRY_AFTER - 5 < wait <= RETRY_AFTER
    # Another process (its own sender, no pause of its own) finds the row due, yet the
    # channel's shared budget is empty for the pause: nothing leaves.
    async with write_transaction(engine) as conn:
        await conn.execute(outbox.update().values(not_before=None))
    other_channel = Channel()
    other = _sender(engine, other_channel)
    await other.drain_once()
    assert other_channel.sent == []
    assert (await _rows(engine))[0][1] == "pending"
