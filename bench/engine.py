"""Benchmark of the engine + storage + outbox (no network, no channel adapter).

Measures, on SQLite and on PostgreSQL, the ``Dispatcher`` path an inbound event takes: drop
duplicates, load the conversation, apply the engine, write answers, state and replies (outbox)
in one durably committed transaction (group commit across concurrent events).

(a) Throughput: ``--citizens`` simulated citizens (closed loop), each sending its next answer
    as soon as ``submit`` returned for the previous one, through complete surveys; reports
    events/s = total events / wall time. Afterwards checks that the database holds as many
    completed responses as surveys the citizens finished.
(b) Latency: events offered at a steady ``--rate`` events/s (open loop: each event is fired at
    its scheduled time t0 + i/rate whatever happens to the others) from ``--latency-citizens``
    citizens taken round-robin, for ``--seconds``; reports p50 and p99 of the time from the
    scheduled arrival to ``submit`` returning (reply durably queued).

Each part gets a fresh database and a fresh ``Dispatcher`` (real clock, default ids), warmed up
by one complete survey that is not measured. Output, one line per database::

    sqlite: 1234 events/s; at 200 events/s offered: p50 3.1 ms, p99 12.0 ms

Run from the repository root as ``python bench/engine.py`` or ``python -m bench.engine``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import Unreachable, postgres_database, sqlite_database
from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations.events import Choice, Command, Inbound, InboundEvent
from storage.queries.surveys import count_responses

CHANNEL = "bench"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

CRITERIA = (
    *(f"1.{i}" for i in range(1, 5)),
    *(f"2.{i}" for i in range(1, 6)),
    *(f"3.{i}" for i in range(1, 7)),
    *(f"4.{i}" for i in range(1, 4)),
)

#: One complete survey, from the command to the submission of the summary.
SURVEY: tuple[Inbound, ...] = (
    Command("khaosat"),
    Choice("consent:yes"),
    Choice("info:done"),
    Choice("trips:1"),
    Choice("timing:ontime"),
    *(Choice(f"{item}:{5 if n % 2 else 4}") for n, item in enumerate(CRITERIA)),
    Choice("f5:yes"),
    *(Choice(f"5.{i}:4") for i in range(1, 5)),
    Choice("harass:no"),
    Choice("payment:no"),
    Choice("expect:done"),
    Choice("comment:skip"),
    Choice("p.intro:no"),
    Choice("summary:submit"),
)
THANKS = "survey.thanks"


def completes_survey(handled: Handled) -> bool:
    """True if these are the replies to the event that submitted a survey."""
    return len(handled.messages) >= 2 and handled.messages[-2].key == THANKS


class Citizen:
    """One simulated citizen: an external id and the next answer of its current survey."""

    def __init__(self, number: int, prefix: str = "c") -> None:
        self.external_id = f"{prefix}{number:04d}"
        self.sent = 0

    def next_event(self) -> InboundEvent:
        payload = SURVEY[self.sent % len(SURVEY)]
        self.sent += 1
        return InboundEvent(f"{self.external_id}-{self.sent}", CHANNEL, self.external_id, payload)


@dataclass(frozen=True, slots=True)
class Throughput:
    events: int
    seconds: float
    surveys: int
    completed_in_db: int

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


@dataclass(frozen=True, slots=True)
class Latency:
    rate: float
    samples_ms: tuple[float, ...]
    failures: int

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in ms."""
        ordered = sorted(self.samples_ms)
        if not ordered:
            return math.nan
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1]


async def warm_up(dispatcher: Dispatcher) -> None:
    """Runs one survey outside the measurement; fails loudly if the sequence is incomplete."""
    citizen = Citizen(0, prefix="w")
    handled: Handled | None = None
    for _ in SURVEY:
        handled = await dispatcher.submit(citizen.next_event())
    if handled is None or not completes_survey(handled):
        keys = [m.key for m in handled.messages] if handled else []
        raise RuntimeError(f"the bench's answer sequence does not complete a survey: {keys}")


