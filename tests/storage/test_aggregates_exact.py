"""Each aggregate query's exact answer for rows laid out by hand (both databases): which
surveys a period, a method, a procedure and a field take in, where each edge falls, how an
end is added once, and what a recount and the kept rows look like, key by key.

The end-to-end agreement of kept aggregates and a recount is ``test_aggregates.py``; these
pin each query on its own, so that a changed comparison or a dropped condition shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.aggregates import (
    Ended,
    Increments,
    SurveySources,
    Totals,
    add_counts,
    complaint_ratings,
    completed_sources,
    first_survey_day,
    in_progress,
    record_ended,
    recount,
    stored,
    summed,
)
from storage.schema import answers, complaints, survey_daily, survey_daily_counts, survey_responses
from tests.support.rows import complaint_row

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
M1, M2 = "sipas-2640", "sipas-1001"
#: 17:00 UTC is midnight in Hanoi: a survey ended at 16:59 UTC counts on the same local day,
#: one ended at 17:00 on the next.
LATE = datetime(2026, 11, 30, 16, 59, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
NOV30, DEC1 = date(2026, 11, 30), date(2026, 12, 1)


class Exploder:
    """An ``Explode`` that records what it was given and answers with counts above 1, so that
    "add n" and "add 1" differ: each answer ``item -> value`` becomes ``(item, str(value))``
    counted ``len(method)`` times."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, int | str], str]] = []

    def __call__(self, given: Mapping[str, int | str], method: str) -> dict[tuple[str, str], int]:
        self.calls.append((dict(given), method))
        return {(item, str(value)): len(method) for item, value in given.items()}


Call = tuple[dict[str, int | str], str]


def _in_order(calls: Sequence[Call]) -> list[Call]:
    """Calls to the exploder in a fixed order (a query's row order is not one)."""
    return sorted(calls, key=lambda call: call[1] + str(sorted(call[0].items())))


def _response(
    rid: int,
    status: str,
    *,
    method: str = M1,
    procedure: str | None = None,
    field: str | None = None,
    started: datetime = LATE,
    ended: datetime | None = None,
    completed: datetime | None = None,
    with_receipt: bool = False,
    handed_over: date | None = None,
) -> dict[str, object]:
    return {
        "id": rid,
        "questionnaire": method,
        "status": status,
        "with_receipt": with_receipt,
        "procedure": procedure,
        "field": field,
        "started_at": started,
        "ended_at": ended,
        "completed_at": completed,
        "handed_over_month": handed_over,
    }


def _answer(rid: int, item: str, value: int | str) -> dict[str, object]:
    if isinstance(value, int):
        return {"response_id": rid, "item": item, "value_int": value, "value_text": None}
    return {"response_id": rid, "item": item, "value_int": None, "value_text": value}


async def _insert(engine: AsyncEngine, table: object, rows: list[dict[str, object]]) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(insert(table), rows)  # type: ignore[arg-type]


async def _stored(engine: AsyncEngine) -> tuple[Increments, Totals]:
    async with read_transaction(engine) as conn:
        return await stored(conn)


# --- record_ended -----------------------------------------------------------------------


