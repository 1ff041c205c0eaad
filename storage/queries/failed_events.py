"""Inbound events that could not be read or handled: which, where, why; never what they said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import failed_events


@dataclass(frozen=True, slots=True)
class FailedEvent:
    channel: str
    event_id: str | None
    stage: str
    error: str
    ref: str
    answered: bool
    failed_at: datetime


async def record_failed_event(conn: AsyncConnection, failed: FailedEvent) -> None:
    await conn.execute(
        failed_events.insert().values(
            channel=failed.channel[:16],
            event_id=None if failed.event_id is None else failed.event_id[:128],
            stage=failed.stage[:12],
            error=failed.error[:120],
            ref=failed.ref[:16],
            answered=failed.answered,
            failed_at=failed.failed_at,
        )
    )


async def failed_between(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    """How many events failed in [start, end) (for the digest)."""
    found = await conn.execute(
        select(func.count()).where(
            failed_events.c.failed_at >= start, failed_events.c.failed_at < end
        )
    )
    return int(found.scalar_one())


async def recent_failures(conn: AsyncConnection, limit: int = 100) -> list[FailedEvent]:
    """The latest failures, newest first."""
    rows = await conn.execute(
        select(
            failed_events.c.channel,
            failed_events.c.event_id,
            failed_events.c.stage,
            failed_events.c.error,
            failed_events.c.ref,
            failed_events.c.answered,
            failed_events.c.failed_at,
        )
        .order_by(failed_events.c.id.desc())
        .limit(limit)
    )
    return [FailedEvent(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]
