"""Benchmark of the SIPAS report over a year of surveys (aggregates kept at completion).

Measures, on SQLite and on PostgreSQL, how long computing the report for a period takes when
``--surveys`` (default 1,000,000) completed surveys ended in it: the project's
``build_report`` (``jobs.report`` or ``jobs.reports``, whichever exists; else the three calls it
makes: ``summed`` over the daily aggregates, ``complaint_ratings``, ``compute``), timed end to
end from opening the read transaction to holding the ``Report``.

The data is what ``survey_daily`` / ``survey_daily_counts`` would hold after those surveys
completed, without 30 million raw answer rows: a pool of ``--pool`` random surveys (realistic
answers walked through the questionnaire's steps and ``when`` conditions) is exploded once by
``answer_counts`` (the function the live system applies at completion); every completed survey
of the year (2025-07-01 .. 2026-06-30, local days; 12 procedures x 3 fields, a few procedures
dominating; fewer surveys on days off) draws a pool entry with weights that depend on its
procedure and day; the increments are summed per (day, procedure, field) in memory and written
with ``add_counts`` in chunks. ``--partial`` partial surveys are added to the counts. Each
database gets a fresh SQLite file / PostgreSQL schema; the stored sums are checked against the
generator's totals before timing.

The full-year report for all procedures runs 3 times; the median is printed, one line per
database (the figure is the report's own ``completed``)::

    sqlite: report over 1000000 surveys in 0.41 s

Generation and load times, a one-month and a single-procedure report go to stderr, and so do
the query plans and row counts of the ``summed`` queries when the report takes 1 s or more
(or with ``--explain``).

Run from the repository root as ``python bench/report.py`` or ``python -m bench.report``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import logging
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.databases import Unreachable, postgres_database, sqlite_database
from conversations import DEFAULT_METHOD, Questionnaire, Step, load_questionnaire
from conversations.workdays import load_calendar
from jobs.sipas_index import Report, answer_counts, compute
from storage.db import read_transaction, write_transaction
from storage.queries.aggregates import add_counts, complaint_ratings, summed
from storage.schema import survey_daily, survey_daily_counts

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: The year is generated with the method in force (QĐ 1001/QĐ-BNV).
METHOD = DEFAULT_METHOD
YEAR_START = date(2025, 7, 1)
YEAR_END = date(2026, 6, 30)
RUNS = 3
SLOW_S = 1.0
CHUNK_ROWS = 50_000  # survey_daily rows per add_counts call (one transaction each)

#: Procedure codes (national database style) and their share of surveys: a few dominate.
PROCEDURES: tuple[tuple[str, float], ...] = tuple(
    (f"1.{1193 + 211 * rank:06d}", 1 / (rank + 1) ** 1.2) for rank in range(12)
)
FIELDS: tuple[tuple[str, float], ...] = (
    ("Bộ phận Một cửa cấp xã", 0.6),
    ("Bộ phận Một cửa cấp huyện", 0.3),
    ("Trung tâm Phục vụ hành chính công tỉnh", 0.1),
)

DayKey = tuple[date, str, str]
DailyRows = dict[tuple[date, str, str, str, str, str], int]  # day, method, proc, field, item, value
CountRows = dict[tuple[date, str, str, str, str], int]  # day, method, procedure, field, status
Answers = dict[str, int | str]


@dataclass(frozen=True, slots=True)
class Respondent:
    """How one kind of citizen rates: probabilities of levels 1..5."""

    levels: tuple[float, float, float, float, float]


DELIGHTED = Respondent((0.0, 0.0, 0.03, 0.17, 0.80))
SATISFIED = Respondent((0.0, 0.03, 0.09, 0.63, 0.25))
MIXED = Respondent((0.07, 0.15, 0.35, 0.35, 0.08))
UNHAPPY = Respondent((0.30, 0.35, 0.25, 0.10, 0.0))
RESPONDENTS = (DELIGHTED, SATISFIED, MIXED, UNHAPPY)


@dataclass(frozen=True, slots=True)
class Tier:
    """A quality of service: who answers, how often results are late, how many trips."""

    name: str
    respondents: tuple[float, float, float, float]  # weights of RESPONDENTS
    late: float
    trips: tuple[float, float, float, float]  # 1, 2, 3, 4+ trips


TIERS = (
    Tier("excellent", (0.55, 0.38, 0.06, 0.01), 0.04, (0.85, 0.11, 0.03, 0.01)),
    Tier("good", (0.40, 0.45, 0.12, 0.03), 0.08, (0.75, 0.17, 0.06, 0.02)),
    Tier("fair", (0.25, 0.45, 0.22, 0.08), 0.15, (0.62, 0.23, 0.10, 0.05)),
    Tier("poor", (0.12, 0.38, 0.32, 0.18), 0.28, (0.50, 0.27, 0.14, 0.09)),
)
#: Each procedure's mix of tiers at the start of the year (service improves over the year).
PROCEDURE_TIERS = (
    (0.45, 0.35, 0.15, 0.05),
    (0.30, 0.40, 0.20, 0.10),
    (0.20, 0.35, 0.30, 0.15),
    (0.10, 0.30, 0.35, 0.25),
)

#: Options picked in multi-select questions, by how likely each one is named.
MULTI_WEIGHTS: dict[str, dict[str, float]] = {
    "info": {"posted": 35, "portal": 25, "staff": 30, "family": 20, "media": 10, "other": 3},
    "expect": {
        "info": 8,
        "facility": 15,
        "online": 20,
        "transparency": 8,
        "simplify": 25,
        "faster": 30,
        "fees": 12,
        "attitude": 6,
        "skills": 6,
        "feedback": 5,
    },
}
SKIP_RATING = 0.03
SKIP_SINGLE = 0.02
SKIP_MULTI = {"info": 0.03, "expect": 0.20}


def _pick(rng: random.Random, options: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(options, weights=weights)[0]


def _multi(rng: random.Random, step: Step) -> str | None:
    if rng.random() < SKIP_MULTI.get(step.id, 0.05):
        return None
    known = MULTI_WEIGHTS.get(step.id, {})
    weights = [known.get(code, 1.0) for code in step.options]
    k = min(len(step.options), rng.choices((1, 2, 3), weights=(0.55, 0.32, 0.13))[0])
    chosen: set[str] = set()
    while len(chosen) < k:
        chosen.add(_pick(rng, step.options, weights))
    return ",".join(code for code in step.options if code in chosen)  # in the options' order


def _single(rng: random.Random, step: Step, tier: Tier) -> str | None:
    if rng.random() < SKIP_SINGLE:
        return None
    yes_share = {"f5": 0.20, "harass": 0.02, "payment": 0.01, "apology": 0.4, "p.intro": 0.4}
    if step.id in yes_share and set(step.options) == {"yes", "no"}:
        return "yes" if rng.random() < yes_share[step.id] else "no"
    if step.id == "trips":
        return _pick(rng, step.options, tier.trips)
    if step.id == "timing" and step.options == ("early", "ontime", "late"):
        return _pick(rng, step.options, (0.15, 0.85 - tier.late, tier.late))
    return rng.choice(step.options)


def random_answers(rng: random.Random, q: Questionnaire, tier: Tier) -> Answers:
    """One completed survey's answers, asked in order with the steps' conditions."""
    respondent = rng.choices(RESPONDENTS, weights=tier.respondents)[0]
    answers: Answers = {}
    for step in q.steps:
        if step.when is not None and not step.when.holds(answers):
            continue
        value: int | str | None
        if step.kind == "rating":
            value = None
            if rng.random() >= SKIP_RATING:
                value = rng.choices(q.scale, weights=respondent.levels)[0]
        elif step.kind == "multi":
            value = _multi(rng, step)
        elif step.kind == "text":
            value = "Cảm ơn cán bộ." if rng.random() < 0.08 else None
        else:
            value = _single(rng, step, tier)
        if value is not None:
            answers[step.id] = value
    return answers


@dataclass(slots=True)
class Dataset:
    """What the aggregate tables hold after the year's surveys ended, by local day."""

    days: list[tuple[DailyRows, CountRows]] = field(default_factory=list)
    totals: Counter[tuple[str, str]] = field(default_factory=Counter)
    completed: int = 0
    partial: int = 0
    by_procedure: Counter[str] = field(default_factory=Counter)

    @property
    def daily_rows(self) -> int:
        return sum(len(d) for d, _ in self.days)

    @property
    def count_rows(self) -> int:
        return sum(len(c) for _, c in self.days)