async def test_an_end_is_added_on_its_local_day_under_its_method_procedure_and_field(
    engine: AsyncEngine,
) -> None:
    await _insert(
        engine,
        survey_responses,
        [
            _response(1, "in_progress", procedure="1.009972", field="Cấp phép"),
            _response(2, "in_progress", procedure="1.009972", field="Cấp phép"),
            _response(3, "in_progress", method=M2),
            _response(4, "in_progress"),
        ],
    )
    await _insert(
        engine,
        answers,
        [
            _answer(1, "1.1", 5),
            _answer(1, "5.1", "late,rude"),
            _answer(1, "2.1", 0),  # an integer 0 is the answer, not "no number"
            _answer(2, "1.1", 5),
            _answer(3, "1.1", 2),
            _answer(4, "1.1", 3),  # answered, then abandoned: only counted as partial
        ],
    )
    explode = Exploder()
    ended = [
        Ended(1, "completed", LATE),
        Ended(2, "completed", LATE),
        Ended(3, "completed", MIDNIGHT),
        Ended(4, "abandoned", MIDNIGHT),
        Ended(99, "completed", LATE),  # no such response: nothing
    ]
    async with write_transaction(engine) as conn:
        await record_ended(conn, ended, TZ, explode)
    assert _in_order(explode.calls) == _in_order(
        [
            ({"1.1": 5, "5.1": "late,rude", "2.1": 0}, M1),
            ({"1.1": 5}, M1),
            ({"1.1": 2}, M2),
        ]
    )
    daily, counts = await _stored(engine)
    n1, n2 = len(M1), len(M2)
    assert daily == {
        (NOV30, M1, "1.009972", "Cấp phép", "1.1", "5"): 2 * n1,
        (NOV30, M1, "1.009972", "Cấp phép", "5.1", "late,rude"): n1,
        (NOV30, M1, "1.009972", "Cấp phép", "2.1", "0"): n1,
        (DEC1, M2, "", "", "1.1", "2"): n2,
    }
    assert counts == {
        (NOV30, M1, "1.009972", "Cấp phép", "completed"): 2,
        (DEC1, M2, "", "", "completed"): 1,
        (DEC1, M1, "", "", "partial"): 1,
    }


@pytest.mark.parametrize("status", ["abandoned", "cancelled", "expired", "partial"])
async def test_any_end_but_completed_counts_as_partial_without_its_answers(
    engine: AsyncEngine, status: str
) -> None:
    await _insert(engine, survey_responses, [_response(7, "in_progress")])
    await _insert(engine, answers, [_answer(7, "1.1", 4)])
    explode = Exploder()
    async with write_transaction(engine) as conn:
        await record_ended(conn, [Ended(7, status, LATE)], TZ, explode)
    assert explode.calls == []
    assert await _stored(engine) == ({}, {(NOV30, M1, "", "", "partial"): 1})


async def test_an_end_applied_twice_or_to_a_survey_already_ended_is_counted_once(
    engine: AsyncEngine,
) -> None:
    await _insert(
        engine,
        survey_responses,
        [
            _response(1, "in_progress"),
            _response(2, "completed", ended=LATE, completed=LATE),
        ],
    )
    await _insert(engine, answers, [_answer(1, "1.1", 4), _answer(2, "1.1", 1)])
    explode = Exploder()
    async with write_transaction(engine) as conn:
        await record_ended(
            conn, [Ended(1, "completed", LATE), Ended(2, "completed", LATE)], TZ, explode
        )
        await conn.execute(
            survey_responses.update()
            .where(survey_responses.c.id == 1)
            .values(status="completed", ended_at=LATE, completed_at=LATE)
        )
        await record_ended(conn, [Ended(1, "completed", LATE)], TZ, explode)
    assert explode.calls == [({"1.1": 4}, M1)]
    assert await _stored(engine) == (
        {(NOV30, M1, "", "", "1.1", "4"): len(M1)},
        {(NOV30, M1, "", "", "completed"): 1},
    )


async def test_nothing_ended_or_nothing_in_progress_writes_nothing(engine: AsyncEngine) -> None:
    await _insert(engine, survey_responses, [_response(1, "completed", ended=LATE, completed=LATE)])
    explode = Exploder()
    async with write_transaction(engine) as conn:
        await record_ended(conn, [], TZ, explode)
        await record_ended(conn, [Ended(1, "completed", LATE)], TZ, explode)
    assert explode.calls == []
    assert await _stored(engine) == ({}, {})


