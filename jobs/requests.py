"""Does the work administrators (and citizens, for /ketqua) ask for in chat, and answers it.

Requests are rows written with the event that asked; this worker takes them in order, builds
the answer (a report, the current digest, a spreadsheet, the public results) and queues it in
the outbox in the same transaction that marks the request done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from conversations import Catalog, Reply
from conversations.effects import Lines
from conversations.periods import Period, current
from storage import WriteSet, flush, read_transaction, write_transaction
from storage.outbound import DocumentMessage, ImageMessage, Outbound, TextMessage
from storage.queries.export import complaints_for_export, responses_for_export
from storage.queries.jobs import JobRequest, answered_since, finish_job, pending_jobs

from .digest import build_report_message, report_lines
from .digests import DigestSettings, digest_reply
from .export_xlsx import ComplaintRow, ResponseRow
from .public import PublicResultsCache
from .reports import ReportScope, build_report, dossier_measures

log = logging.getLogger("jobs.requests")
#: A chat gets the public results (text and chart) at most this often.
PUBLIC_EVERY = timedelta(minutes=10)


class RequestWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: DigestSettings,
        catalog: Catalog,
        clock: Callable[[], datetime],
        public: PublicResultsCache | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.catalog = catalog
        self.clock = clock
        self.public = public or PublicResultsCache(engine, settings.tz, clock, settings.method)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle_s: float = 30.0) -> None:
        """Answers requests as they are woken; an idle look every ``idle_s`` takes up what
        another process left unanswered (it died before answering)."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("job=requests error=failed")
            waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            _, rest = await asyncio.wait(waits, timeout=idle_s, return_when=asyncio.FIRST_COMPLETED)
            for task in rest:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def run_once(self) -> int:
        async with read_transaction(self.engine) as conn:
            jobs = await pending_jobs(conn)
        for job in jobs:
            try:
                payloads = await self.answer(job)
                status = "done"
            except Exception:
                ref = uuid.uuid4().hex[:8]
                log.exception("job=request kind=%s ref=%s error=failed", job.kind, ref)
                failed = Reply("report.failed", (("ref", ref),))
                payloads = [self._text(failed, job.language)]
                status = "failed"
            now = self.clock()
            async with write_transaction(self.engine) as conn:
                if not await finish_job(conn, job.id, status, now):
                    continue  # another process answered it
                writes = WriteSet()
                for payload in payloads:
                    writes.enqueue(job.channel, job.chat_id, payload, now)
                await flush(conn, writes)
        return len(jobs)

    async def answer(self, job: JobRequest) -> list[Outbound]:
        now = self.clock()
        today = now.astimezone(self.settings.tz).date()
        scope = ReportScope(self.settings.tz, job.language, method=self.settings.method)
        if job.kind == "report":
            period = Period(
                date.fromisoformat(job.args["from"]), date.fromisoformat(job.args["to"])
            )
            async with read_transaction(self.engine) as conn:
                report = await build_report(conn, period, scope)
                previous = await build_report(conn, period.previous(), scope)
                dossiers = await dossier_measures(
                    conn, period, scope, self.settings.calendar, report.index
                )
            reply = build_report_message(report, previous, self.settings.agency, dossiers)
            return [self._text(reply, job.language)]
        if job.kind == "digest":
            # The week so far, rendered as the scheduled and the printed digest are (its
            # alerts too: a stale ADMIN_CHAT_IDS room, held messages, failed events ...).
            period = current("weekly", today)
            reply, report, previous = await digest_reply(
                self.engine, "weekly", period, self.settings, now, job.language
            )
            summary = self.catalog.text(job.language, "digest.chart_summary")
            chart = await asyncio.to_thread(_chart, report, previous, job.language, summary)
            return [self._text(reply, job.language), chart]
        if job.kind == "public":
            async with read_transaction(self.engine) as conn:
                recent = await answered_since(
                    conn, "public", job.channel, job.chat_id, now - PUBLIC_EVERY
                )
            if recent:  # the chart was sent minutes ago: not again for each tap
                return [self._text(Reply("results.recent"), job.language)]
            if not self.public.ready(job.language):
                # Building takes a few seconds (the chart): say so now, not after.
                await self._tell_now(job, Reply("results.working"))
            public = await self.public.get(job.language)
            if not public.publishable or public.chart is None:
                return [self._text(Reply("results.none"), job.language)]
            lines = Lines(tuple(report_lines(public.report, None)[:7]))  # counts, index, elements
            reply = Reply(
                "results.message",
                (
                    ("agency", self.settings.agency),
                    ("period", _dates(public.period)),
                    ("lines", lines),
                ),
            )
            summary = self.catalog.text(job.language, "digest.chart_summary")
            image = ImageMessage(public.chart, "sipas.png", summary=summary)
            return [self._text(reply, job.language), image]
        if job.kind == "export":
            return [await self._export(job, today, now)]
        raise ValueError(f"unknown job {job.kind!r}")

    async def _tell_now(self, job: JobRequest, reply: Reply) -> None:
        """Queues ``reply`` at once, ahead of the answer still being built."""
        now = self.clock()
        async with write_transaction(self.engine) as conn:
            writes = WriteSet()
            writes.enqueue(job.channel, job.chat_id, self._text(reply, job.language), now)
            await flush(conn, writes)

    def _text(self, reply: Reply, language: str) -> TextMessage:
        message = self.catalog.render(reply, language)
        return TextMessage(message.text, message.choices, message.key)

    async def _export(self, job: JobRequest, today: date, now: datetime) -> Outbound:
        from .export_xlsx import export_workbook

        period = Period(date(today.year, 1, 1), today)
        if "from" in job.args and "to" in job.args:  # /xuatdulieu with a period
            period = Period(
                date.fromisoformat(job.args["from"]), date.fromisoformat(job.args["to"])
            )
        scope = ReportScope(self.settings.tz, job.language, method=self.settings.method)
        async with read_transaction(self.engine) as conn:
            report = await build_report(conn, period, scope)
            responses, complaints = await export_rows(
                conn, period, self.settings.tz, self.settings.method
            )
            dossiers = await dossier_measures(
                conn, period, scope, self.settings.calendar, report.index
            )
        full = job.args.get("full") == "yes"
        if not full:  # a free comment may name the person who wrote it
            responses = [without_comment(r) for r in responses]
        # openpyxl takes seconds for a big year: off the event loop, chats go on meanwhile.
        data = await asyncio.to_thread(
            export_workbook,
            report,
            responses,
            complaints,
            language=job.language,
            agency=self.settings.agency,
            full_register=full,
            generated_at=now,
            timezone=self.settings.tz,
            dossiers=dossiers,
        )
        caption = self.catalog.render(
            Reply("report.export_caption", (("period", _dates(period)),)), job.language
        )
        summary = self.catalog.text(job.language, "report.export_elsewhere")
        name = f"sipas-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
        return DocumentMessage(data, name, caption=caption.text, summary=summary)


def _dates(period: Period) -> str:
    return f"{period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}"


def _chart(report: object, previous: object, language: str, summary: str) -> ImageMessage:
    from .chart import element_chart

    png = element_chart(report, previous, language=language)  # type: ignore[arg-type]
    return ImageMessage(png, "sipas.png", summary=summary)


async def export_rows(
    conn: AsyncConnection, period: Period, tz: ZoneInfo, method: str
) -> tuple[list[ResponseRow], list[ComplaintRow]]:
    """The spreadsheet's rows: anonymous responses of ``method`` and the complaint register."""
    responses = await responses_for_export(conn, period.start, period.end, tz, method)
    complaints = await complaints_for_export(conn, period.start, period.end, tz)
    return responses, complaints


def without_comment(row: ResponseRow) -> ResponseRow:
    return replace(row, answers={k: v for k, v in row.answers.items() if k != "comment"})