async def throughput(engine: AsyncEngine, citizens: int, surveys: int) -> Throughput:
    dispatcher = Dispatcher(engine, DispatchSettings())
    try:
        await warm_up(dispatcher)
        finished = 0

        async def citizen_loop(citizen: Citizen) -> None:
            nonlocal finished
            for _ in range(surveys * len(SURVEY)):
                if completes_survey(await dispatcher.submit(citizen.next_event())):
                    finished += 1

        people = [Citizen(n) for n in range(citizens)]
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for citizen in people:
                group.create_task(citizen_loop(citizen))
        seconds = time.perf_counter() - started
    finally:
        await dispatcher.close()
    async with engine.connect() as conn:
        statuses = await count_responses(conn)
    completed = statuses.get("completed", 0) - 1  # less the warm-up survey
    return Throughput(sum(c.sent for c in people), seconds, finished, completed)


async def latency(engine: AsyncEngine, rate: float, seconds: float, citizens: int) -> Latency:
    dispatcher = Dispatcher(engine, DispatchSettings())
    samples: list[float] = []
    failures = 0
    try:
        await warm_up(dispatcher)
        people = [Citizen(n) for n in range(citizens)]
        last: dict[int, asyncio.Task[None]] = {}
        total = max(1, round(rate * seconds))

        async def fire(
            citizen: Citizen, scheduled: float, previous: asyncio.Task[None] | None
        ) -> None:
            nonlocal failures
            if previous is not None:  # a citizen answers only once it got the last reply
                await asyncio.wait([previous])
            try:
                await dispatcher.submit(citizen.next_event())
            except Exception:
                failures += 1
                return
            samples.append((time.perf_counter() - scheduled) * 1000)

        t0 = time.perf_counter() + 0.05
        for i in range(total):
            scheduled = t0 + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            slot = i % citizens
            last[slot] = asyncio.create_task(fire(people[slot], scheduled, last.get(slot)))
        await asyncio.gather(*last.values())
    finally:
        await dispatcher.close()
    return Latency(rate, tuple(samples), failures)


def report(name: str, speed: Throughput, delay: Latency) -> str:
    return (
        f"{name}: {speed.per_second:.0f} events/s; "
        f"at {delay.rate:g} events/s offered: "
        f"p50 {delay.percentile(50):.1f} ms, p99 {delay.percentile(99):.1f} ms"
    )


def check(name: str, speed: Throughput, delay: Latency) -> None:
    """Warns on stderr when the database disagrees with what the citizens saw."""
    if speed.completed_in_db != speed.surveys:
        print(
            f"warning: {name}: citizens finished {speed.surveys} surveys "
            f"but the database holds {speed.completed_in_db} completed responses",
            file=sys.stderr,
        )
    if delay.failures:
        print(
            f"warning: {name}: {delay.failures} events failed in the latency run", file=sys.stderr
        )


async def bench_one(
    name: str,
    database: Callable[[], AbstractAsyncContextManager[AsyncEngine]],
    args: argparse.Namespace,
) -> str:
    async with database() as engine:
        speed = await throughput(engine, args.citizens, args.surveys)
    async with database() as engine:
        delay = await latency(engine, args.rate, args.seconds, args.latency_citizens)
    check(name, speed, delay)
    return report(name, speed, delay)


def postgres_url(args: argparse.Namespace) -> str:
    return str(
        args.postgres_url
        or os.environ.get("TEST_POSTGRES_URL")
        or os.environ.get("BENCH_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL
    )


async def run(args: argparse.Namespace) -> None:
    if args.db in ("sqlite", "both"):
        print(await bench_one("sqlite", sqlite_database, args), flush=True)
    if args.db in ("postgres", "both"):
        url = postgres_url(args)
        try:
            line = await bench_one("postgres", lambda: postgres_database(url), args)
        except Unreachable as exc:
            line = f"postgres: skipped ({exc})"
        print(line, flush=True)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--citizens", type=int, default=200, help="throughput: citizens")
    parser.add_argument("--surveys", type=int, default=1, help="throughput: surveys per citizen")
    parser.add_argument("--rate", type=float, default=200.0, help="latency: events/s offered")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency: duration")
    parser.add_argument("--latency-citizens", type=int, default=1000, help="latency: citizens")
    parser.add_argument("--postgres-url", default=None, help="default: env TEST_POSTGRES_URL")
    args = parser.parse_args(argv)
    if min(args.citizens, args.surveys, args.latency_citizens) < 1 or args.rate <= 0:
        parser.error("counts and rate must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run(parse(argv)))


if __name__ == "__main__":
    main()
