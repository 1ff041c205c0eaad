"""Digest runs (each period once) and job requests (work asked for in chat)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import digest_runs, job_requests


async def claim_digest(
    conn: AsyncConnection, kind: str, start: date, end: date, now: datetime
) -> bool:
    """Records that this period's digest is being sent; False if it was already."""
    result = await conn.execute(
        insert_ignore(conn, digest_runs, ("kind", "period_start")).returning(digest_runs.c.kind),
        [{"kind": kind, "period_start": start, "period_end": end, "sent_at": now}],
    )
    return result.first() is not None


async def digest_sent(conn: AsyncConnection, kind: str, start: date) -> bool:
    found = await conn.execute(
        select(digest_runs.c.kind).where(
            digest_runs.c.kind == kind, digest_runs.c.period_start == start
        )
    )
    return found.first() is not None


@dataclass(frozen=True, slots=True)
class JobRequest:
    id: int
    kind: str
    channel: str
    chat_id: str
    language: str
    args: dict[str, Any]


async def pending_jobs(conn: AsyncConnection, limit: int = 10) -> list[JobRequest]:
    rows = await conn.execute(
        select(
            job_requests.c.id,
            job_requests.c.kind,
            job_requests.c.channel,
            job_requests.c.chat_id,
            job_requests.c.language,
            job_requests.c.args,
        )
        .where(job_requests.c.status == "pending")
        .order_by(job_requests.c.id)
        .limit(limit)
    )
    return [JobRequest(int(r[0]), r[1], r[2], r[3], r[4], dict(r[5] or {})) for r in rows]


async def finish_job(conn: AsyncConnection, job_id: int, status: str, now: datetime) -> bool:
    """Marks a request done (or failed); False if another worker finished it first."""
    result = await conn.execute(
        update(job_requests)
        .where(job_requests.c.id == job_id, job_requests.c.status == "pending")
        .values(status=status, done_at=now)
    )
    return bool(result.rowcount)


async def answered_since(
    conn: AsyncConnection, kind: str, channel: str, chat_id: str, since: datetime
) -> bool:
    """Whether this chat had a request of this kind answered since ``since``."""
    found = await conn.execute(
        select(job_requests.c.id)
        .where(
            job_requests.c.kind == kind,
            job_requests.c.channel == channel,
            job_requests.c.chat_id == chat_id,
            job_requests.c.status == "done",
            job_requests.c.done_at >= since,
        )
        .limit(1)
    )
    return found.first() is not None


async def first_contact_at(conn: AsyncConnection) -> datetime | None:
    """When the first citizen wrote: digests of periods before that are not sent."""
    from sqlalchemy import func

    from ..schema import contacts

    found = await conn.execute(select(func.min(contacts.c.created_at)))
    value = found.scalar_one_or_none()
    return value if isinstance(value, datetime) else None