async def test_counts_are_added_to_the_kept_ones(engine: AsyncEngine) -> None:
    """``add_counts`` upserts: count = count + n, on both tables; empty sums write nothing."""
    daily = {(NOV30, M1, "p", "f", "1.1", "4"): 3, (NOV30, M2, "p", "f", "1.1", "4"): 2}
    counts = {(NOV30, M1, "p", "f", "completed"): 3, (NOV30, M1, "p", "f", "partial"): 1}
    async with write_transaction(engine) as conn:
        await add_counts(conn, daily, counts)
        await add_counts(conn, {}, {})
        await add_counts(conn, {(NOV30, M1, "p", "f", "1.1", "4"): 4}, {})
        await add_counts(conn, {}, {(NOV30, M1, "p", "f", "partial"): 5})
    assert await _stored(engine) == (
        {(NOV30, M1, "p", "f", "1.1", "4"): 7, (NOV30, M2, "p", "f", "1.1", "4"): 2},
        {(NOV30, M1, "p", "f", "completed"): 3, (NOV30, M1, "p", "f", "partial"): 6},
    )


# --- summed -----------------------------------------------------------------------------


async def _lay_out_sums(engine: AsyncEngine) -> None:
    """Each row one count apart, so that any row taken in or left out changes the sum."""
    start, end = date(2026, 11, 2), date(2026, 11, 8)
    daily: list[dict[str, object]] = []
    counts: list[dict[str, object]] = []
    rows = [
        # (day, method, procedure, field, count)
        (start - timedelta(days=1), M1, "p1", "f1", 1),  # before the period
        (start, M1, "p1", "f1", 2),  # first day: in
        (date(2026, 11, 5), M1, "p1", "f2", 4),
        (date(2026, 11, 5), M1, "p2", "f1", 8),
        (end, M1, "p2", "f2", 16),  # last day: in
        (end + timedelta(days=1), M1, "p1", "f1", 32),  # after
        (date(2026, 11, 5), M2, "p1", "f1", 64),  # the other method
    ]
    for day, method, procedure, field, n in rows:
        key = {"day": day, "method": method, "procedure": procedure, "field": field}
        daily.append({**key, "item": "1.1", "value": "4", "count": n})
        daily.append({**key, "item": "1.1", "value": "5", "count": 100 * n})
        daily.append({**key, "item": "2.1", "value": "4", "count": 10_000 * n})  # same value
        counts.append({**key, "status": "completed", "count": n})
        counts.append({**key, "status": "partial", "count": 1000 * n})
    await _insert(engine, survey_daily, daily)
    await _insert(engine, survey_daily_counts, counts)


@pytest.mark.parametrize(
    ("method", "procedure", "field", "taken"),
    [
        (M1, None, None, 2 + 4 + 8 + 16),
        (M1, "p1", None, 2 + 4),
        (M1, None, "f1", 2 + 8),
        (M1, "p2", "f2", 16),
        (M1, "p3", None, 0),
        (M2, None, None, 64),
        (M2, "p2", None, 0),
    ],
)
async def test_sums_take_the_period_both_edges_one_method_and_the_cut(
    engine: AsyncEngine, method: str, procedure: str | None, field: str | None, taken: int
) -> None:
    await _lay_out_sums(engine)
    async with read_transaction(engine) as conn:
        found = await summed(
            conn,
            date(2026, 11, 2),
            date(2026, 11, 8),
            method=method,
            procedure=procedure,
            field=field,
        )
    expected_counts = (
        {("1.1", "4"): taken, ("1.1", "5"): 100 * taken, ("2.1", "4"): 10_000 * taken}
        if taken
        else {}
    )
    assert found == (expected_counts, taken, 1000 * taken)


async def test_sums_of_a_period_with_only_one_status_give_zero_for_the_other(
    engine: AsyncEngine,
) -> None:
    key = {"day": NOV30, "method": M1, "procedure": "", "field": ""}
    await _insert(engine, survey_daily_counts, [{**key, "status": "partial", "count": 3}])
    async with read_transaction(engine) as conn:
        assert await summed(conn, NOV30, NOV30, method=M1) == ({}, 0, 3)
    await _insert(engine, survey_daily_counts, [{**key, "status": "completed", "count": 2}])
    async with read_transaction(engine) as conn:
        assert await summed(conn, NOV30, NOV30, method=M1) == ({}, 2, 3)


