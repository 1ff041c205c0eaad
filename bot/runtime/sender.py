"""Drains a channel's outbox: per-chat order, shared rate limits, retries, blocked chats, stop.

A row leaves the outbox as "sent" only after the channel accepted it, so every reply is sent
at least once; a crash between the send and the bookkeeping sends that one message again,
which the citizen sees as a repeated message, never as a lost one.

Several processes may drain one outbox. A process sends to a chat only while it holds the
chat's lease (``storage/queries/leases.py``), so per-chat order holds across processes and
no message is sent by two of them; the overall and per-chat rate budgets live in the
database, so the limits hold for the bot as a whole.

Per-chat order is a guarantee: a chat's messages go one after the other, each only once the
one before was accepted, and none while an earlier one waits for a retry. Each chat is served
by its own task, so a slow or hanging chat never holds up the others; a small, fixed number of
sends are in flight at once, each with its own timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import (
    ChatBlocked,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unreachable,
    Unsupported,
)
from bot.logs import chat_hash
from storage import read_transaction, write_transaction
from storage.outbound import EditMessage, Outbound
from storage.queries.leases import (
    Budget,
    claim_chats,
    end_leases_of,
    give_back,
    holders,
    release_chats,
    take_tokens,
)
from storage.queries.outbox import (
    OutboxRow,
    mark_dead,
    mark_held,
    mark_retry,
    mark_sent,
    next_due,
    pending_for_chats,
    stop_contact,
)

from ..channels.base import Channel
from .holders import is_gone, new_holder
from .replies import adapt, in_words

log = logging.getLogger("bot.sender")

Clock = Callable[[], datetime]

MAX_ATTEMPTS = 12
MAX_BACKOFF_S = 300.0
#: Without a wake, how often an idle sender looks (one cheap read): rows a process that
#: died left behind, or a retry that came due.
IDLE_WAKE_S = 2.0
#: How soon to look again when something is due but a budget says wait.
COOLDOWN_S = 0.2
#: A chat is leased for this long; a chain stops well before, so a live holder never
#: overruns its lease (a killed one loses it after this long).
LEASE_S = 20.0
CHAIN_BUDGET_S = 5.0
#: Sends in flight at once, over all chats, and the longest one send may take.
MAX_IN_FLIGHT = 8
SEND_TIMEOUT_S = 10.0


@dataclass(slots=True)
class Limits:
    per_second: float = 30
    per_chat_per_second: float = 1
    chat_burst: float = 3


@dataclass(slots=True)
class _Chain:
    """One chat's turn: its messages in order, what was sent, and where it stopped."""

    chat_id: str
    rows: list[OutboxRow]
    budget: Budget
    tokens: int  # overall tokens this chain may spend
    sent: list[OutboxRow] = field(default_factory=list)
    failed: tuple[OutboxRow, BaseException] | None = None
    wait: float = IDLE_WAKE_S
    used: int = 0


