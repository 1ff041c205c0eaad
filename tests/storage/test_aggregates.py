"""The kept aggregates always equal a recount from the raw answers, and reports read them."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations.periods import Period
from jobs.expiry import expire_due
from jobs.reports import ReportScope, build_report
from jobs.sipas_index import answer_counts
from storage import WriteSet, flush, migrate, open_engine, read_transaction, write_transaction
from storage.queries.aggregates import first_survey_day, recount, stored
from storage.schema import survey_daily_counts
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = DispatchSettings(survey_ttl=timedelta(hours=2))


async def _check(engine: AsyncEngine) -> None:
    async with read_transaction(engine) as conn:
        assert await stored(conn) == await recount(conn, TZ, answer_counts)


async def test_aggregates_equal_a_recount_and_feed_the_report(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    rng = random.Random(7)
    for n in range(6):
        await complete_survey(dispatcher, f"c{n}", rng)
        clock.advance(timedelta(hours=9))  # across local days
    await complete_survey(dispatcher, "quitter", rng, finish="cancel")
    await _check(engine)
    async with read_transaction(engine) as conn:
        report = await build_report(
            conn, Period(date(2026, 1, 1), date(2026, 12, 31)), ReportScope(TZ)
        )
    assert report.completed == 6
    assert report.partial == 1
    assert report.base <= 6
    raw_11 = report.elements[0].criteria[0]
    assert sum(raw_11.levels) == raw_11.base


@pytest.fixture(scope="module")
def prop_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('agg')) / 'agg.db'}"

    async def setup() -> None:
        engine = open_engine(url)
        await migrate(engine)
        await engine.dispose()

    asyncio.run(setup())
    return url


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    plan=st.lists(st.sampled_from(["submit", "cancel", "expire", "wait"]), min_size=1, max_size=6),
)
def test_after_any_sequence_aggregates_equal_a_recount(
    prop_db: str, seed: int, plan: list[str]
) -> None:
    async def scenario() -> None:
        engine = open_engine(prop_db)
        clock = SequentialClock()
        # Ids unique across examples: they share one database.
        dispatcher = Dispatcher(
            engine, SETTINGS, clock=clock, new_id=SequentialIds(uuid.uuid4().int % 10**15)
        )
        rng = random.Random(seed)
        run = uuid.uuid4().hex[:6]
        try:
            for n, what in enumerate(plan):
                if what == "wait":
                    clock.advance(timedelta(hours=rng.randint(1, 30)))
                    await expire_due(dispatcher)
                elif what == "expire":
                    await complete_survey(dispatcher, f"{run}-{n}", rng, finish="leave")
                else:
                    await complete_survey(dispatcher, f"{run}-{n}", rng, finish=what)
            await _check(engine)
        finally:
            await engine.dispose()

    asyncio.run(scenario())


async def test_a_report_without_dates_starts_on_the_first_day_a_survey_ended(
    engine: AsyncEngine,
) -> None:
    """``reports`` on the command line with no dates: from ``first_survey_day`` to today."""
    async with read_transaction(engine) as conn:
        assert await first_survey_day(conn) is None
    rows = [
        {"day": day, "procedure": "", "field": "", "status": status, "count": 1, "method": m}
        for day, status, m in (
            (date(2026, 11, 3), "completed", "sipas-2640"),
            (date(2026, 10, 28), "abandoned", "sipas-1001"),
            (date(2026, 11, 30), "completed", "sipas-2640"),
        )
    ]
    async with write_transaction(engine) as conn:
        await conn.execute(insert(survey_daily_counts), rows)
    async with read_transaction(engine) as conn:
        assert await first_survey_day(conn) == date(2026, 10, 28)


async def test_the_aggregates_keep_each_surveys_procedure_and_field(engine: AsyncEngine) -> None:
    """Surveys from receipts carry their procedure and field (a report can be cut by them):
    each lands under its own, in its own place of the key, and a recount agrees."""
    ended_at = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)  # 1 December in Hanoi
    surveys = [
        (11, "1.009972", "Cấp phép xây dựng", "completed"),
        (12, "1.009972", "Quy hoạch", "completed"),
        (13, "2.000123", "Cấp phép xây dựng", "abandoned"),
        (14, None, None, "completed"),
    ]
    ws = WriteSet()
    ws.aggregate = (TZ, answer_counts)
    for rid, procedure, field, _ in surveys:
        ws.start_response(rid, "sipas-2640", ended_at, None, procedure, field)
        ws.save_answer(rid, "1.1", 4)
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    ws = WriteSet()
    ws.aggregate = (TZ, answer_counts)
    for rid, _, _, status in surveys:
        ws.end_response(rid, status, ended_at)
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    async with read_transaction(engine) as conn:
        daily, counts = await stored(conn)
        assert (daily, counts) == await recount(conn, TZ, answer_counts)
    day = date(2026, 12, 1)
    assert counts == {
        (day, "sipas-2640", "1.009972", "Cấp phép xây dựng", "completed"): 1,
        (day, "sipas-2640", "1.009972", "Quy hoạch", "completed"): 1,
        (day, "sipas-2640", "2.000123", "Cấp phép xây dựng", "partial"): 1,  # answered some
        (day, "sipas-2640", "", "", "completed"): 1,
    }
    assert {key[:4] for key in daily} == {
        (day, "sipas-2640", "1.009972", "Cấp phép xây dựng"),
        (day, "sipas-2640", "1.009972", "Quy hoạch"),
        (day, "sipas-2640", "", ""),
    }
