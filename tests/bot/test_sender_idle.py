"""What an idle sender does (issue 17's mutants of ``bot.runtime.sender``): once the chats it
served have rested (``idle_rest`` after their chains ended), its next idle look deletes their
lease rows, which keep each chat's last reply time (issue 10: an idle chat keeps no lease
row); before that, and with no chain ended, an idle look writes nothing. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.runtime.sender as sender_module
from bot.runtime.send_budget import Limits
from bot.runtime.sender import OutboxSender
from storage.schema import outbox_leases
from tests.bot.test_sender import NOW, Channel, Clock, _queue


async def _leased(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(outbox_leases.c.chat_id).order_by(outbox_leases.c.chat_id)
        )
        return [str(c) for c in found.scalars()]


@pytest.mark.parametrize("rested", [True, False], ids=["rested", "not-yet"])
async def test_an_idle_look_forgets_the_leases_of_chats_that_have_rested(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, rested: bool
) -> None:
    # The rest is measured on the sender's monotonic clock: made nothing here, so that the
    # first idle look after the chains is due to forget; the rows' own age is the test clock's.
    if rested:
        monkeypatch.setattr(sender_module, "idle_rest", lambda *_: timedelta(0))
        monkeypatch.setattr(sender_module, "IDLE_WAKE_S", 0.0)
    clock = Clock()
    sender = OutboxSender(engine, Channel(), clock, Limits())
    await _queue(engine, [("1", "a"), ("2", "b")])
    await sender.drain_once()
    assert sender.sent == 2
    assert await _leased(engine) == ["1", "2"]
    # Nothing due: the next step claims nothing (a claim would forget idle leases itself).
    await sender.step()
    assert await _leased(engine) == ["1", "2"]
    clock.now = NOW + timedelta(hours=1)  # the leases ended an hour ago by the database's time
    await sender.step()  # an idle look: nothing is due
    assert await _leased(engine) == ([] if rested else ["1", "2"])
    # Forgotten once: the next idle looks go on looking, and nothing comes back.
    await sender.step()
    await sender.step()
    assert await _leased(engine) == ([] if rested else ["1", "2"])


async def test_a_fresh_sender_with_nothing_to_send_looks_and_waits(engine: AsyncEngine) -> None:
    sender = OutboxSender(engine, Channel(), Clock(), Limits())
    for _ in range(3):
        assert await sender.step() > 0
    assert await _leased(engine) == []
    assert sender.sent == 0


async def test_the_idle_look_waits_until_the_leases_have_rested(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look that forgets comes once the leases are idle by the database's clock, not
    before: one too early deletes nothing, and no later idle look tries again."""
    # The database's clock runs ten times as fast as the sender's monotonic one: its 10 s
    # rest (``LEASE_REST``) is 1 s here, which the sender's own rest is made to match.
    monkeypatch.setattr(sender_module, "idle_rest", lambda *_: timedelta(seconds=1))
    monkeypatch.setattr(sender_module, "IDLE_WAKE_S", 0.5)
    start = time.monotonic()

    def clock() -> datetime:
        return NOW + timedelta(seconds=10 * (time.monotonic() - start))

    sender = OutboxSender(engine, Channel(), clock, Limits())
    await _queue(engine, [("1", "a")])
    await sender.drain_once()
    assert await _leased(engine) == ["1"]
    until = time.monotonic() + 4
    while await _leased(engine) and time.monotonic() < until:
        await sender.step()
        await asyncio.sleep(0.05)
    assert await _leased(engine) == []
