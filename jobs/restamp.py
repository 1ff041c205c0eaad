"""Within a minute of a survey's end, its rows stop sharing a transaction id with its chat
(PostgreSQL; issue 10, point 4).

The transaction that ends a survey writes the chat's conversation row too, and every row keeps
the id of the transaction that wrote it (``xmin``): until the rows are written again apart, a
plain ``SELECT`` pairs the response, its consent and its receipt with the chat. The hourly
``shuffle`` restamps them all; this restamps the ones just ended, asked for by the process
that ended them (the dispatcher calls :meth:`SurveyRestamp.wake` after the commit), at most
once every ``RESTAMP_EVERY_S``: the surveys ending within the minute are restamped together.

Each process restamps after the surveys it ended (no row of the database asks for it: that
row would carry the ending transaction's id and time). One that stops before leaves them to
the hourly job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from random import Random

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.queries.rewrites import RESTAMPED_DAYS, rewrite_recent_traces

log = logging.getLogger("jobs.restamp")
#: At most this often (seconds): each run scans the survey, consent and receipt rows by
#: ``xmin``, restamps, and rewrites the chat and survey tables without their old versions
#: (README, "Survey anonymity", gives each table's lock time; ``bench/restamp_cost.py``).
RESTAMP_EVERY_S = 60


class SurveyRestamp:
    """The restamp an ended survey asks for: due at once, then at most every ``every``.

    ``clock`` is the runtime's (UTC datetimes); tests move it to cross the minute."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], datetime],
        every: timedelta = timedelta(seconds=RESTAMP_EVERY_S),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.every = every
        #: A survey ended since the last run (or that run was refused a lock).
        self.pending = False
        #: One more run is owed a minute after the next: the chats that went on writing
        #: right after a run (their next steps) are then restamped together again, and every
        #: survey ended within ``RECENT_WINDOW`` after them.
        self.follow_up = False
        self.last: datetime | None = None
        self.runs = 0  # finished runs (tests, logs)
        #: The order rows are restamped in (None: the system's randomness); tests set one.
        self.rng: Random | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after each commit that ended a survey."""
        self.pending = True
        self.follow_up = True
        self._wake.set()

    def due_in(self) -> float:
        """Seconds until the next run may start (0: now)."""
        if self.last is None:
            return 0.0
        return max(0.0, (self.last + self.every - self.clock()).total_seconds())

    async def tick(self) -> bool:
        """Runs the restamp if one is pending and the last run is ``every`` ago; True when it
        ran. A step or a table's rewrite refused a lock, or old versions kept for an older
        transaction, leave it pending (the whole run again a minute on)."""
        if not self.pending or self.due_in() > 0:
            return False
        self.pending = False
        self.last = self.clock()
        since = self.last.date() - timedelta(days=RESTAMPED_DAYS)
        done = await rewrite_recent_traces(self.engine, since, self.rng, self.last)
        if done.skipped or done.held_back:
            # A step or a table refused a lock, or a transaction older than the restamp kept
            # old versions in the copy: all of it again a minute on (the follow-up still owed).
            self.pending = True
        elif self.follow_up:
            self.follow_up = False
            self.pending = True
        self.runs += 1
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Waits for an ended survey, then for the minute to be over, and restamps; a failed
        run is logged (``job=restamp error=...``) and the loop goes on."""
        while not stop.is_set():
            if not self.pending:
                self._wake.clear()
                waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
                _, rest = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in rest:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                continue
            delay = self.due_in()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("job=restamp error=%s", type(exc).__name__)
