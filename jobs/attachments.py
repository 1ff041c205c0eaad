"""Copies complaint attachments from the channel into the database, so they outlive it.

The dialogue only records a channel's file id (``pending``); Telegram keeps a file for a
while, not for the years a complaint file must be kept. This job downloads each pending file,
checks its size and its type, and stores the bytes with their SHA-256 (``stored``). The type is
read from the bytes (``filetype``), never from the name or the type the sender declared: a
program named ``x.pdf`` is refused, and the stored name gets the extension of what the bytes
are. A file over the limit is refused at once, including one whose size was not declared
(the download stops as soon as it passes the limit); a download that fails counts an
attempt, and the file is given up (``failed``) after ``max_attempts``.

Each file is stored in its own short write transaction: a 10 MB upload must not hold the
SQLite write lock while other files download, and one file's failure must not roll back
another's success. Downloads run a few at a time, which bounds both the load on the channel
and the bytes held in memory (at most ``concurrency`` files at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import filetype
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from conversations.limits import ALLOWED_DOCUMENT_TYPES
from storage import read_transaction, write_transaction
from storage.queries.complaint_files import PendingFile, file_failed, pending_files, store_file

log = logging.getLogger("jobs.attachments")

Download = Callable[[str], Awaitable[bytes]]
Clock = Callable[[], datetime]
#: Queues a word to the citizen about a file given up: (conn, file, reason, now) -> told.
Tell = Callable[[AsyncConnection, PendingFile, str, datetime], Awaitable[bool]]

MAX_BYTES = 10 * 1024 * 1024
MAX_ATTEMPTS = 5
CONCURRENCY = 4
BATCH = 20
#: How often the running bot looks for files to copy (seconds): a citizen's file is in the
#: case soon after it was sent.
LOOP_EVERY_S = 2.0
#: Longest pause of the loop while every download keeps failing (a network outage).
MAX_BACKOFF_S = 300.0


#: What a photo's bytes may be (Zalo sends GIFs as images too).
ALLOWED_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_NAME_KEEP = re.compile(r"[^\w\- ]+")


class FileTooLarge(Exception):
    """A download passed the limit before it ended (the channel had not said the size)."""


def sniffed_type(data: bytes, media: str) -> tuple[str, str] | None:
    """(MIME type, extension) the bytes really are, when it is a kind we keep for ``media``;
    None for anything else (programs, archives, unknown bytes)."""
    kind = filetype.guess(data)
    if kind is None:
        return None
    allowed = ALLOWED_IMAGE_TYPES if media == "photo" else ALLOWED_DOCUMENT_TYPES
    return (kind.mime, kind.extension) if kind.mime in allowed else None


def safe_name(declared: str | None, extension: str) -> str | None:
    """The citizen's name for the file, cut at its first dot and given the extension of what
    the bytes are: ``hoa-don.pdf.scr`` never reaches staff under any name that runs."""
    if not declared:
        return None
    base = _NAME_KEEP.sub("", declared.split(".", 1)[0]).strip()[:150] or "tep"
    return f"{base}.{extension}"


@dataclass(frozen=True, slots=True)
class StoreReport:
    """What one run did: files stored, given up, and left pending to be tried again.

    ``retry_after`` is the channel's rate-limit pause in seconds (0 when none was asked).
    """

    stored: int = 0
    failed: int = 0
    retried: int = 0
    retry_after: float = 0.0


def asked_to_wait(exc: BaseException) -> float | None:
    """Seconds the channel asked us to wait, when a download failed with a rate limit.

    The channel's error carries them as ``retry_after`` (``bot.errors.RateLimited``); this
    package names no channel type, so the attribute is the contract.
    """
    pause = getattr(exc, "retry_after", None)
    return float(pause) if isinstance(pause, int | float) and not isinstance(pause, bool) else None


class _Outcome(Enum):
    STORED = "stored"
    FAILED = "failed"
    RETRIED = "retried"
    SKIPPED = "skipped"  # not tried: the channel asked us to slow down first


async def store_pending_files(
    engine: AsyncEngine,
    channel: str,
    download: Download,
    now: Clock,
    *,
    max_bytes: int = MAX_BYTES,
    max_attempts: int = MAX_ATTEMPTS,
    concurrency: int = CONCURRENCY,
    batch: int = BATCH,
    tell: Tell | None = None,
) -> StoreReport:
    """Copies up to ``batch`` pending files of ``channel``; returns what happened to them.
    ``tell``: queues a word to the citizen when a file is given up (``jobs.file_notices``)."""
    async with read_transaction(engine) as conn:
        queue = await pending_files(conn, channel, batch)
    if not queue:
        return StoreReport()
    gate = asyncio.Semaphore(concurrency)
    run = _Run(engine, download, now, max_bytes, max_attempts, gate, tell)
    outcomes = await asyncio.gather(*(run.guarded(pending) for pending in queue))
    report = StoreReport(
        stored=outcomes.count(_Outcome.STORED),
        failed=outcomes.count(_Outcome.FAILED),
        retried=outcomes.count(_Outcome.RETRIED),
        retry_after=run.retry_after,
    )
    log.info(
        "job=attachments channel=%s stored=%d failed=%d retried=%d skipped=%d",
        channel,
        report.stored,
        report.failed,
        report.retried,
        outcomes.count(_Outcome.SKIPPED),
    )
    return report


class _Run:
    """One pass over a batch; shared state is the concurrency gate and a rate-limit pause."""

    def __init__(
        self,
        engine: AsyncEngine,
        download: Download,
        now: Clock,
        max_bytes: int,
        max_attempts: int,
        gate: asyncio.Semaphore,
        tell: Tell | None = None,
    ) -> None:
        self.engine = engine
        self.download = download
        self.now = now
        self.max_bytes = max_bytes
        self.max_attempts = max_attempts
        self.gate = gate
        self.tell = tell
        self.retry_after = 0.0

    async def guarded(self, pending: PendingFile) -> _Outcome:
        """One file, whatever happens: a failure here never stops the other files."""
        try:
            return await self.copy(pending)
        except Exception:
            # Most likely the database (the download's own errors are handled in copy). The
            # row is untouched and still pending, so the next run tries it again.
            log.exception("job=attachments file=%d error=store_failed", pending.id)
            return _Outcome.RETRIED

    async def copy(self, pending: PendingFile) -> _Outcome:
        async with self.gate:
            if self.retry_after:
                return _Outcome.SKIPPED
            if pending.size > self.max_bytes:
                # The channel's size is known before downloading: no need to fetch 50 MB
                # only to throw it away.
                return await self.give_up(pending, "too_large")
            if not pending.channel_file_id:
                return await self.give_up(pending, "no_file_id")
            try:
                data = await self.download(pending.channel_file_id)
            except FileTooLarge:
                return await self.give_up(pending, "too_large")
            except Exception as exc:
                pause = asked_to_wait(exc)
                if pause is not None:
                    # Says nothing about this file: no attempt is counted, and the files not
                    # started yet wait for the next run instead of meeting the same refusal.
                    self.retry_after = max(self.retry_after, pause)
                    log.warning(
                        "job=attachments file=%d error=rate_limited retry_after=%g",
                        pending.id,
                        pause,
                    )
                    return _Outcome.RETRIED
                # Any download failure, including a bug in the download function, is one
                # attempt: a file that can never be fetched must leave the queue eventually.
                return await self.count_attempt(pending, type(exc).__name__)
            if len(data) > self.max_bytes:
                # The channel may not know the size (0) or may be wrong about it.
                return await self.give_up(pending, "too_large")
            sniffed = sniffed_type(data, pending.media)
            if sniffed is None:
                return await self.give_up(pending, "type_refused")
            mime, extension = sniffed
            digest = hashlib.sha256(data).hexdigest()
            async with write_transaction(self.engine) as conn:
                await store_file(
                    conn,
                    pending.id,
                    data,
                    digest,
                    self.now(),
                    mime=mime,
                    file_name=safe_name(pending.file_name, extension),
                )
            log.info("job=attachments file=%d event=stored size=%d", pending.id, len(data))
            return _Outcome.STORED

    async def give_up(self, pending: PendingFile, reason: str) -> _Outcome:
        async with write_transaction(self.engine) as conn:
            await file_failed(conn, pending.id, pending.attempts + 1, give_up=True)
            told = self.tell is not None and await self.tell(conn, pending, reason, self.now())
        log.warning("job=attachments file=%d error=%s", pending.id, reason)
        if told:
            log.info("job=attachments file=%d event=sender_told", pending.id)
        return _Outcome.FAILED

    async def count_attempt(self, pending: PendingFile, error: str) -> _Outcome:
        attempts = pending.attempts + 1
        give_up = attempts >= self.max_attempts
        async with write_transaction(self.engine) as conn:
            await file_failed(conn, pending.id, attempts, give_up)
        log.warning(
            "job=attachments file=%d error=download_failed kind=%s attempt=%d gave_up=%s",
            pending.id,
            error,
            attempts,
            str(give_up).lower(),
        )
        return _Outcome.FAILED if give_up else _Outcome.RETRIED


async def attachments_loop(
    engine: AsyncEngine,
    channel: str,
    download: Download,
    now: Clock,
    stop: asyncio.Event,
    every_s: float = 5.0,
    *,
    max_bytes: int = MAX_BYTES,
    max_attempts: int = MAX_ATTEMPTS,
    batch: int = BATCH,
    tell: Tell | None = None,
) -> None:
    """Runs :func:`store_pending_files` every ``every_s`` seconds until ``stop`` is set.

    A full batch whose files all left the queue is followed at once by the next. While every
    download fails (the channel is unreachable) the pause doubles, up to
    :data:`MAX_BACKOFF_S`, so a short outage does not spend all of a file's attempts.
    """
    backoff = every_s
    while not stop.is_set():
        wait = every_s
        try:
            report = await store_pending_files(
                engine,
                channel,
                download,
                now,
                max_bytes=max_bytes,
                max_attempts=max_attempts,
                batch=batch,
                tell=tell,
            )
        except asyncio.CancelledError:
            raise  # shutdown: never swallowed by the handler below
        except Exception:
            log.exception("job=attachments channel=%s error=run_failed", channel)
        else:
            progress = report.stored + report.failed
            if report.retried and not progress:
                backoff = min(MAX_BACKOFF_S, backoff * 2)
                wait = backoff
            else:
                backoff = every_s
                # A full batch that all left the queue: more files may wait behind it. A file
                # to retry would come first again (oldest first), so that waits for the pause.
                if progress >= batch and not report.retried and not report.retry_after:
                    continue
            wait = max(wait, report.retry_after)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
