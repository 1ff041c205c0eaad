"""A chat claimed with nothing due by the time its rows are read is claimed again later and
its messages sent (issue 11, found by the 429/500 fault suite on PostgreSQL: a retry recorded
by an event's transaction between the sender's claim and its read left the chat "in hand"
with no message, and its reply was never sent while the lease kept being renewed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.runtime import sender as sender_module
from bot.runtime.sender import OutboxSender
from storage.queries.outbox import OutboxRow, pending_for_chats
from tests.bot.test_sender import Channel, Clock, _queue, _rows


@pytest.mark.parametrize(
    ("queued", "read_empty"),
    [
        ([("a", "một")], {"a"}),
        ([("a", "một"), ("b", "hai")], {"a"}),
        ([("a", "một"), ("a", "hai"), ("b", "ba")], {"a", "b"}),
    ],
)
async def test_a_chat_claimed_with_nothing_due_is_claimed_again(
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    queued: list[tuple[str, str]],
    read_empty: set[str],
) -> None:
    await _queue(engine, queued)
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    raced = False

    async def read(
        conn: AsyncConnection, channel_name: str, chats: Sequence[str], now: datetime, **kw: int
    ) -> dict[str, list[OutboxRow]]:
        nonlocal raced
        rows = await pending_for_chats(conn, channel_name, chats, now, **kw)
        if not raced:  # the first read: these chats' rows stopped being due since the claim
            raced = True
            return {chat: [] if chat in read_empty else found for chat, found in rows.items()}
        return rows

    monkeypatch.setattr(sender_module, "pending_for_chats", read)
    for _ in range(3):
        await sender.drain_once()
    assert sorted(channel.sent) == sorted(queued)
    assert {status for _, status, _, _ in await _rows(engine)} == {"sent"}
