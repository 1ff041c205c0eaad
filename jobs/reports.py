"""Reads what reports need from storage: aggregated answers, complaints, export rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from conversations import DEFAULT_METHOD, load_questionnaire
from conversations.deadlines import Missed, missed_by
from conversations.periods import Period
from conversations.workdays import WorkCalendar
from storage.queries.aggregates import complaint_ratings, in_progress, summed
from storage.queries.complaint_overview import overview
from storage.queries.dossier_report import answer_days, completed_dossiers, dossier_counts

from .digest import CaseSummary
from .dossier_measures import DossierMeasures
from .dossier_measures import compute as compute_dossiers
from .sipas_index import Report, compute


@dataclass(frozen=True, slots=True)
class ReportScope:
    tz: ZoneInfo
    language: str = "vi"
    procedure: str | None = None
    field: str | None = None
    #: The SIPAS method reported on (``SURVEY_METHOD``): one method per report, never mixed.
    method: str = DEFAULT_METHOD


def day_bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The period's local days as a UTC-comparable [start, end) interval."""
    start = datetime.combine(period.start, time(0), tz)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tz)
    return start, end


async def build_report(conn: AsyncConnection, period: Period, scope: ReportScope) -> Report:
    """The SIPAS report of one method (``scope.method``) for a period: sums of the kept
    aggregates of the surveys taken with that method, no raw answer counted."""
    counts, completed, partial = await summed(
        conn,
        period.start,
        period.end,
        method=scope.method,
        procedure=scope.procedure,
        field=scope.field,
    )
    start, end = day_bounds(period, scope.tz)
    ratings = await complaint_ratings(conn, start, end)
    running = await in_progress(
        conn, start, end, method=scope.method, procedure=scope.procedure, field=scope.field
    )
    return compute(
        counts,
        start=period.start,
        end=period.end,
        completed=completed,
        partial=partial,
        in_progress=running,
        complaint_ratings=ratings,
        procedure=scope.procedure,
        field_name=scope.field,
        questionnaire=load_questionnaire(scope.method),
        language=scope.language,
    )


async def case_summary(
    conn: AsyncConnection, period: Period, tz: ZoneInfo, today: date, calendar: WorkCalendar
) -> CaseSummary:
    """New complaints in the period; open ones overdue, or due within two working days."""
    start, end = day_bounds(period, tz)
    found = await overview(conn, start, end)
    soon = calendar.add_workdays(today, 2)
    missed = {c.code: missed_by(c, today) for c in found.cases}
    # Any missed deadline makes a case overdue; the longest missed first.
    overdue = tuple(
        sorted(
            ((code, m) for code, m in missed.items() if m),
            key=lambda x: (x[1][0].due, x[0]),
        )
    )
    due_soon = tuple(
        (code, due) for code, due in found.open if not missed[code] and today <= due <= soon
    )
    return CaseSummary(
        new=found.new,
        overdue=overdue,
        due_soon=due_soon,
        open=len(found.open),
        officers=per_officer(found.open, found.owners, today, missed),
    )


def per_officer(
    cases: tuple[tuple[str, date], ...],
    owners: tuple[str | None, ...],
    today: date,
    missed: Mapping[str, tuple[Missed, ...]] | None = None,
) -> tuple[tuple[str | None, int, int], ...]:
    """(officer's name, open, overdue) for each officer with open cases, by name; those
    nobody took last (as None). Empty when no case was ever taken (nothing to break down).
    ``missed``: the deadlines each case missed (any of them makes it overdue); without it,
    only the day to resolve counts."""
    if not any(owners):
        return ()
    counts: dict[str | None, list[int]] = {}
    for (code, due), owner in zip(cases, owners, strict=True):
        tally = counts.setdefault(owner, [0, 0])
        tally[0] += 1
        tally[1] += bool(missed[code]) if missed is not None else due < today
    rows: list[tuple[str | None, int, int]] = sorted(
        (n, c[0], c[1]) for n, c in counts.items() if n is not None
    )
    if None in counts:
        rows.append((None, counts[None][0], counts[None][1]))
    return tuple(rows)


async def dossier_measures(
    conn: AsyncConnection,
    period: Period,
    scope: ReportScope,
    calendar: WorkCalendar,
    sipas_index: float | None = None,
) -> DossierMeasures:
    """Dossiers in the period, each procedure beside its SIPAS index for the same period."""
    low, high = day_bounds(period, scope.tz)
    counts = await dossier_counts(conn, period.start, period.end, low, high)
    completed = await completed_dossiers(conn, period.start, period.end)
    days = await answer_days(conn, period.start, period.end)
    sipas: dict[str, tuple[float | None, int]] = {}
    for code in sorted({row.procedure for row in completed}):
        by_procedure = await build_report(conn, period, replace(scope, procedure=code))
        sipas[code] = (by_procedure.index, by_procedure.completed)
    return compute_dossiers(counts, completed, days, calendar, sipas, sipas_index)