# --- in_progress ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "procedure", "field", "expected"),
    [
        (M1, None, None, 1 + 2 + 4),
        (M1, "p1", None, 1 + 2),
        (M1, None, "f1", 1 + 4),
        (M1, "p1", "f2", 2),
        (M2, None, None, 8),
    ],
)
async def test_surveys_in_progress_started_in_the_half_open_period(
    engine: AsyncEngine, method: str, procedure: str | None, field: str | None, expected: int
) -> None:
    start = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    end = start + timedelta(days=7)
    plan = [
        # (started, status, method, procedure, field, how many)
        (start, "in_progress", M1, "p1", "f1", 1),  # at the start: in
        (end - timedelta(seconds=1), "in_progress", M1, "p1", "f2", 2),
        (start + timedelta(days=1), "in_progress", M1, "p2", "f1", 4),
        (start + timedelta(days=1), "in_progress", M2, "p1", "f1", 8),
        (start - timedelta(seconds=1), "in_progress", M1, "p1", "f1", 16),  # before
        (end, "in_progress", M1, "p1", "f1", 32),  # at the end: out
        (start + timedelta(days=1), "completed", M1, "p1", "f1", 64),  # ended
    ]
    rows = []
    rid = 0
    for started, status, m, p, f, n in plan:
        for _ in range(n):
            rid += 1
            rows.append(_response(rid, status, method=m, procedure=p, field=f, started=started))
    await _insert(engine, survey_responses, rows)
    async with read_transaction(engine) as conn:
        found = await in_progress(conn, start, end, method=method, procedure=procedure, field=field)
    assert found == expected


# --- completed_sources ------------------------------------------------------------------


async def test_completed_surveys_by_how_they_opened(engine: AsyncEngine) -> None:
    start = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    end = start + timedelta(days=7)
    month = date(2026, 11, 1)
    plan = [
        # (completed at, status, method, with receipt, handed over, how many)
        (start, "completed", M1, True, None, 1),  # at the start: in
        (end - timedelta(hours=1), "completed", M1, True, month, 2),  # a receipt wins
        (start + timedelta(days=2), "completed", M1, False, month, 4),
        (start + timedelta(days=2), "completed", M1, False, None, 8),
        (end, "completed", M1, False, None, 16),  # at the end: out
        (start - timedelta(hours=1), "completed", M1, True, None, 32),  # before
        (start + timedelta(days=2), "completed", M2, False, None, 64),  # other method
        (start + timedelta(days=2), "abandoned", M1, True, None, 128),  # not completed
    ]
    rows = []
    rid = 0
    for at, status, method, receipt, handed, n in plan:
        for _ in range(n):
            rid += 1
            rows.append(
                _response(
                    rid,
                    status,
                    method=method,
                    ended=at,
                    completed=at,
                    with_receipt=receipt,
                    handed_over=handed,
                )
            )
    await _insert(engine, survey_responses, rows)
    async with read_transaction(engine) as conn:
        assert await completed_sources(conn, start, end, method=M1) == SurveySources(
            receipt=1 + 2, invitation=4, open=8
        )
        assert await completed_sources(conn, start, end, method=M2) == SurveySources(open=64)
        assert await completed_sources(conn, end, end + timedelta(days=1), method=M1) == (
            SurveySources(open=16)
        )


# --- complaint_ratings ------------------------------------------------------------------


