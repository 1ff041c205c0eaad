"""A send the database could not record is recorded later, never sent again (issue 11: a
locked SQLite file made the sender send 10 messages instead of 8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.runtime import send_record
from bot.runtime.sender import LEASE_S, OutboxSender
from storage.queries.outbox import mark_sent
from tests.bot.test_sender import Channel, Clock, _queue, _rows


@pytest.mark.parametrize("failures", [1, 3])
async def test_sent_but_not_recorded_is_recorded_later_not_sent_again(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, failures: int
) -> None:
    clock = Clock()
    await _queue(engine, [("a", "một"), ("a", "hai"), ("b", "ba")])
    channel = Channel()
    sender = OutboxSender(engine, channel, clock)
    left = failures

    async def flaky(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> Any:
        nonlocal left
        if left > 0:
            left -= 1
            raise sa.OperationalError("UPDATE outbox", {}, Exception("database is locked"))
        return await mark_sent(conn, ids, now)

    monkeypatch.setattr(send_record, "mark_sent", flaky)
    for _ in range(failures):
        with pytest.raises(sa.OperationalError):
            await sender.drain_once()
        # The leases run out meanwhile: the rows could be claimed again.
        clock.now += timedelta(seconds=LEASE_S + 1)
    await sender.drain_once()
    await sender.drain_once()
    assert sorted(channel.sent) == [("a", "hai"), ("a", "một"), ("b", "ba")]
    assert {status for _, status, _, _ in await _rows(engine)} == {"sent"}
