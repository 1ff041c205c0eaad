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

Replies usually do not come from the table: the dispatcher leases their chats in the event's
own transaction and hands the committed rows over (``take``, see ``bot.runtime.handoff``), so
they leave as soon as the event is stored. The table is read only for what was not handed over:
rows left by a restart or by another process, retries, bulk messages. What was sent is
recorded in batches, one transaction for all chats that finished meanwhile
(``bot.runtime.send_recorder``).

Limits: see ``bot.runtime.send_budget``; what is in the sender's hands (chains, rows sent and
not recorded, chats reserved for a hand-over): ``bot.runtime.send_hands``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import RateLimited
from storage import read_transaction, write_transaction
from storage.outbound import EditMessage
from storage.queries.leases import Budget, claim_chats, end_leases_of, holders
from storage.queries.outbox import OutboxRow, next_due, pending_for_chats

from ..channels.base import Channel
from .delivery import Delivery
from .holders import is_gone, new_holder
from .send_budget import Allowance, Limits, grant_tokens
from .send_hands import Hands
from .send_record import Chain
from .send_recorder import SendRecorder

log = logging.getLogger("bot.sender")

Clock = Callable[[], datetime]

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
        self.clock = clock
        self.limits = limits or Limits()
        self.chats = chats
        self.per_chat = per_chat
        self.holder = new_holder()
        self._delivery = Delivery(channel, in_flight, send_timeout_s)
        self._wake = asyncio.Event()
        self.hands = Hands()
        self._paused_until = 0.0
        self._woken = True  # the first step looks without asking first
        self._looked_at = 0.0
        self._allowance = Allowance(engine, self.channel, self.limits)
        self.recorder = SendRecorder(
            engine, self.channel, self.holder, self.limits, clock, self.hands, IDLE_WAKE_S
        )

    @property
    def lease_s(self) -> float:
        return LEASE_S

    @property
    def chat_burst(self) -> float:
        return self.limits.chat_burst

    def known(self, chat_id: str) -> set[int]:
        """Ids of the chat's messages in our hands: queued, or sent and not yet recorded."""
        return self.hands.ids(chat_id)

    def reserve(self, chats: Sequence[str]) -> None:
        """An event's transaction leased these chats to us: until their rows are handed over
        (``take``) or the transaction failed (``unreserve``), no pass of ours serves them."""
        self.hands.reserve(chats)

    def unreserve(self, chats: Sequence[str]) -> None:
        """Ends ``reserve`` for these chats (once each) when their event's transaction failed;
        rows of theirs already in the table are the table's pass's again."""
        self.hands.end_reserve(chats)
        if chats:
            self._woken = True
            self._wake.set()

    def take(self, rows: Sequence[OutboxRow], budgets: Mapping[str, Budget]) -> None:
        """Committed rows of chats leased to us in their event's transaction, in send order:
        they leave now, behind what the chat's chain is sending. A chat whose chain left rows
        behind is not served here: its rows wait in the table, behind those. Ends the
        chats' ``reserve``; a row already in our hands is not taken twice."""
        self.hands.end_reserve(list(budgets))
        by_chat: dict[str, list[OutboxRow]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        for chat, handed in by_chat.items():
            mine = self.hands.accept(chat, handed)
            if mine is None:  # stalled: the table's pass takes them, in order
                self._woken = True
                self._wake.set()
                continue
            if not mine:
                continue
            if self.hands.running(chat):
                self.hands.queued.setdefault(chat, []).extend(mine)
                continue
            budget = self.hands.budgets.get(chat) or budgets[chat]
            self._start(Chain(chat, mine, budget, 0))

    def _start(self, chain: Chain) -> None:
        chain.task = asyncio.create_task(self._serve(chain), name=f"outbox-{self.channel}-chat")
        self.hands.hold(chain, chain.task)

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
            await self._allowance.take()  # the first reply does not wait for it
        try:
            while not stop.is_set():
                # Cleared before reading the outbox: a commit landing while we read still
                # wakes the wait below instead of being lost until the idle timeout.
                self._wake.clear()
                idle = time.monotonic() - self._looked_at
                if not self._woken and idle < IDLE_WAKE_S:
                    # Woken only to record what was handed over and sent: no look at the
                    # table. What finished while the last record was written goes in one
                    # transaction; none waits on purpose (a crash before the record sends
                    # those messages again, so the window stays as short as it can be).
                    with contextlib.suppress(Exception):  # logged; the leases run out
                        await self._record_finished()
                    await self._sleep(stop, IDLE_WAKE_S - idle)
                    continue
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
            *self.hands.active.values(),  # a chat finishing frees its slot and its lease
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
            if self.hands.active:
                remaining = max(0.0, end - time.monotonic())
                await asyncio.wait(list(self.hands.active.values()), timeout=remaining)
                continue
            if delay > 0:
                if delay >= IDLE_WAKE_S or time.monotonic() + delay > end:
                    break
                await asyncio.sleep(delay)
        await self._settle(wait=False)

    async def drain_once(self) -> float:
        """One pass that waits for the chats it started (tests)."""
        delay = await self.step()
        if self.hands.active:
            await asyncio.wait(list(self.hands.active.values()))
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
            self._looked_at = now
            async with read_transaction(self.engine) as conn:
                due = await next_due(conn, self.channel, self.clock())
            if due is None or due > 0:
                await self.recorder.forget_idle_leases(now)
                return IDLE_WAKE_S if due is None else min(due, IDLE_WAKE_S)
        self._woken = False
        self._looked_at = now
        started = await self._start_chains()
        if started:
            self._woken = True  # more may be waiting behind what was started
            return 0.0 if len(started) + len(self.hands.active) < self.chats else IDLE_WAKE_S
        # Nothing could start: nothing due, or the budgets (a chat's or the bot's) say wait.
        return COOLDOWN_S

    async def _start_chains(self) -> list[Chain]:
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
            # Ours already: being served, or about to be handed over by an event.
            for chat in self.hands.ours():
                budgets.pop(chat, None)
            if not budgets:
                return []
            rows = await pending_for_chats(
                conn, self.channel, list(budgets), now, per_chat=self.per_chat
            )
            grants = await grant_tokens(conn, self.channel, limits, budgets, rows, at)
        chains = [
            Chain(chat, rows.get(chat, []), budget, grants.get(chat, 0))
            for chat, budget in budgets.items()
        ]
        started: list[Chain] = []
        for chain in chains:
            if self.hands.taken_meanwhile(chain):
                # An event handed this chat over while we read it: its chain sends them.
                self._allowance.tokens += chain.tokens
                continue
            self._start(chain)
            started.append(chain)
        return started

    async def _serve(self, chain: Chain) -> Chain:
        """One chat's messages in order (and those handed over meanwhile), until one fails, a
        limit says wait, or its time is up."""
        deadline = time.monotonic() + CHAIN_BUDGET_S
        limits = self.limits
        rows = chain.rows
        index = 0
        while True:
            if index == len(rows):
                more = self.hands.queued.pop(chain.chat_id, None)
                if not more:
                    break
                rows.extend(more)
            row = rows[index]
            now = time.monotonic()
            if now >= deadline:
                break
            if now < self._paused_until:
                break
            # Edits change a message already there (an answered question): they spend no
            # budget (see the module's docstring); a new message spends the chat's and one
            # of the bot's overall.
            if not isinstance(row.message, EditMessage):
                if chain.used >= chain.tokens:
                    if not await self._allowance.allow(row):
                        break  # the bot's overall budget is spent
                    chain.tokens += 1  # given back with the others if it is not used
                chain.budget.refill(time.time(), limits.per_chat_per_second, limits.chat_burst)
                if chain.budget.tokens < 1:
                    break  # the chat's budget is spent
                chain.budget.tokens -= 1
                chain.used += 1
            index += 1
            error = await self._delivery.attempt(row)
            if error is not None:
                if isinstance(error, RateLimited):  # the whole bot waits, not only this chat
                    self._paused_until = time.monotonic() + error.retry_after
                chain.failed = (row, error)
                index -= 1
                break
            chain.sent.append(row)
            # Recorded when the chain ends, or sooner by an event's transaction (the next
            # event's replies may go on in this chain): the window in which a crash would
            # send it again stays short, and a chain's messages cost one record.
            self.hands.unrecorded.append(row)
        chain.left = [*rows[index:], *self.hands.queued.pop(chain.chat_id, [])]
        if chain.left:
            # Back to the table: our pass takes them (and what came behind) in order.
            known = self.hands.known.get(chain.chat_id, set())
            known.difference_update(r.id for r in chain.left)
            if not known:
                self.hands.known.pop(chain.chat_id, None)
            self.hands.stalled.add(chain.chat_id)
            self._woken = True
        self.hands.finished.append(chain)
        self._wake.set()
        return chain

    async def _settle(self, wait: bool = True) -> None:
        """Records what finished; at shutdown, chats still sending are left to their lease."""
        if wait and self.hands.active:
            await asyncio.wait(list(self.hands.active.values()), timeout=SEND_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await self._record_finished()

    @property
    def sent(self) -> int:
        """Messages recorded "sent" by transactions that committed."""
        return self.recorder.sent

    async def record_sent(self, conn: AsyncConnection) -> Callable[[bool], None]:
        """Records what was sent in the caller's (an event's) transaction: see
        ``SendRecorder.record_sent``."""
        return await self.recorder.record_sent(conn)

    async def _record_finished(self) -> None:
        await self.recorder.record_finished()
