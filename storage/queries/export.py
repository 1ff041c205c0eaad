"""Rows for the spreadsheet export: anonymous survey responses and the complaint register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import answers, complaint_events, complaints, survey_responses


@dataclass(frozen=True, slots=True)
class ExportResponse:
    """A completed survey without anything that leads back to a person or a chat."""

    completed_on: date
    procedure: str | None
    field: str | None
    answers: dict[str, int | str]


@dataclass(frozen=True, slots=True)
class ExportComplaint:
    code: str
    category: str
    status: str
    source: str
    created_on: date
    due_on: date
    closed_on: date | None
    rating: int | None
    anonymous: bool
    name: str | None
    phone: str | None
    description: str | None
    #: The law's deadlines (to forward, to tell the sender) and what stops them, for the
    #: overdue rule of ``conversations.deadlines``.
    accept_due_on: date | None = None
    forward_due_on: date | None = None
    forwarded_to: str | None = None
    accepted_at: datetime | None = None
    forwarded_on: date | None = None


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(0), tz),
        datetime.combine(end + timedelta(days=1), time(0), tz),
    )


async def responses_for_export(
    conn: AsyncConnection, start: date, end: date, tz: ZoneInfo, method: str
) -> list[ExportResponse]:
    """Completed surveys of ``method`` in the local days [start, end], oldest first: one sheet
    holds one method's columns, as one index holds one method's criteria."""
    low, high = _bounds(start, end, tz)
    rows = await conn.execute(
        select(
            survey_responses.c.id,
            survey_responses.c.completed_at,
            survey_responses.c.procedure,
            survey_responses.c.field,
        )
        .where(
            survey_responses.c.status == "completed",
            survey_responses.c.questionnaire == method,
            survey_responses.c.completed_at >= low,
            survey_responses.c.completed_at < high,
        )
        .order_by(survey_responses.c.completed_at, survey_responses.c.id)
    )
    found = [(int(r[0]), r[1], r[2], r[3]) for r in rows]
    given: dict[int, dict[str, int | str]] = {rid: {} for rid, *_ in found}
    if found:
        for r in await conn.execute(
            select(answers.c.response_id, answers.c.item, answers.c.value_int, answers.c.value_text)
            .join(survey_responses, survey_responses.c.id == answers.c.response_id)
            .where(
                survey_responses.c.status == "completed",
                survey_responses.c.questionnaire == method,
                survey_responses.c.completed_at >= low,
                survey_responses.c.completed_at < high,
            )
        ):
            given[int(r[0])][r[1]] = r[2] if r[2] is not None else r[3]
    return [
        ExportResponse(at.astimezone(tz).date(), procedure, field, given[rid])
        for rid, at, procedure, field in found
    ]


async def complaints_for_export(
    conn: AsyncConnection, start: date, end: date, tz: ZoneInfo
) -> list[ExportComplaint]:
    """Complaints filed in the period, and every case filed before it still open at its end
    (an old overdue case is the one most worth listing); the exporter leaves out personal
    data unless asked."""
    low, high = _bounds(start, end, tz)
    closed = (
        select(complaint_events.c.at)
        .where(
            complaint_events.c.complaint_id == complaints.c.id,
            complaint_events.c.to_status.in_(("resolved", "out_of_scope", "duplicate")),
        )
        .order_by(complaint_events.c.at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = await conn.execute(
        select(
            complaints.c.code,
            complaints.c.category,
            complaints.c.status,
            complaints.c.source,
            complaints.c.created_at,
            complaints.c.due_on,
            closed,
            complaints.c.rating,
            complaints.c.anonymous,
            complaints.c.reporter_name,
            complaints.c.reporter_phone,
            complaints.c.description,
            complaints.c.accept_due_on,
            complaints.c.forward_due_on,
            complaints.c.forwarded_to,
            complaints.c.accepted_at,
            complaints.c.forwarded_on,
        )
        .where(
            complaints.c.created_at < high,
            or_(
                complaints.c.created_at >= low,
                # Open at the period's end: open now, or closed only after it.
                complaints.c.status.in_(("new", "in_progress", "waiting_citizen")),
                closed >= high,
            ),
        )
        .order_by(complaints.c.created_at, complaints.c.id)
    )
    out: list[ExportComplaint] = []
    for r in rows:
        closed_at = r[6]
        if isinstance(closed_at, datetime) and closed_at.tzinfo is None:
            from datetime import UTC

            closed_at = closed_at.replace(tzinfo=UTC)
        out.append(
            ExportComplaint(
                code=r[0],
                category=r[1],
                status=r[2],
                source=r[3],
                created_on=r[4].astimezone(tz).date(),
                due_on=r[5],
                closed_on=closed_at.astimezone(tz).date()
                if isinstance(closed_at, datetime)
                else None,
                rating=r[7],
                anonymous=bool(r[8]),
                name=r[9],
                phone=r[10],
                description=r[11],
                accept_due_on=r[12],
                forward_due_on=r[13],
                forwarded_to=r[14],
                accepted_at=r[15],
                forwarded_on=r[16],
            )
        )
    return out
