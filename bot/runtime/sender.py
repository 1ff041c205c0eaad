"""Drains a channel's outbox: per-chat order, rate limits, retries, blocked chats, stop.

A row leaves the outbox as "sent" only after the channel accepted it, so every reply is sent
at least once; a crash between the send and the bookkeeping sends it again, which the
citizen sees as a repeated message, never as a lost one.

Per-chat order is a guarantee: a chat's messages go one after the other, each only once the
one before was accepted, and none while an earlier one waits for a retry (the outbox hands
out a chat only from its oldest pending message). Chats are served side by side, the chat
waiting longest first, so one busy chat never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import (
    ChatBlocked,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unreachable,
)
from bot.logs import chat_hash
from storage import read_transaction, write_transaction
from storage.outbound import EditMessage
from storage.queries.outbox import (
    OutboxRow,
    mark_dead,
    mark_held,
    mark_retry,
    mark_sent,
    pending_by_chat,
    stop_contact,
)

from ..channels.base import Channel
from .replies import adapt

log = logging.getLogger("bot.sender")

Clock = Callable[[], datetime]

MAX_ATTEMPTS = 12
MAX_BACKOFF_S = 300.0
IDLE_WAKE_S = 1.0  # retries become due without a commit to wake us


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass(slots=True)
class Limits:
    per_second: float = 30
    per_chat_per_second: float = 1
    chat_burst: float = 3


@dataclass(slots=True)
class _Chain:
    """What one chat's turn in a pass did."""

    sent: list[OutboxRow] = field(default_factory=list)
    failed: tuple[OutboxRow, BaseException] | None = None
    wait: float = IDLE_WAKE_S


class OutboxSender:
    """Sends one channel's pending messages: each chat in order, chats side by side."""

    def __init__(
        self,
        engine: AsyncEngine,
        channel: Channel,
        clock: Clock,
        limits: Limits | None = None,
        chats: int = 100,
    ) -> None:
        self.engine = engine
        self.channel = channel.name
        self.target = channel
        self.clock = clock
        self.limits = limits or Limits()
        self.chats = chats
        self._wake = asyncio.Event()
        self._global = TokenBucket(self.limits.per_second, self.limits.per_second)
        self._chats: dict[str, TokenBucket] = {}
        self._paused_until = 0.0
        self.sent = 0

    def wake(self) -> None:
        """Called after a commit that queued replies: no polling delay before they leave."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before reading the outbox: a commit landing while we read still wakes
            # the wait below instead of being lost until the idle timeout.
            self._wake.clear()
            try:
                delay = await self.drain_once()
            except Exception:
                log.exception("job=outbox channel=%s error=drain_failed", self.channel)
                delay = IDLE_WAKE_S
            if delay == 0:
                continue
            waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            _, rest = await asyncio.wait(
                waits, timeout=min(delay, IDLE_WAKE_S), return_when=asyncio.FIRST_COMPLETED
            )
            for task in rest:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def drain(self, deadline_s: float) -> None:
        """At shutdown: send what can leave before the deadline; the rest stays queued."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            delay = await self.drain_once()
            if delay > 0:
                if delay >= IDLE_WAKE_S or time.monotonic() + delay > end:
                    return
                await asyncio.sleep(delay)

    async def drain_once(self) -> float:
        """Sends what may leave now; returns 0 to go on at once, else seconds to wait."""
        now = time.monotonic()
        if now < self._paused_until:
            return self._paused_until - now
        async with read_transaction(self.engine) as conn:
            chains = await pending_by_chat(conn, self.channel, self.clock(), chats=self.chats)
        if not chains:
            return IDLE_WAKE_S
        done = await asyncio.gather(*(self._chain(rows) for rows in chains))
        await self._record(done)
        if any(chain.sent or chain.failed for chain in done):
            return 0.0
        return min(chain.wait for chain in done)

    async def _chain(self, rows: list[OutboxRow]) -> _Chain:
        """One chat's messages in order, until one fails or a limit says wait."""
        chain = _Chain()
        for row in rows:
            now = time.monotonic()
            if now < self._paused_until:
                chain.wait = self._paused_until - now
                break
            # Edits change a message already there (an answered question); only new
            # messages count against the chat's own limit. Both count overall.
            bucket = None
            if not isinstance(row.message, EditMessage):
                bucket = self._chats.setdefault(
                    row.chat_id,
                    TokenBucket(self.limits.per_chat_per_second, self.limits.chat_burst),
                )
                if bucket.wait(now) > 0:
                    chain.wait = bucket.wait(now)
                    break
            if not self._global.take(now):
                chain.wait = self._global.wait(now)
                break
            if bucket is not None:
                bucket.take(now)
            error = await self._attempt(row)
            if error is not None:
                if isinstance(error, RateLimited):  # the whole bot waits, not only this chat
                    self._paused_until = time.monotonic() + error.retry_after
                chain.failed = (row, error)
                break
            chain.sent.append(row)
        return chain

    async def _attempt(self, row: OutboxRow) -> BaseException | None:
        try:
            for part in adapt(row.message, self.target.capabilities):
                await self.target.send(row.chat_id, part)
        except (ChatBlocked, RateLimited, TransientSendError, PermanentSendError) as exc:
            return exc
        except Exception as exc:
            log.exception("event=send_crashed channel=%s", self.channel)
            return TransientSendError(type(exc).__name__)
        return None

    async def _record(self, done: list[_Chain]) -> None:
        now = self.clock()
        async with write_transaction(self.engine) as conn:
            sent = [row.id for chain in done for row in chain.sent]
            await mark_sent(conn, sent, now)
            self.sent += len(sent)
            for chain in done:
                if chain.failed is None:
                    continue
                row, outcome = chain.failed
                chat = chat_hash(self.channel, row.chat_id)
                error = type(outcome).__name__
                if isinstance(outcome, Unreachable):
                    await mark_held(conn, row.id, f"{error}: {outcome}")
                    log.info("event=chat_unreachable channel=%s chat=%s", self.channel, chat)
                elif isinstance(outcome, ChatBlocked):
                    await stop_contact(conn, self.channel, row.chat_id)
                    log.info("event=chat_blocked channel=%s chat=%s", self.channel, chat)
                elif isinstance(outcome, RateLimited):
                    self._paused_until = time.monotonic() + outcome.retry_after
                    not_before = now + timedelta(seconds=outcome.retry_after)
                    await mark_retry(conn, row.id, not_before, error)
                    log.warning(
                        "event=rate_limited channel=%s retry_after=%s",
                        self.channel,
                        outcome.retry_after,
                    )
                elif isinstance(outcome, TransientSendError) and row.attempts + 1 < MAX_ATTEMPTS:
                    backoff = min(MAX_BACKOFF_S, 0.5 * 2**row.attempts)
                    await mark_retry(conn, row.id, now + timedelta(seconds=backoff), error)
                    log.warning(
                        "event=send_retry channel=%s chat=%s attempt=%d error=%s",
                        self.channel,
                        chat,
                        row.attempts + 1,
                        error,
                    )
                else:
                    await mark_dead(conn, row.id, f"{error}: {outcome}")
                    log.error(
                        "event=send_dead channel=%s chat=%s error=%s", self.channel, chat, error
                    )