class OutboxSender:
    """Sends one channel's pending messages: each chat in order, chats side by side."""

    def __init__(
        self,
        engine: AsyncEngine,
        channel: Channel,
        clock: Clock,
        limits: Limits | None = None,
        chats: int = 100,
        per_chat: int = 20,
        in_flight: int = MAX_IN_FLIGHT,
        send_timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        self.engine = engine
        self.channel = channel.name
        self.target = channel
        self.clock = clock
        self.limits = limits or Limits()
        self.chats = chats
        self.per_chat = per_chat
        self.send_timeout_s = send_timeout_s
        self.holder = new_holder()
        self._gate = asyncio.Semaphore(in_flight)
        self._wake = asyncio.Event()
        self._active: dict[str, asyncio.Task[_Chain]] = {}
        self._finished: list[_Chain] = []
        self._paused_until = 0.0
        self._woken = True  # the first step looks without asking first
        self.sent = 0

    def wake(self) -> None:
        """Called after a commit that queued messages: no polling delay before they leave."""
        self._woken = True
        self._wake.set()

    async def start(self) -> int:
        """Frees the chats a process killed on this machine still held (a restart after
        kill -9 resends at once instead of waiting for the leases to run out)."""
        now = self.clock()
        async with write_transaction(self.engine) as conn:
            gone = [h for h in await holders(conn, self.channel, now) if is_gone(h)]
            return await end_leases_of(conn, self.channel, gone, now)

    async def run(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(Exception):
            freed = await self.start()
            if freed:
                log.info("event=leases_freed channel=%s count=%d", self.channel, freed)
        try:
            while not stop.is_set():
                # Cleared before reading the outbox: a commit landing while we read still
                # wakes the wait below instead of being lost until the idle timeout.
                self._wake.clear()
                try:
                    delay = await self.step()
                except Exception:
                    log.exception("job=outbox channel=%s error=drain_failed", self.channel)
                    delay = IDLE_WAKE_S
                if delay == 0:
                    continue
                await self._sleep(stop, delay)
        finally:
            await self._settle()

    async def _sleep(self, stop: asyncio.Event, delay: float) -> None:
        waits: list[asyncio.Task[object]] = [
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(stop.wait()),
            *self._active.values(),  # a chat finishing frees its slot and its lease
        ]
        _, rest = await asyncio.wait(
            waits, timeout=min(delay, IDLE_WAKE_S), return_when=asyncio.FIRST_COMPLETED
        )
        for task in waits[:2]:
            if task in rest:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def drain(self, deadline_s: float) -> None:
        """Sends what can leave before the deadline (at shutdown, in tests); the rest stays."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            delay = await self.step()
            if self._active:
                remaining = max(0.0, end - time.monotonic())
                await asyncio.wait(list(self._active.values()), timeout=remaining)
                continue
            if delay > 0:
                if delay >= IDLE_WAKE_S or time.monotonic() + delay > end:
                    break
                await asyncio.sleep(delay)
        await self._settle(wait=False)

    async def drain_once(self) -> float:
        """One pass that waits for the chats it started (tests)."""
        delay = await self.step()
        if self._active:
            await asyncio.wait(list(self._active.values()))
            await self._record_finished()
            return 0.0
        return delay

    async def step(self) -> float:
        """Records chats that finished, starts chats that may send now; returns 0 to go on
        at once, else seconds until something may become due."""
        await self._record_finished()
        now = time.monotonic()
        if now < self._paused_until:
            return self._paused_until - now
        if not self._woken:  # an idle look: a read, and a claim only if something is due
            async with read_transaction(self.engine) as conn:
                due = await next_due(conn, self.channel, self.clock())
            if due is None or due > 0:
                return IDLE_WAKE_S if due is None else min(due, IDLE_WAKE_S)
        self._woken = False
        started = await self._start_chains()
        if started:
            self._woken = True  # more may be waiting behind what was started
            return 0.0 if len(started) + len(self._active) < self.chats else IDLE_WAKE_S
        # Nothing could start: nothing due, or the budgets (a chat's or the bot's) say wait.
        return COOLDOWN_S

    async def _start_chains(self) -> list[_Chain]:
        now = self.clock()
        at = time.time()
        limits = self.limits
        async with write_transaction(self.engine) as conn:
            budgets = await claim_chats(
                conn,
                self.channel,
                self.holder,
                now,
                now + timedelta(seconds=LEASE_S),
                chats=self.chats,
                burst=limits.chat_burst,
                at=at,
                chat_rate=limits.per_chat_per_second,
            )
            for chat in self._active:  # ours already, being served
                budgets.pop(chat, None)
            if not budgets:
                return []
            rows = await pending_for_chats(
                conn, self.channel, list(budgets), now, per_chat=self.per_chat
            )
            # Answers to people waiting take the budget first; bulk (digests, reminders,
            # notices) only what leaves half of it.
            urgent = [c for c in budgets if any(r.priority == 0 for r in rows.get(c, []))]
            bulk = [c for c in budgets if c not in urgent]
            grants: dict[str, int] = {}
            for group, keep in ((urgent, 0.0), (bulk, limits.per_second / 2)):
                wanted = sum(len(rows.get(c, [])) for c in group)
                granted = (
                    await take_tokens(
                        conn,
                        self.channel,
                        wanted,
                        rate=limits.per_second,
                        burst=limits.per_second,
                        at=at,
                        keep=keep,
                    )
                    if wanted
                    else 0
                )
                for chat in group:
                    share = min(granted, len(rows.get(chat, [])))
                    granted -= share
                    grants[chat] = share
        chains = [
            _Chain(chat, rows.get(chat, []), budget, grants.get(chat, 0))
            for chat, budget in budgets.items()
        ]
        for chain in chains:
            self._active[chain.chat_id] = asyncio.create_task(
                self._serve(chain), name=f"outbox-{self.channel}-chat"
            )
        return chains

    async def _serve(self, chain: _Chain) -> _Chain:
        """One chat's messages in order, until one fails, a limit says wait, or its time is up."""
        deadline = time.monotonic() + CHAIN_BUDGET_S
        limits = self.limits
        for row in chain.rows:
            now = time.monotonic()
            if now >= deadline:
                chain.wait = 0.0
                break
            if now < self._paused_until:
                chain.wait = self._paused_until - now
                break
            if chain.used >= chain.tokens:  # the bot's overall budget for this pass is spent
                chain.wait = 1 / limits.per_second
                break
            # Edits change a message already there (an answered question); only new
            # messages count against the chat's own limit. Both count overall.
            if not isinstance(row.message, EditMessage):
                chain.budget.refill(time.time(), limits.per_chat_per_second, limits.chat_burst)
                if chain.budget.tokens < 1:
                    chain.wait = (1 - chain.budget.tokens) / limits.per_chat_per_second
                    break
                chain.budget.tokens -= 1
            chain.used += 1
            error = await self._attempt(row)
            if error is not None:
                if isinstance(error, RateLimited):  # the whole bot waits, not only this chat
                    self._paused_until = time.monotonic() + error.retry_after
                chain.failed = (row, error)
                break
            chain.sent.append(row)
        self._finished.append(chain)
        if chain.sent or chain.failed:
            self._woken = True  # its chat may have more, and its slot is free
        self._wake.set()
        return chain

    async def _attempt(self, row: OutboxRow) -> BaseException | None:
        try:
            async with self._gate:
                try:
                    await self._send_adapted(row.chat_id, row.message)
                except Unsupported:
                    # The channel refused the content itself (a chart over Zalo's limit, a
                    # file type it does not take): say it in words rather than lose it.
                    await self._send_adapted(row.chat_id, in_words(row.message))
        except (ChatBlocked, RateLimited, TransientSendError, PermanentSendError) as exc:
            return exc
        except TimeoutError:
            return TransientSendError("send timed out")
        except Exception as exc:
            log.exception("event=send_crashed channel=%s", self.channel)
            return TransientSendError(type(exc).__name__)
        return None

    async def _send_adapted(self, chat_id: str, message: Outbound) -> None:
        for part in adapt(message, self.target.capabilities):
            await asyncio.wait_for(self.target.send(chat_id, part), timeout=self.send_timeout_s)

    async def _settle(self, wait: bool = True) -> None:
        """Records what finished; at shutdown, chats still sending are left to their lease."""
        if wait and self._active:
            await asyncio.wait(list(self._active.values()), timeout=SEND_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await self._record_finished()

    async def _record_finished(self) -> None:
        if not self._finished:
            return
        done, self._finished = self._finished, []
        for chain in done:
            self._active.pop(chain.chat_id, None)
        try:
            await self._record(done)
        except Exception:
            # Not recorded (the database is away): kept and recorded first on the next pass,
            # before anything is claimed; forgotten, its rows would be sent a second time.
            self._finished[:0] = done
            log.exception("job=outbox channel=%s error=record_failed", self.channel)
            raise

    async def _record(self, done: list[_Chain]) -> None:
        now = self.clock()
        pause = 0.0
        async with write_transaction(self.engine) as conn:
            sent = [row.id for chain in done for row in chain.sent]
            await mark_sent(conn, sent, now)
            self.sent += len(sent)
            for chain in done:
                if chain.failed is None:
                    continue
                row, outcome = chain.failed
                if isinstance(outcome, RateLimited):
                    pause = max(pause, outcome.retry_after)
                await self._failed(conn, row, outcome, now)
            await release_chats(
                conn, self.channel, self.holder, {c.chat_id: c.budget for c in done}, now
            )
            unused = sum(c.tokens - c.used for c in done)
            await give_back(
                conn,
                self.channel,
                unused,
                burst=self.limits.per_second,
                pause_s=pause,
                rate=self.limits.per_second,
            )

    async def _failed(
        self, conn: AsyncConnection, row: OutboxRow, outcome: BaseException, now: datetime
    ) -> None:
        chat = chat_hash(self.channel, row.chat_id)
        error = type(outcome).__name__
        if isinstance(outcome, Unreachable):
            await mark_held(conn, row.id, f"{error}: {outcome}")
            log.info("event=chat_unreachable channel=%s chat=%s", self.channel, chat)
        elif isinstance(outcome, ChatBlocked):
            await stop_contact(conn, self.channel, row.chat_id)
            log.info("event=chat_blocked channel=%s chat=%s", self.channel, chat)
        elif isinstance(outcome, RateLimited):
            not_before = now + timedelta(seconds=outcome.retry_after)
            await mark_retry(conn, row.id, not_before, error)
            log.warning(
                "event=rate_limited channel=%s retry_after=%s", self.channel, outcome.retry_after
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
            log.error("event=send_dead channel=%s chat=%s error=%s", self.channel, chat, error)
