"""The public results (``/ketqua`` in chat and ``GET /ketqua``), built once and kept a while.

Publishing the results is cheap only if they are not recomputed per visitor: the report of the
last 30 days and its chart are built once per language and kept for ``TTL`` (the figures
change slowly), concurrent askers wait for the one build, and the chart is drawn off the
event loop, so a crowd on the results page never slows the replies to citizens in chat.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import DEFAULT_METHOD
from conversations.periods import Period
from storage import read_transaction

from .reports import ReportScope, build_report
from .sipas_index import Report

#: How long a built result is served before it is built again, in seconds.
TTL_S = 300.0
#: Fewer surveys than this are not published (too easy to re-identify).
MIN_PUBLIC_BASE = 10


@dataclass(frozen=True, slots=True)
class PublicResults:
    """The last 30 days' report, the 30 days before, and the chart (PNG; None when there
    are too few surveys to publish)."""

    period: Period
    report: Report
    previous: Report
    chart: bytes | None

    @property
    def publishable(self) -> bool:
        return self.report.completed >= MIN_PUBLIC_BASE


class PublicResultsCache:
    def __init__(
        self,
        engine: AsyncEngine,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
        method: str = DEFAULT_METHOD,
    ) -> None:
        self.engine = engine
        self.tz = tz
        #: The one SIPAS method the public page shows (``SURVEY_METHOD``).
        self.method = method
        self.clock = clock
        self._built: dict[tuple[date, str], tuple[float, PublicResults]] = {}
        self._locks: dict[tuple[date, str], asyncio.Lock] = {}
        self.builds = 0

    def ready(self, language: str) -> bool:
        """True when today's results in ``language`` are built and fresh: :meth:`get` answers
        at once, without a database read or a chart to draw."""
        today = self.clock().astimezone(self.tz).date()
        found = self._built.get((today, language))
        return found is not None and time.monotonic() - found[0] < TTL_S

    async def get(self, language: str) -> PublicResults:
        today = self.clock().astimezone(self.tz).date()
        key = (today, language)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one build at a time per key: the others wait and share it
            found = self._built.get(key)
            if found is not None and time.monotonic() - found[0] < TTL_S:
                return found[1]
            results = await self._build(today, language)
            self._built = {k: v for k, v in self._built.items() if k[0] == today}
            self._built[key] = (time.monotonic(), results)
            return results

    async def _build(self, today: date, language: str) -> PublicResults:
        from .chart import element_chart

        period = Period(today - timedelta(days=29), today)
        scope = ReportScope(self.tz, language, method=self.method)
        async with read_transaction(self.engine) as conn:
            report = await build_report(conn, period, scope)
            previous = await build_report(conn, period.previous(), scope)
        chart = None
        if report.completed >= MIN_PUBLIC_BASE:
            chart = await asyncio.to_thread(element_chart, report, previous, language=language)
        self.builds += 1
        return PublicResults(period, report, previous, chart)
