"""Runs the scheduled work (APScheduler 3): digests, reminders, expiry, and chat requests.

A failing job is logged and the scheduler goes on. With PostgreSQL and several processes,
only the one holding an advisory lock runs the schedule; the others serve chats and take over
within ``LEADER_POLL_S`` when the leader goes (storage/leader.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import Catalog
from storage import is_sqlite, scrub_log, write_transaction
from storage.leader import AdvisoryLeader
from storage.queries.dialogue import forget_events_before
from storage.queries.leases import forget_leases
from storage.queries.rewrites import RESTAMPED_DAYS, rewrite_survey_traces

from .digests import DigestSettings, send_due_digests
from .dossier_invitations import DossierJobSettings, expire_and_forget, remind_invitations
from .expiry import expire_due
from .ports import EventSink
from .reminders import remind_due
from .requests import RequestWorker
from .restamp import RESTAMP_EVERY_S as RESTAMP_EVERY_S
from .restamp import SurveyRestamp

log = logging.getLogger("jobs.runner")
SCHEDULER_LOCK = 0x51BA5_0002
#: How often a follower tries to lead and the leader checks it still does (takeover < 30 s).
LEADER_POLL_S = 5.0
EVENT_MEMORY = timedelta(days=30)
#: How often the survey tables are put back in key order and the tables that held a chat
#: next to a survey are rewritten without their old row versions: the hour response times are
#: cut to, so at most about one hour's surveys lie in write order or leave old versions.
SHUFFLE_EVERY_S = 3600


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
    """The request worker (every process) and the schedule (the leader only).

    Every ``leader_poll_s`` a follower tries to become the leader and the leader checks that
    it still is; a leader whose lock connection dropped stops at once, and checks again
    before each job, so two processes never run the schedule together. Each job is safe to
    run twice (keyed by its period or its row), so one cut short is simply run again.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        dispatcher: EventSink,
        digests: DigestSettings,
        catalog: Catalog,
        clock: Callable[[], datetime],
        *,
        leader_poll_s: float = LEADER_POLL_S,
        lock_key: int = SCHEDULER_LOCK,
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
        self.leader_poll_s = leader_poll_s
        self.requests = RequestWorker(engine, digests, catalog, clock)
        dispatcher.on_jobs(self.requests.wake)
        #: PostgreSQL: the restamp an ended survey asks for, in every process (the one that
        #: ended it knows); SQLite keeps no transaction id on rows.
        self.restamp: SurveyRestamp | None = (
            None if is_sqlite(engine) else SurveyRestamp(engine, clock)
        )
        if self.restamp is not None:
            dispatcher.on_surveys_ended(self.restamp.wake)
        self.scheduler = AsyncIOScheduler(timezone=digests.tz)
        self.leadership = AdvisoryLeader(engine, lock_key)
        self.leading = False
        self.ran: list[str] = []  # job names run by this process, in order (tests, logs)
        self.jobs: dict[str, tuple[Callable[[], Awaitable[object]], int]] = {
            "digest": (self.digests_due, 60),
            "reminders": (lambda: remind_due(self.dispatcher, self.digests.tz), 300),
            "expiry": (lambda: expire_due(self.dispatcher), 300),
            "dossiers": (self.dossiers_due, 300),
            "prune": (self.prune, 6 * 3600),
            "shuffle": (self.shuffle, SHUFFLE_EVERY_S),
        }

    async def prune(self) -> int:
        """Forgets event ids older than any redelivery (channels retry for hours, not weeks)."""
        async with write_transaction(self.engine) as conn:
            await forget_leases(conn, self.clock() - timedelta(days=1))
            return await forget_events_before(conn, self.clock() - EVENT_MEMORY)

    async def shuffle(self) -> bool:
        """PostgreSQL: rewrites the survey tables in key order (a random id, a hash, the
        content or a creation id: never the order surveys ended in), each row stamped by one
        transaction that touched no chat (the consents and receipts a chat's transaction wrote
        last by two more, one each), and the tables whose old row versions held a chat
        next to a survey without those versions (:mod:`storage.queries.rewrites`); True when
        no table had to be left to the next run. SQLite: zeroes freed space as it goes
        (``secure_delete``) and keeps rows in key order; this only empties the write-ahead log
        again in case the checkpoint after an ended survey found readers in the way (False)."""
        if is_sqlite(self.engine):
            await scrub_log(self.engine)
            return False
        since = self.clock().date() - timedelta(days=RESTAMPED_DAYS)
        done = await rewrite_survey_traces(self.engine, since)
        return not done.skipped

    async def digests_due(self) -> None:
        await send_due_digests(self.engine, self.digests, self.catalog, self.clock())

    async def dossiers_due(self) -> None:
        """Invitation reminders (in daytime), then expiries and deletions after retention."""
        now = self.clock()
        await remind_invitations(self.engine, self.catalog, now, self.dossiers)
        await expire_and_forget(self.engine, now, self.dossiers)

    async def run_job(self, name: str) -> bool:
        """Runs one scheduled job if this process still leads; False when it did not run,
        or was cancelled by the stop (logged at INFO: each job is safe to run again)."""
        try:
            if not self.leading or not await self.leadership.holds():
                await self._step_down()
                return False
            self.ran.append(name)
            await guarded(name, self.jobs[name][0])()
        except asyncio.CancelledError:
            # The scheduler cancels the jobs still running when it shuts down (the stop):
            # an orderly end, not a fault. Let through, APScheduler would log it at ERROR
            # with a traceback. Only its own future awaits this coroutine, so nothing else
            # waits on the cancellation; the next start runs the job again.
            log.info("job=%s event=cancelled", name)
            return False
        return True

    async def start(self, stop: asyncio.Event) -> list[asyncio.Task[None]]:
        tasks = [asyncio.create_task(self.requests.run(stop), name="requests")]
        if self.restamp is not None:
            tasks.append(asyncio.create_task(self.restamp.run(stop), name="restamp"))
        self.scheduler.start(paused=True)
        await self.elect()
        if self.leadership.shared:
            tasks.append(asyncio.create_task(self._watch(stop), name="leadership"))
        return tasks

    async def elect(self) -> bool:
        """One round: become the leader if the lock is free, step down if it was lost."""
        try:
            holds = await self.leadership.try_acquire()
        except Exception as exc:
            log.warning("job=scheduler error=%s", type(exc).__name__)
            holds = False
        if holds and not self.leading:
            self._take_over()
        elif not holds and self.leading:
            await self._step_down()
        return self.leading

    async def _watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.leader_poll_s)
            if not stop.is_set():
                await self.elect()

    def _take_over(self) -> None:
        self.leading = True
        log.info("job=scheduler role=leader")
        for name, (_, seconds) in self.jobs.items():
            # Also right away: a digest missed while the bot was down goes out on start.
            self.scheduler.add_job(
                self.run_job,
                "interval",
                args=(name,),
                seconds=seconds,
                id=name,
                next_run_time=datetime.now(self.digests.tz),
                max_instances=1,
                coalesce=True,
                replace_existing=True,
            )
        self.scheduler.resume()

    async def _step_down(self) -> None:
        if not self.leading:
            return
        self.leading = False
        log.warning("job=scheduler role=follower reason=lock_lost")
        self.scheduler.pause()
        self.scheduler.remove_all_jobs()
        await self.leadership.release()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.leading = False
        await self.leadership.release()
