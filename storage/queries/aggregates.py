"""Survey aggregates: kept up to date when surveys end, summed for reports, and recounted
from the raw answers to prove they agree.

Every row carries the SIPAS method of the survey it counts (``survey_responses.questionnaire``:
sipas-1001 or sipas-2640, LAW-2026.md): a criterion code means a different question in each
method, so sums are always taken within one method and never across two."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import answers, complaints, survey_daily, survey_daily_counts, survey_responses

#: (local day, method, procedure, field, item, value) -> answers
Increments = dict[tuple[date, str, str, str, str, str], int]
#: (local day, method, procedure, field, status) -> surveys ended
Totals = dict[tuple[date, str, str, str, str], int]
#: A completed survey's answers and its method -> its increments by (item, value).
Explode = Callable[[Mapping[str, int | str], str], Mapping[tuple[str, str], int]]


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
        select(
            survey_responses.c.id,
            survey_responses.c.questionnaire,
            survey_responses.c.procedure,
            survey_responses.c.field,
        ).where(survey_responses.c.id.in_(ids), survey_responses.c.status == "in_progress")
    )
    where = {int(r[0]): (str(r[1]), r[2] or "", r[3] or "") for r in rows}
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
    counts: Totals = {}
    for rid, e in by_id.items():
        day = e.at.astimezone(tz).date()
        method, procedure, field = where[rid]
        _tally(daily, counts, (day, method, procedure, field), e.status, given.get(rid), explode)
    await add_counts(conn, daily, counts)


def _tally(
    daily: Increments,
    counts: Totals,
    where: tuple[date, str, str, str],
    status: str,
    given: Mapping[str, int | str] | None,
    explode: Explode,
) -> None:
    """Adds one ended survey at ``where`` (day, method, procedure, field) to the sums."""
    kind = "completed" if status == "completed" else "partial"
    counts[(*where, kind)] = counts.get((*where, kind), 0) + 1
    if status == "completed" and given is not None:
        for (item, value), n in explode(given, where[1]).items():
            key = (*where, item, value)
            daily[key] = daily.get(key, 0) + n


async def add_counts(
    conn: AsyncConnection,
    daily: Increments,
    counts: Mapping[tuple[date, str, str, str, str], int],
) -> None:
    """Upserts increments: count = count + n."""
    from ..dialect import add_upsert

    if daily:
        stmt = add_upsert(
            conn, survey_daily, ("day", "method", "procedure", "field", "item", "value")
        )
        await conn.execute(
            stmt,
            [
                {
                    "day": d,
                    "method": m,
                    "procedure": p,
                    "field": f,
                    "item": i,
                    "value": v,
                    "count": n,
                }
                for (d, m, p, f, i, v), n in daily.items()
            ],
        )
    if counts:
        stmt = add_upsert(
            conn, survey_daily_counts, ("day", "method", "procedure", "field", "status")
        )
        await conn.execute(
            stmt,
            [
                {"day": d, "method": m, "procedure": p, "field": f, "status": s, "count": n}
                for (d, m, p, f, s), n in counts.items()
            ],
        )


def _filters(
    table: object,
    start: date,
    end: date,
    procedure: str | None,
    field: str | None,
    method: str,
) -> list[object]:
    t = table  # a Table with day/method/procedure/field columns
    conditions: list[object] = [
        t.c.day >= start,  # type: ignore[attr-defined]
        t.c.day <= end,  # type: ignore[attr-defined]
        t.c.method == method,  # type: ignore[attr-defined]
    ]
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
    method: str,
    procedure: str | None = None,
    field: str | None = None,
) -> tuple[dict[tuple[str, str], int], int, int]:
    """Answer counts by (item, value), and completed and partial survey counts, in a period,
    of the surveys taken with ``method`` only (one method per index, never two mixed)."""
    rows = await conn.execute(
        select(survey_daily.c.item, survey_daily.c.value, func.sum(survey_daily.c.count))
        .where(*_filters(survey_daily, start, end, procedure, field, method))  # type: ignore[arg-type]
        .group_by(survey_daily.c.item, survey_daily.c.value)
    )
    counts = {(r[0], r[1]): int(r[2]) for r in rows}
    totals = await conn.execute(
        select(survey_daily_counts.c.status, func.sum(survey_daily_counts.c.count))
        .where(*_filters(survey_daily_counts, start, end, procedure, field, method))  # type: ignore[arg-type]
        .group_by(survey_daily_counts.c.status)
    )
    by_status = {r[0]: int(r[1]) for r in totals}
    return counts, by_status.get("completed", 0), by_status.get("partial", 0)


async def in_progress(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    *,
    method: str,
    procedure: str | None = None,
    field: str | None = None,
) -> int:
    """Surveys of ``method`` started in [start, end) and still in progress (not ended: not in
    the aggregates). Uses the (status, …) index; in-progress surveys are few, they expire."""
    conditions = [
        survey_responses.c.status == "in_progress",
        survey_responses.c.questionnaire == method,
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


async def completed_sources(
    conn: AsyncConnection, start: datetime, end: datetime, *, method: str
) -> SurveySources:
    """Completed surveys of ``method`` with ``completed_at`` in [start, end), counted by how
    they opened (``completed_at`` is kept to the hour; local days start on a whole hour in
    Vietnam). One method, as the counts they break down: never a mix of two questionnaires."""
    invited = survey_responses.c.handed_over_month.is_not(None)
    rows = await conn.execute(
        select(survey_responses.c.with_receipt, invited, func.count())
        .where(
            survey_responses.c.status == "completed",
            survey_responses.c.questionnaire == method,
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
) -> tuple[Increments, Totals]:
    """The aggregates computed afresh from the raw responses and answers."""
    daily: Increments = {}
    counts: Totals = {}
    responses = await conn.execute(
        select(
            survey_responses.c.id,
            survey_responses.c.status,
            survey_responses.c.questionnaire,
            survey_responses.c.procedure,
            survey_responses.c.field,
            survey_responses.c.ended_at,
        ).where(survey_responses.c.status != "in_progress")
    )
    meta = {int(r[0]): (r[1], str(r[2]), r[3] or "", r[4] or "", r[5]) for r in responses}
    given: dict[int, dict[str, int | str]] = {
        rid: {} for rid, m in meta.items() if m[0] == "completed"
    }
    for r in await conn.execute(
        select(answers.c.response_id, answers.c.item, answers.c.value_int, answers.c.value_text)
    ):
        if int(r[0]) in given:
            given[int(r[0])][r[1]] = r[2] if r[2] is not None else r[3]
    for rid, (status, method, procedure, field, ended_at) in meta.items():
        day = ended_at.astimezone(tz).date()
        _tally(daily, counts, (day, method, procedure, field), status, given.get(rid), explode)
    return daily, counts


async def stored(conn: AsyncConnection) -> tuple[Increments, Totals]:
    """The kept aggregates as ``recount`` returns them."""
    d, c = survey_daily.c, survey_daily_counts.c
    daily = {
        (r[0], r[1], r[2], r[3], r[4], r[5]): int(r[6])
        for r in await conn.execute(
            select(d.day, d.method, d.procedure, d.field, d.item, d.value, d.count)
        )
        if int(r[6])
    }
    counts = {
        (r[0], r[1], r[2], r[3], r[4]): int(r[5])
        for r in await conn.execute(
            select(c.day, c.method, c.procedure, c.field, c.status, c.count)
        )
        if int(r[5])
    }
    return daily, counts


async def first_survey_day(conn: AsyncConnection) -> date | None:
    """The first day with an ended survey (a report without dates starts there)."""
    found = await conn.execute(select(func.min(survey_daily_counts.c.day)))
    value = found.scalar_one_or_none()
    return value if isinstance(value, date) else None
