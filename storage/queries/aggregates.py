"""Survey aggregates: kept up to date when surveys end, summed for reports, and recounted
from the raw answers to prove they agree."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import answers, complaints, survey_daily, survey_daily_counts, survey_responses

Key = tuple[date, str, str]  # (local day, procedure, field)
Increments = dict[tuple[date, str, str, str, str], int]
Explode = Callable[[Mapping[str, int | str]], Mapping[tuple[str, str], int]]


@dataclass(frozen=True, slots=True)
class Ended:
    response_id: int
    status: str
    at: datetime


async def record_ended(
    conn: AsyncConnection, ended: Sequence[Ended], tz: ZoneInfo, explode: Explode
) -> None:
    """Adds the surveys that just ended to the aggregates (in the caller's transaction).

    Only responses still in progress count, so an end applied twice is counted once.
    """
    if not ended:
        return
    ids = [e.response_id for e in ended]
    rows = await conn.execute(
        select(survey_responses.c.id, survey_responses.c.procedure, survey_responses.c.field).where(
            survey_responses.c.id.in_(ids), survey_responses.c.status == "in_progress"
        )
    )
    where = {int(r[0]): (r[1] or "", r[2] or "") for r in rows}
    if not where:
        return
    by_id = {e.response_id: e for e in ended if e.response_id in where}
    completed = [rid for rid, e in by_id.items() if e.status == "completed"]
    given: dict[int, dict[str, int | str]] = {rid: {} for rid in completed}
    if completed:
        for r in await conn.execute(
            select(
                answers.c.response_id, answers.c.item, answers.c.value_int, answers.c.value_text
            ).where(answers.c.response_id.in_(completed))
        ):
            given[int(r[0])][r[1]] = r[2] if r[2] is not None else r[3]
    daily: Increments = {}
    counts: dict[tuple[date, str, str, str], int] = {}
    for rid, e in by_id.items():
        day = e.at.astimezone(tz).date()
        procedure, field = where[rid]
        status = "completed" if e.status == "completed" else "partial"
        counts[(day, procedure, field, status)] = counts.get((day, procedure, field, status), 0) + 1
        if e.status == "completed":
            for (item, value), n in explode(given[rid]).items():
                key = (day, procedure, field, item, value)
                daily[key] = daily.get(key, 0) + n
    await add_counts(conn, daily, counts)


async def add_counts(
    conn: AsyncConnection,
    daily: Increments,
    counts: Mapping[tuple[date, str, str, str], int],
) -> None:
    """Upserts increments: count = count + n."""
    from ..dialect import add_upsert

    if daily:
        stmt = add_upsert(conn, survey_daily, ("day", "procedure", "field", "item", "value"))
        await conn.execute(
            stmt,
            [
                {"day": d, "procedure": p, "field": f, "item": i, "value": v, "count": n}
                for (d, p, f, i, v), n in daily.items()
            ],
        )
    if counts:
        stmt = add_upsert(conn, survey_daily_counts, ("day", "procedure", "field", "status"))
        await conn.execute(
            stmt,
            [
                {"day": d, "procedure": p, "field": f, "status": s, "count": n}
                for (d, p, f, s), n in counts.items()
            ],
        )


def _filters(
    table: object, start: date, end: date, procedure: str | None, field: str | None
) -> list[object]:
    t = table  # a Table with day/procedure/field columns
    conditions: list[object] = [t.c.day >= start, t.c.day <= end]  # type: ignore[attr-defined]
    if procedure is not None:
        conditions.append(t.c.procedure == procedure)  # type: ignore[attr-defined]
    if field is not None:
        conditions.append(t.c.field == field)  # type: ignore[attr-defined]
    return conditions


async def summed(
    conn: AsyncConnection,
    start: date,
    end: date,
    *,
    procedure: str | None = None,
    field: str | None = None,
) -> tuple[dict[tuple[str, str], int], int, int]:
    """Answer counts by (item, value), and completed and partial survey counts, in a period."""
    rows = await conn.execute(
        select(survey_daily.c.item, survey_daily.c.value, func.sum(survey_daily.c.count))
        .where(*_filters(survey_daily, start, end, procedure, field))  # type: ignore[arg-type]
        .group_by(survey_daily.c.item, survey_daily.c.value)
    )
    counts = {(r[0], r[1]): int(r[2]) for r in rows}
    totals = await conn.execute(
        select(survey_daily_counts.c.status, func.sum(survey_daily_counts.c.count))
        .where(*_filters(survey_daily_counts, start, end, procedure, field))  # type: ignore[arg-type]
        .group_by(survey_daily_counts.c.status)
    )
    by_status = {r[0]: int(r[1]) for r in totals}
    return counts, by_status.get("completed", 0), by_status.get("partial", 0)


async def in_progress(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    *,
    procedure: str | None = None,
    field: str | None = None,
) -> int:
    """Surveys started in [start, end) and still in progress (not ended: not in the
    aggregates). Uses the (status, …) index; in-progress surveys are few, they expire."""
    conditions = [
        survey_responses.c.status == "in_progress",
        survey_responses.c.started_at >= start,
        survey_responses.c.started_at < end,
    ]
    if procedure is not None:
        conditions.append(survey_responses.c.procedure == procedure)
    if field is not None:
        conditions.append(survey_responses.c.field == field)
    found = await conn.execute(
        select(func.count()).select_from(survey_responses).where(*conditions)
    )
    return int(found.scalar_one())


@dataclass(frozen=True, slots=True)
class SurveySources:
    """Surveys completed in a period by how they were opened: from a receipt's code, from a
    dossier's invitation, or from the menu (one per chat per period, ``OPEN_SURVEY_PERIOD``)."""

    receipt: int = 0
    invitation: int = 0
    open: int = 0


async def completed_sources(conn: AsyncConnection, start: datetime, end: datetime) -> SurveySources:
    """Completed surveys with ``completed_at`` in [start, end), counted by how they opened
    (``completed_at`` is kept to the hour; local days start on a whole hour in Vietnam)."""
    invited = survey_responses.c.handed_over_month.is_not(None)
    rows = await conn.execute(
        select(survey_responses.c.with_receipt, invited, func.count())
        .where(
            survey_responses.c.status == "completed",
            survey_responses.c.completed_at >= start,
            survey_responses.c.completed_at < end,
        )
        .group_by(survey_responses.c.with_receipt, invited)
    )
    counts = {"receipt": 0, "invitation": 0, "open": 0}
    for with_receipt, was_invited, n in rows:
        kind = "receipt" if with_receipt else "invitation" if was_invited else "open"
        counts[kind] += int(n)
    return SurveySources(**counts)


async def complaint_ratings(
    conn: AsyncConnection, start: datetime, end: datetime
) -> tuple[int, int, int, int, int]:
    """How complaint handling was rated (1..5) by ratings given in [start, end)."""
    rows = await conn.execute(
        select(complaints.c.rating, func.count())
        .where(
            complaints.c.rating.is_not(None),
            complaints.c.rated_at >= start,
            complaints.c.rated_at < end,
        )
        .group_by(complaints.c.rating)
    )
    found = {int(r[0]): int(r[1]) for r in rows}
    return (found.get(1, 0), found.get(2, 0), found.get(3, 0), found.get(4, 0), found.get(5, 0))


async def recount(
    conn: AsyncConnection, tz: ZoneInfo, explode: Explode
) -> tuple[Increments, dict[tuple[date, str, str, str], int]]:
    """The aggregates computed afresh from the raw responses and answers."""
    daily: Increments = {}
    counts: dict[tuple[date, str, str, str], int] = {}
    responses = await conn.execute(
        select(
            survey_responses.c.id,
            survey_responses.c.status,
            survey_responses.c.procedure,
            survey_responses.c.field,
            survey_responses.c.ended_at,
        ).where(survey_responses.c.status != "in_progress")
    )
    meta = {int(r[0]): (r[1], r[2] or "", r[3] or "", r[4]) for r in responses}
    given: dict[int, dict[str, int | str]] = {
        rid: {} for rid, m in meta.items() if m[0] == "completed"
    }
    for r in await conn.execute(
        select(answers.c.response_id, answers.c.item, answers.c.value_int, answers.c.value_text)
    ):
        if int(r[0]) in given:
            given[int(r[0])][r[1]] = r[2] if r[2] is not None else r[3]
    for rid, (status, procedure, field, ended_at) in meta.items():
        day = ended_at.astimezone(tz).date()
        kind = "completed" if status == "completed" else "partial"
        counts[(day, procedure, field, kind)] = counts.get((day, procedure, field, kind), 0) + 1
        if status == "completed":
            for (item, value), n in explode(given[rid]).items():
                key = (day, procedure, field, item, value)
                daily[key] = daily.get(key, 0) + n
    return daily, counts


async def stored(
    conn: AsyncConnection,
) -> tuple[Increments, dict[tuple[date, str, str, str], int]]:
    daily = {
        (r[0], r[1], r[2], r[3], r[4]): int(r[5])
        for r in await conn.execute(select(survey_daily))
        if int(r[5])
    }
    counts = {
        (r[0], r[1], r[2], r[3]): int(r[4])
        for r in await conn.execute(select(survey_daily_counts))
        if int(r[4])
    }
    return daily, counts


async def first_survey_day(conn: AsyncConnection) -> date | None:
    """The first day with an ended survey (a report without dates starts there)."""
    found = await conn.execute(select(func.min(survey_daily_counts.c.day)))
    value = found.scalar_one_or_none()
    return value if isinstance(value, date) else None