def _days() -> list[date]:
    return [YEAR_START + timedelta(n) for n in range((YEAR_END - YEAR_START).days + 1)]


def _allocate(rng: random.Random, weights: Sequence[float], total: int) -> Counter[int]:
    """Exactly ``total`` surveys spread over the keys in proportion to ``weights``."""
    cumulative: list[float] = []
    running = 0.0
    for w in weights:
        running += w
        cumulative.append(running)
    return Counter(rng.choices(range(len(weights)), cum_weights=cumulative, k=total))


def generate(surveys: int, partial: int, pool_size: int, seed: int) -> Dataset:
    rng = random.Random(seed)
    q = load_questionnaire(METHOD)
    slots: dict[tuple[str, str], int] = {}
    slot_keys: list[tuple[str, str]] = []
    pools: list[list[tuple[int, ...]]] = []
    for tier in TIERS:
        pool: list[tuple[int, ...]] = []
        for _ in range(max(1, pool_size // len(TIERS))):
            exploded: list[int] = []
            for answer, n in answer_counts(random_answers(rng, q, tier), q).items():
                if answer not in slots:
                    slots[answer] = len(slot_keys)
                    slot_keys.append(answer)
                exploded.extend([slots[answer]] * n)
            pool.append(tuple(exploded))
        pools.append(pool)

    calendar = load_calendar()
    days = _days()
    keys: list[DayKey] = []
    weights: list[float] = []
    for n, day in enumerate(days):
        growth = 0.7 + 0.6 * n / len(days)  # more citizens use the bot as the year goes on
        day_weight = growth * (1.0 if calendar.is_workday(day) else 0.3)
        for procedure, p_weight in PROCEDURES:
            for field_name, f_weight in FIELDS:
                keys.append((day, procedure, field_name))
                weights.append(day_weight * p_weight * f_weight)
    completed = _allocate(rng, weights, surveys)
    partials = _allocate(rng, weights, partial)

    procedure_rank = {code: rank for rank, (code, _) in enumerate(PROCEDURES)}
    data = Dataset(completed=surveys, partial=partial)
    by_day: dict[date, tuple[DailyRows, CountRows]] = {day: ({}, {}) for day in days}
    progress = {day: n / (len(days) - 1) for n, day in enumerate(days)}
    for index, key in enumerate(keys):
        day, procedure, field_name = key
        daily, counts = by_day[day]
        if partials[index]:
            counts[(day, METHOD, procedure, field_name, "partial")] = partials[index]
        n = completed[index]
        if not n:
            continue
        counts[(day, METHOD, procedure, field_name, "completed")] = n
        data.by_procedure[procedure] += n
        base = PROCEDURE_TIERS[procedure_rank[procedure] % len(PROCEDURE_TIERS)]
        better = 0.4 * progress[day]  # better tiers gain up to 40 % over the year
        mix = [w * (1 + better if t < 2 else 1 - better) for t, w in enumerate(base)]
        drawn = Counter(
            chain.from_iterable(rng.choice(pools[t]) for t in rng.choices(range(4), mix, k=n))
        )
        for slot, count in drawn.items():
            item, value = slot_keys[slot]
            daily[(day, METHOD, procedure, field_name, item, value)] = count
            data.totals[slot_keys[slot]] += count
    data.days = [by_day[day] for day in days]
    return data


def _chunks(data: Dataset) -> Iterator[tuple[DailyRows, CountRows]]:
    daily: DailyRows = {}
    counts: CountRows = {}
    for day_rows, day_counts in data.days:
        daily.update(day_rows)
        counts.update(day_counts)
        if len(daily) >= CHUNK_ROWS:
            yield daily, counts
            daily, counts = {}, {}
    if daily or counts:
        yield daily, counts


async def load(engine: AsyncEngine, data: Dataset) -> None:
    for daily, counts in _chunks(data):
        async with write_transaction(engine) as conn:
            await add_counts(conn, daily, counts)
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a table updated all year: statistics and visibility map.
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE survey_daily, survey_daily_counts"))


async def verify(engine: AsyncEngine, data: Dataset) -> None:
    """The stored aggregates sum to what the generator fed in."""
    async with read_transaction(engine) as conn:
        counts, completed, partial = await summed(conn, YEAR_START, YEAR_END, method=METHOD)
    if (completed, partial) != (data.completed, data.partial) or counts != dict(data.totals):
        raise AssertionError(
            f"stored aggregates differ from the generated ones: completed {completed} "
            f"(expected {data.completed}), partial {partial} (expected {data.partial}), "
            f"{len(counts)} answer keys (expected {len(data.totals)})"
        )


ReportFn = Callable[[AsyncConnection, date, date, str | None], Awaitable[Report]]


async def _report_by_hand(
    conn: AsyncConnection, start: date, end: date, procedure: str | None
) -> Report:
    counts, completed, partial = await summed(conn, start, end, method=METHOD, procedure=procedure)
    since = datetime.combine(start, clock(0), TZ)
    until = datetime.combine(end + timedelta(days=1), clock(0), TZ)
    ratings = await complaint_ratings(conn, since, until)
    return compute(
        counts,
        start=start,
        end=end,
        completed=completed,
        partial=partial,
        complaint_ratings=ratings,
        procedure=procedure,
    )


def _module(name: str) -> Any:
    return importlib.import_module(name) if importlib.util.find_spec(name) else None


def report_builder() -> tuple[str, ReportFn]:
    """The project's own report function if there is one, else the three calls it makes."""
    single = _module("jobs.report")
    if single is not None and hasattr(single, "build_report"):

        def by_dates(conn: AsyncConnection, start: date, end: date, procedure: str | None) -> Any:
            return single.build_report(conn, start, end, tz=TZ, procedure=procedure)

        return "jobs.report.build_report", by_dates
    plural = _module("jobs.reports")
    periods = _module("conversations.periods")
    if plural is not None and periods is not None and hasattr(plural, "build_report"):

        def by_period(conn: AsyncConnection, start: date, end: date, procedure: str | None) -> Any:
            scope = plural.ReportScope(tz=TZ, procedure=procedure)
            return plural.build_report(conn, periods.Period(start, end), scope)

        return "jobs.reports.build_report", by_period
    return "summed + complaint_ratings + compute", _report_by_hand


async def time_report(
    engine: AsyncEngine, start: date, end: date, procedure: str | None = None
) -> tuple[float, Report]:
    """Seconds from opening the read transaction to holding the report, and the report."""
    build = report_builder()[1]
    started = time.perf_counter()
    async with read_transaction(engine) as conn:
        report = await build(conn, start, end, procedure)
    return time.perf_counter() - started, report


async def explain(engine: AsyncEngine, procedure: str | None) -> None:
    """Prints the plans of the statements ``summed`` sends, and the tables' sizes."""
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with read_transaction(engine) as conn:
            await summed(conn, YEAR_START, YEAR_END, method=METHOD, procedure=procedure)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    async with read_transaction(engine) as conn:
        for table in (survey_daily, survey_daily_counts):
            rows = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            print(f"  {table.name}: {rows} rows", file=sys.stderr)
        for statement, parameters in sent:
            print(f"  {' '.join(statement.split())}  {parameters}", file=sys.stderr)
            for row in await conn.exec_driver_sql(prefix + statement, parameters):
                print(f"    {row[-1]}", file=sys.stderr)


def _seconds(samples: Sequence[float]) -> str:
    return ", ".join(f"{s:.3f}" for s in samples)


async def bench_one(
    name: str,
    database: Callable[[], AbstractAsyncContextManager[AsyncEngine]],
    data: Dataset,
    args: argparse.Namespace,
) -> str:
    async with database() as engine:
        started = time.perf_counter()
        await load(engine, data)
        print(
            f"{name}: loaded {data.daily_rows} survey_daily and {data.count_rows} "
            f"survey_daily_counts rows in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        await verify(engine, data)

        samples: list[float] = []
        for _ in range(RUNS):
            seconds, report = await time_report(engine, YEAR_START, YEAR_END)
            samples.append(seconds)
            assert report.completed == data.completed, (report.completed, data.completed)
        median = statistics.median(samples)
        print(f"{name}: full year, all procedures: {_seconds(samples)} s", file=sys.stderr)

        month_start = YEAR_END.replace(day=1)
        month = [(await time_report(engine, month_start, YEAR_END))[0] for _ in range(RUNS)]
        print(f"{name}: one month ({month_start:%Y-%m}): {_seconds(month)} s", file=sys.stderr)
        top = data.by_procedure.most_common(1)[0][0]
        single = []
        for _ in range(RUNS):
            seconds, one = await time_report(engine, YEAR_START, YEAR_END, top)
            single.append(seconds)
        print(
            f"{name}: full year, procedure {top} ({one.completed} surveys): {_seconds(single)} s",
            file=sys.stderr,
        )
        if args.explain or max(median, *single) >= SLOW_S:
            print(f"{name}: plans of the summed queries, full year", file=sys.stderr)
            await explain(engine, None)
            print(f"{name}: plans of the summed queries, procedure {top}", file=sys.stderr)
            await explain(engine, top)
    return f"{name}: report over {report.completed} surveys in {median:.2f} s"


def postgres_url(args: argparse.Namespace) -> str:
    return str(
        args.postgres_url
        or os.environ.get("TEST_POSTGRES_URL")
        or os.environ.get("BENCH_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL
    )


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    data = generate(args.surveys, args.partial, args.pool, args.seed)
    print(
        f"generated {data.completed} completed and {data.partial} partial surveys "
        f"({data.daily_rows} survey_daily rows) in {time.perf_counter() - started:.1f} s; "
        f"report: {report_builder()[0]}",
        file=sys.stderr,
    )
    if args.db in ("sqlite", "both"):
        print(await bench_one("sqlite", sqlite_database, data, args), flush=True)
    if args.db in ("postgres", "both"):
        url = postgres_url(args)
        try:
            line = await bench_one("postgres", lambda: postgres_database(url), data, args)
        except Unreachable as exc:
            line = f"postgres: skipped ({exc})"
        print(line, flush=True)
    print(f"total {time.perf_counter() - started:.1f} s", file=sys.stderr)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--surveys", type=int, default=1_000_000, help="completed surveys")
    parser.add_argument("--partial", type=int, default=50_000, help="partial surveys")
    parser.add_argument("--pool", type=int, default=20_000, help="distinct random surveys")
    parser.add_argument("--seed", type=int, default=2640)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--postgres-url", default=None, help="default: env TEST_POSTGRES_URL")
    args = parser.parse_args(argv)
    if min(args.surveys, args.pool) < 1 or args.partial < 0:
        parser.error("counts must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run(parse(argv)))


if __name__ == "__main__":
    main()
