"""What reports need about dossiers in a period: counts, the dossiers completed, answer delays.

A dossier keeps only that its invitation is over (``INVITE_ENDED``), not how its survey ended:
the surveys answered are counted from the anonymous responses (those opened from an
invitation carry ``handed_over_month``), never per dossier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import dossier_answer_days, dossiers, survey_responses


@dataclass(frozen=True, slots=True)
class DossierCounts:
    """``registered``/``followed``: dossiers received in the period, and those a chat followed;
    ``invited``: invitations sent in the period (``in_progress``: of those, being answered
    now); ``answered``: surveys opened from an invitation and completed in the period (from
    the anonymous responses: an invitation sent late in one period may be answered in the
    next, so the rate of a short period is approximate)."""

    registered: int = 0
    followed: int = 0
    invited: int = 0
    answered: int = 0
    in_progress: int = 0


@dataclass(frozen=True, slots=True)
class CompletedDossier:
    procedure: str
    procedure_name: str | None
    received_on: date
    due_on: date
    completed_on: date
    legal_days: int | None


async def dossier_counts(
    conn: AsyncConnection, start: date, end: date, low: datetime, high: datetime
) -> DossierCounts:
    """Counts for local days [start, end] (= [low, high) in UTC; ``low``/``high`` aware)."""
    received = await conn.execute(
        select(func.count(), func.count(dossiers.c.followed_at)).where(
            dossiers.c.received_on >= start, dossiers.c.received_on <= end
        )
    )
    registered, followed = received.one()
    invited_rows = await conn.execute(
        select(dossiers.c.invite_status, func.count())
        .where(dossiers.c.invited_at >= low, dossiers.c.invited_at < high)
        .group_by(dossiers.c.invite_status)
    )
    by_status = {str(s): int(n) for s, n in invited_rows}
    answered = await conn.execute(
        select(func.count()).where(
            survey_responses.c.handed_over_month.is_not(None),
            survey_responses.c.status == "completed",
            survey_responses.c.completed_at >= low,
            survey_responses.c.completed_at < high,
        )
    )
    return DossierCounts(
        registered=int(registered),
        followed=int(followed),
        invited=sum(by_status.values()),
        answered=int(answered.scalar_one()),
        in_progress=by_status.get("in_progress", 0),
    )


async def completed_dossiers(
    conn: AsyncConnection, start: date, end: date
) -> list[CompletedDossier]:
    """Dossiers whose result was made in the period (the day of "result ready", else of the
    hand-over)."""
    rows = await conn.execute(
        select(
            dossiers.c.procedure,
            dossiers.c.procedure_name,
            dossiers.c.received_on,
            dossiers.c.due_on,
            dossiers.c.completed_on,
            dossiers.c.legal_days,
        )
        .where(and_(dossiers.c.completed_on >= start, dossiers.c.completed_on <= end))
        .order_by(dossiers.c.procedure, dossiers.c.completed_on)
    )
    return [CompletedDossier(*r) for r in rows]


async def answer_days(conn: AsyncConnection, start: date, end: date) -> dict[int, int]:
    """Surveys of invitations started in the period, by whole days after the hand-over (counted
    at the start, whatever became of them: see ``WriteSet.take_invitation``)."""
    rows = await conn.execute(
        select(dossier_answer_days.c.days, func.sum(dossier_answer_days.c.count))
        .where(dossier_answer_days.c.day >= start, dossier_answer_days.c.day <= end)
        .group_by(dossier_answer_days.c.days)
    )
    return {int(d): int(n) for d, n in rows}
