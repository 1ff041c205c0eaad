"""Runs the scheduled work (APScheduler 3): digests, reminders, expiry, and chat requests.

A failing job is logged and the scheduler goes on. With PostgreSQL and several processes,
only the one holding an advisory lock runs the schedule; the others only serve chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from conversations import Catalog
from storage import write_transaction
from storage.queries.dialogue import forget_events_before

from .digests import DigestSettings, send_due_digests
from .dossier_invitations import DossierJobSettings, expire_and_forget, remind_invitations
from .expiry import expire_due
from .ports import EventSink
from .reminders import remind_due
from .requests import RequestWorker

log = logging.getLogger("jobs.runner")
SCHEDULER_LOCK = 0x51BA5_0002
EVENT_MEMORY = timedelta(days=30)


def guarded(name: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """Logs a failing job (``job=<name> error=...``) instead of letting it stop the schedule."""

    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("job=%s error=%s", name, type(exc).__name__)

    return run


class JobsRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        dispatcher: EventSink,
        digests: DigestSettings,
        catalog: Catalog,
        clock: Callable[[], datetime],
        dossiers: DossierJobSettings | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.digests = digests
        self.dossiers = dossiers or DossierJobSettings(
            tz=digests.tz, default_language=digests.language
        )
        self.catalog = catalog
        self.clock = clock
        self.requests = RequestWorker(engine, digests, catalog, clock)
        dispatcher.on_commit(self.requests.wake)
        self.scheduler = AsyncIOScheduler(timezone=digests.tz)
        self._lock: AsyncConnection | None = None

    async def _leader(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        self._lock = await self.engine.connect()
        got = await self._lock.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK}
        )
        return bool(got.scalar())

    async def prune(self) -> int:
        """Forgets event ids older than any redelivery (channels retry for hours, not weeks)."""
        async with write_transaction(self.engine) as conn:
            return await forget_events_before(conn, self.clock() - EVENT_MEMORY)

    async def digests_due(self) -> None:
        await send_due_digests(self.engine, self.digests, self.catalog, self.clock())

    async def dossiers_due(self) -> None:
        """Invitation reminders (in daytime), then expiries and deletions after retention."""
        now = self.clock()
        await remind_invitations(self.engine, self.catalog, now, self.dossiers)
        await expire_and_forget(self.engine, now, self.dossiers)

    async def start(self, stop: asyncio.Event) -> list[asyncio.Task[None]]:
        tasks = [asyncio.create_task(self.requests.run(stop), name="requests")]
        if not await self._leader():
            log.info("job=scheduler role=follower")
            return tasks
        jobs: list[tuple[str, Callable[[], Awaitable[object]], int]] = [
            ("digest", self.digests_due, 60),
            ("reminders", lambda: remind_due(self.dispatcher, self.digests.tz), 300),
            ("expiry", lambda: expire_due(self.dispatcher), 300),
            ("dossiers", self.dossiers_due, 300),
            ("prune", self.prune, 6 * 3600),
        ]
        for name, job, seconds in jobs:
            # Also right away: a digest missed while the bot was down goes out on start.
            self.scheduler.add_job(
                guarded(name, job),
                "interval",
                seconds=seconds,
                id=name,
                next_run_time=datetime.now(self.digests.tz),
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.start()
        return tasks

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._lock is not None:
            with contextlib.suppress(Exception):
                await self._lock.close()
            self._lock = None
