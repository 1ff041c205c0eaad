"""What an idle sender does, and one that starts (issue 17's mutants of
``bot.runtime.sender``): once the chats it served have rested (``idle_rest`` after their
chains ended), its next idle look deletes their lease rows, which keep each chat's last reply
time (issue 10: an idle chat keeps no lease row); before that, and with no chain ended, an
idle look writes nothing. A sender that starts frees the chats a killed process of this
machine still held. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.runtime.send_recorder as send_recorder
import bot.runtime.sender as sender_module
from bot.runtime.send_budget import Limits
from bot.runtime.sender import OutboxSender
from storage import write_transaction
from storage.queries.leases import lease_chats
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
        monkeypatch.setattr(send_recorder, "idle_rest", lambda *_: timedelta(0))
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
    monkeypatch.setattr(send_recorder, "idle_rest", lambda *_: timedelta(seconds=1))
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


def _dead_pid() -> int:
    """The id of a process of this machine that has ended."""
    proc = subprocess.Popen(["true"])  # any short-lived process
    proc.wait()
    return proc.pid


async def test_a_restarted_sender_frees_the_chats_a_killed_process_held(
    engine: AsyncEngine,
) -> None:
    """``start``: a process of this machine that was killed (kill -9) still holds its chats'
    leases; the new sender ends those at once, and only those: a live process's lease, or
    another machine's, runs on."""
    host = socket.gethostname()[:30]
    holders = {
        "dead": f"{host}:{_dead_pid()}:aaaa",
        "live": f"{host}:{os.getppid()}:bbbb",
        "elsewhere": f"another-host:{_dead_pid()}:cccc",
    }
    await _queue(engine, [(chat, f"to {chat}") for chat in holders])
    async with write_transaction(engine) as conn:
        for chat, holder in holders.items():
            leased = await lease_chats(
                conn, "telegram", holder, [chat], NOW, NOW + timedelta(seconds=20), burst=3, at=0
            )
            assert list(leased) == [chat]
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock(), Limits())
    assert await sender.start() == 1
    await sender.drain_once()
    assert channel.sent == [("dead", "to dead")]
    assert await sender.start() == 0  # ended once
