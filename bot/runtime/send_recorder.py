"""Records what one outbox sender sent: in its own transaction, or in an event's, which is
written anyway; and deletes the leases of chats it served once they have rested.

Split from ``bot.runtime.sender`` (which claims and sends): this is the bookkeeping half.
A row is recorded "sent" only after the channel accepted it, and stays in the sender's hands
(``Hands``) until a record of it committed: forgotten sooner, it would be pending again and
sent a second time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import write_transaction
from storage.queries.leases import forget_leases, idle_before, idle_rest
from storage.queries.outbox import OutboxRow, scrub_sent

from .send_budget import Limits
from .send_hands import Hands
from .send_record import Chain, record_pass

log = logging.getLogger("bot.sender")


class SendRecorder:
    """One sender's record of what it sent and what finished (see the module's docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        channel: str,
        holder: str,
        limits: Limits,
        clock: Callable[[], datetime],
        hands: Hands,
        idle_wake_s: float,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.holder = holder
        self.limits = limits
        self.clock = clock
        self.hands = hands
        #: How soon an idle sender looks again: the margin after which the leases it ended
        #: are surely idle when it looks.
        self.idle_wake_s = idle_wake_s
        #: Messages recorded "sent" by transactions that committed.
        self.sent = 0
        #: When (``time.monotonic``) the leases this sender ended become idle: an idle look
        #: then deletes them (they keep a chat's last reply time), as a claim would.
        self._forget_leases_at: float | None = None

    async def record_finished(self) -> None:
        """Records, in a transaction of its own, what was sent and what finished since the
        last record. Raises what the database raised; the rows then stay in our hands."""
        if not self.hands.finished and not self.hands.unrecorded:
            return
        done: list[Chain] = []
        sent: list[OutboxRow] = []
        try:
            async with write_transaction(self.engine) as conn:
                # Taken once the transaction is ours: an event's transaction that held it
                # meanwhile recorded them with its own (and its replies left only after).
                done, sent = self._take_finished()
                recorded = await self._record(conn, done, sent)
        except BaseException:
            # Not recorded (the database is away or locked): the chains and the sent rows are
            # kept, still ours, and recorded first on the next pass, before anything is
            # claimed; forgotten, their rows would be pending again and sent a second time.
            self.hands.keep(done, sent)
            log.exception("job=outbox channel=%s error=record_failed", self.channel)
            raise
        self.hands.forget(done, sent)
        self.sent += recorded
        await scrub_sent(self.engine)

    async def record_sent(self, conn: AsyncConnection) -> Callable[[bool], None]:
        """Records, in the caller's transaction (an event's, which is written anyway), what
        was sent and what finished since the last record; returns what to call once it
        committed (True) or failed (False: the sender records them itself later)."""
        done, sent = self._take_finished()
        if not done and not sent:
            return _nothing

        recorded = 0

        def settle(committed: bool) -> None:
            (self.hands.forget if committed else self.hands.keep)(done, sent)
            if committed:  # counted once it holds: a failed transaction recorded nothing
                self.sent += recorded

        try:
            recorded = await self._record(conn, done, sent)
        except BaseException:
            settle(False)
            raise
        return settle

    async def _record(self, conn: AsyncConnection, done: list[Chain], sent: list[OutboxRow]) -> int:
        return await record_pass(
            conn,
            self.channel,
            self.holder,
            self.limits,
            done,
            sent,
            self.hands.active,
            self.clock(),
        )

    async def forget_idle_leases(self, now: float) -> None:
        """Deletes the idle leases once those this sender ended are idle (``now``:
        ``time.monotonic``); a write only then, not on every idle look."""
        if self._forget_leases_at is None or now < self._forget_leases_at:
            return
        self._forget_leases_at = None
        limits = self.limits
        async with write_transaction(self.engine) as conn:
            before = idle_before(self.clock(), limits.chat_burst, limits.per_chat_per_second)
            await forget_leases(conn, before)

    def _take_finished(self) -> tuple[list[Chain], list[OutboxRow]]:
        if self.hands.finished:
            rest = idle_rest(self.limits.chat_burst, self.limits.per_chat_per_second)
            self._forget_leases_at = time.monotonic() + rest.total_seconds() + self.idle_wake_s
        return self.hands.take_finished()


def _nothing(_committed: bool) -> None:
    """Nothing was recorded: nothing to settle."""
