"""The digest's view of complaints: how many were filed in a period, and every open case
with all its deadlines (``conversations.deadlines`` decides which were missed).

Split from ``storage.queries.complaints`` (lookups for an event and a batch's writes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import OPEN_COMPLAINT_STATUSES, complaints


@dataclass(frozen=True, slots=True)
class OpenCase:
    """An open case with every deadline it carries (for the digest's overdue lists)."""

    code: str
    status: str
    due_on: date
    accept_due_on: date | None
    forward_due_on: date | None
    forwarded_to: str | None
    assignee_name: str | None
    accepted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Overview:
    new: int
    #: Every open case, by the day to resolve it.
    cases: tuple[OpenCase, ...] = ()

    @property
    def open(self) -> tuple[tuple[str, date], ...]:
        """(code, due date) of each open case, by due date."""
        return tuple((c.code, c.due_on) for c in self.cases)

    @property
    def owners(self) -> tuple[str | None, ...]:
        """The officer's name who has each open case (None: nobody took it), in order."""
        return tuple(c.assignee_name for c in self.cases)


async def overview(conn: AsyncConnection, start: datetime, end: datetime) -> Overview:
    """For digests: complaints filed in [start, end), and every open one with its deadlines."""
    new = await conn.execute(
        select(func.count()).where(complaints.c.created_at >= start, complaints.c.created_at < end)
    )
    rows = await conn.execute(
        select(
            complaints.c.code,
            complaints.c.status,
            complaints.c.due_on,
            complaints.c.accept_due_on,
            complaints.c.forward_due_on,
            complaints.c.forwarded_to,
            complaints.c.assignee_name,
            complaints.c.accepted_at,
        )
        .where(complaints.c.status.in_(OPEN_COMPLAINT_STATUSES))
        .order_by(complaints.c.due_on, complaints.c.code)
    )
    return Overview(int(new.scalar_one()), tuple(OpenCase(*r) for r in rows))
