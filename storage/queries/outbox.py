"""The outbox: replies queued in the event's transaction, drained by a channel's sender."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import contacts, outbox


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int


async def pending(
    conn: AsyncConnection,
    channel: str,
    now: datetime,
    *,
    chat_id: str | None = None,
    limit: int = 100,
) -> list[OutboxRow]:
    """Messages due to leave, oldest first (per chat order is the id order)."""
    stmt = (
        select(outbox.c.id, outbox.c.channel, outbox.c.chat_id, outbox.c.payload, outbox.c.attempts)
        .where(
            outbox.c.status == "pending",
            outbox.c.channel == channel,
            or_(outbox.c.not_before.is_(None), outbox.c.not_before <= now),
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if chat_id is not None:
        stmt = stmt.where(outbox.c.chat_id == chat_id)
    rows = await conn.execute(stmt)
    return [OutboxRow(int(r[0]), r[1], r[2], dict(r[3] or {}), int(r[4])) for r in rows]


async def mark_sent(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> None:
    """Sent: the text is dropped (it may hold a survey summary), the row stays as a record."""
    if ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(list(ids)))
            .values(status="sent", sent_at=now, payload=None, attempts=outbox.c.attempts + 1)
        )


async def mark_retry(
    conn: AsyncConnection, message_id: int, not_before: datetime, error: str
) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(attempts=outbox.c.attempts + 1, not_before=not_before, last_error=error[:200])
    )


async def mark_dead(conn: AsyncConnection, message_id: int, error: str) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(status="dead", payload=None, last_error=error[:200])
    )


async def stop_contact(conn: AsyncConnection, channel: str, chat_id: str) -> None:
    """The chat blocked us: stop sending, and drop what was still queued for it."""
    await conn.execute(
        update(contacts)
        .where(contacts.c.channel == channel, contacts.c.external_id == chat_id)
        .values(stopped=True)
    )
    await conn.execute(
        update(outbox)
        .where(
            outbox.c.channel == channel,
            outbox.c.chat_id == chat_id,
            outbox.c.status == "pending",
        )
        .values(status="dead", payload=None, last_error="chat blocked")
    )


async def mark_held(conn: AsyncConnection, message_id: int, error: str) -> None:
    """Not deliverable now (Zalo's 7-day window): kept, with its text, for staff to see."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(status="held", attempts=outbox.c.attempts + 1, last_error=error[:200])
    )


async def held_since(conn: AsyncConnection, since: datetime) -> int:
    """Messages held back since a moment (for the digest)."""
    from sqlalchemy import func

    found = await conn.execute(
        select(func.count()).where(outbox.c.status == "held", outbox.c.created_at >= since)
    )
    return int(found.scalar_one())