async def test_complaint_ratings_given_in_the_half_open_period(engine: AsyncEngine) -> None:
    start = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    end = start + timedelta(days=7)
    plan = [
        # (rating, rated at, how many)
        (1, start, 1),  # at the start: in
        (2, start + timedelta(days=1), 2),
        (3, start + timedelta(days=1), 3),
        (4, start + timedelta(days=1), 4),
        (5, end - timedelta(seconds=1), 5),
        (5, end, 7),  # at the end: out
        (4, start - timedelta(seconds=1), 9),  # before
        (None, start + timedelta(days=1), 11),  # not rated
    ]
    rows = []
    n_case = 0
    for rating, at, n in plan:
        for _ in range(n):
            n_case += 1
            rated = {"rating": rating, "rated_at": at if rating is not None else None}
            rows.append(complaint_row(f"PA-2026-{n_case:06d}", at, status="resolved", **rated))
    await _insert(engine, complaints, rows)
    async with read_transaction(engine) as conn:
        assert await complaint_ratings(conn, start, end) == (1, 2, 3, 4, 5)
        assert await complaint_ratings(conn, end, end + timedelta(days=1)) == (0, 0, 0, 0, 7)
        # A period with no 5 (and none of 1 to 3): each missing rating is a count of 0.
        before = start - timedelta(days=1)
        assert await complaint_ratings(conn, before, start) == (0, 0, 0, 9, 0)
        later = end + timedelta(days=1)
        assert await complaint_ratings(conn, later, later + timedelta(days=1)) == (0,) * 5


# --- recount and the kept rows ----------------------------------------------------------


async def test_a_recount_reads_every_ended_survey_and_only_the_completed_ones_answers(
    engine: AsyncEngine,
) -> None:
    await _insert(
        engine,
        survey_responses,
        [
            _response(1, "completed", procedure="p", field="f", ended=LATE, completed=LATE),
            _response(2, "completed", method=M2, ended=MIDNIGHT, completed=MIDNIGHT),
            _response(3, "abandoned", ended=MIDNIGHT),
            _response(4, "in_progress"),
            _response(5, "completed", ended=LATE, completed=LATE),  # no answers kept
        ],
    )
    await _insert(
        engine,
        answers,
        [
            _answer(1, "1.1", 0),
            _answer(1, "5.1", "late"),
            _answer(2, "1.1", 3),
            _answer(3, "1.1", 5),
            _answer(4, "1.1", 1),
        ],
    )
    explode = Exploder()
    async with read_transaction(engine) as conn:
        daily, counts = await recount(conn, TZ, explode)
    assert daily == {
        (NOV30, M1, "p", "f", "1.1", "0"): len(M1),
        (NOV30, M1, "p", "f", "5.1", "late"): len(M1),
        (DEC1, M2, "", "", "1.1", "3"): len(M2),
    }
    assert counts == {
        (NOV30, M1, "p", "f", "completed"): 1,
        (DEC1, M2, "", "", "completed"): 1,
        (DEC1, M1, "", "", "partial"): 1,
        (NOV30, M1, "", "", "completed"): 1,
    }
    assert _in_order(explode.calls) == _in_order(
        [({"1.1": 0, "5.1": "late"}, M1), ({"1.1": 3}, M2), ({}, M1)]
    )


async def test_the_kept_rows_leave_out_zero_counts_and_keep_every_key_part(
    engine: AsyncEngine,
) -> None:
    key = {"day": NOV30, "method": M2, "procedure": "p", "field": "f"}
    await _insert(
        engine,
        survey_daily,
        [
            {**key, "item": "1.1", "value": "4", "count": 3},
            {**key, "item": "1.2", "value": "1", "count": 0},
        ],
    )
    await _insert(
        engine,
        survey_daily_counts,
        [{**key, "status": "completed", "count": 2}, {**key, "status": "partial", "count": 0}],
    )
    assert await _stored(engine) == (
        {(NOV30, M2, "p", "f", "1.1", "4"): 3},
        {(NOV30, M2, "p", "f", "completed"): 2},
    )
    async with read_transaction(engine) as conn:
        assert await first_survey_day(conn) == NOV30
        kept = (await conn.execute(select(survey_daily_counts.c.count))).scalars().all()
    assert sorted(kept) == [0, 2]
