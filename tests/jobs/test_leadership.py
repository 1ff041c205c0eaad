"""Exactly one process runs the schedule; when it goes, another takes over (PostgreSQL)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.runtime.dispatch import Dispatcher
from conversations import default_catalog
from conversations.workdays import load_calendar
from jobs.digests import DigestSettings
from jobs.runner import JobsRunner
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES, Database, migrated, postgres_schema

pytestmark = pytest.mark.postgres

DIGESTS = DigestSettings(
    agency="Sở Xây dựng",
    tz=ZoneInfo("Asia/Ho_Chi_Minh"),
    calendar=load_calendar(),
    chats=(),
    at=time(7, 30),
)


@pytest.fixture
async def shared() -> AsyncIterator[Database]:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    async with postgres_schema() as db:
        engine = await migrated(db)
        await engine.dispose()
        yield db


class Process:
    """One bot process's jobs runner, on its own engine (its own connections)."""

    def __init__(self, db: Database, key: int) -> None:
        self.engine: AsyncEngine = db.open()
        clock = SequentialClock(start=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
        self.dispatcher = Dispatcher(self.engine, clock=clock, new_id=SequentialIds())
        self.runner = JobsRunner(
            self.engine, self.dispatcher, DIGESTS, default_catalog(), clock,
            leader_poll_s=0.1, lock_key=key,
        )  # fmt: skip
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.tasks = await self.runner.start(self.stop)

    async def close(self) -> None:
        self.stop.set()
        await self.runner.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.dispatcher.close()
        await self.engine.dispose()


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 (polling another object's flag)
            await asyncio.sleep(0.05)


async def test_one_leader_and_a_takeover_when_it_goes(shared: Database) -> None:
    key = secrets.randbits(40)
    a, b = Process(shared, key), Process(shared, key)
    try:
        await a.start()
        await b.start()
        assert a.runner.leading
        await asyncio.sleep(0.5)  # several election rounds: b stays a follower
        assert not b.runner.leading
        assert not await b.runner.run_job("expiry")  # a follower runs no job
        await a.close()  # the leader goes: its session, and so its lock, ends
        await _until(lambda: b.runner.leading)
        assert await b.runner.run_job("expiry")
    finally:
        await a.close()
        await b.close()


async def test_a_dropped_connection_never_yields_two_leaders(shared: Database) -> None:
    """The leader's lock connection is killed by the server: another process takes the lock,
    and the old leader runs no job from then on (it checks before each one)."""
    key = secrets.randbits(40)
    a, b = Process(shared, key), Process(shared, key)
    admin = create_async_engine(POSTGRES_URL)
    try:
        await a.start()
        await b.start()
        assert a.runner.leading
        assert not b.runner.leading
        async with admin.begin() as conn:
            killed = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = :lo AND classid = :hi"
                ),
                {"lo": key & 0xFFFFFFFF, "hi": key >> 32},
            )
            assert killed.scalars().all() == [True]
        # From the kill on, in every round both try to run a job: never both run one, and
        # within a few rounds one of them (whichever took the lock again) does.
        runs: list[list[bool]] = []
        for _ in range(30):
            ran = await asyncio.gather(a.runner.run_job("prune"), b.runner.run_job("prune"))
            runs.append(list(ran))
            await asyncio.sleep(0.1)
        assert all(sum(r) <= 1 for r in runs), runs
        assert runs[-1].count(True) == 1, runs
    finally:
        await a.close()
        await b.close()
        await admin.dispose()
