"""The fast path: an event's replies go from its transaction straight to this process's sender.

Inside the event's transaction, for each channel whose sender takes hand-offs, the chats that
got replies are leased to that sender (one statement), so no other process sends to them
meanwhile, and the replies' rows are handed over once the transaction commits: they leave at
once, without the sender reading back what was just written. A chat is handed over only when
every older pending message of it is already in the sender's hands (sent and not yet
recorded, or waiting in its queue); otherwise, and for a chat another process holds, the rows
wait in the table for the sender's ordinary pass, so per-chat order holds either way. Bulk
messages (notices to other chats) always take the ordinary pass: they give way to answers.
From the lease until the hand-over the chats are reserved with the sender: its own pass, which
may run between the commit and the hand-over, leaves them alone, so no row is both read by
the pass and handed over (which sent it twice).

The same transaction records what the senders sent since the last one ("sent", leases
released), so a steady stream of events costs one transaction each, not two; a sender records
by itself only what no event came to record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.queries.leases import Budget, lease_chats
from storage.queries.outbox import OutboxRow, pending_ids


class Taker(Protocol):
    """What a sender offers the dispatcher (``bot.runtime.sender.OutboxSender``)."""

    @property
    def channel(self) -> str: ...

    @property
    def holder(self) -> str: ...

    @property
    def lease_s(self) -> float: ...

    @property
    def chat_burst(self) -> float: ...

    def known(self, chat_id: str) -> set[int]:
        """Ids of the chat's messages the sender holds (queued, or sent and not recorded)."""
        ...

    def reserve(self, chats: Sequence[str]) -> None:
        """These chats were leased to the sender; their rows are to be handed over."""
        ...

    def unreserve(self, chats: Sequence[str]) -> None:
        """The transaction that leased these chats failed: nothing will be handed over."""
        ...

    def take(self, rows: Sequence[OutboxRow], budgets: Mapping[str, Budget]) -> None:
        """Committed rows of leased chats, in send order, and the chats' budgets; ends
        their ``reserve``."""
        ...

    async def record_sent(self, conn: AsyncConnection) -> Callable[[bool], None]:
        """Records what was sent since the last record in this transaction; returns what to
        call once it committed (True) or failed (False)."""
        ...


@dataclass(frozen=True, slots=True)
class Leased:
    """The chats of one channel leased inside an event's transaction, with their budgets."""

    taker: Taker
    budgets: dict[str, Budget]


async def lease_replies(
    conn: AsyncConnection,
    takers: Mapping[str, Taker],
    outbox: Sequence[Mapping[str, Any]],
    now: datetime,
    found: list[Leased],
) -> None:
    """Leases the chats whose queued replies may go straight to this process's sender; run
    in the event's transaction, before the rows are inserted. ``outbox``: the queued rows
    (``WriteSet.outbox``). Two statements per channel with replies: the chats' pending ids and
    the leases. Each lease is added to ``found`` at once, its chats reserved with the sender
    (``Taker.reserve``), so that the caller can end the reservations if the transaction fails
    (``unreserve_all``): until the hand-over, the sender's own pass leaves those chats alone."""
    for channel, taker in takers.items():
        rows = [row for row in outbox if row["channel"] == channel]
        if not rows:
            continue
        bulk = {row["chat_id"] for row in rows if row["priority"]}
        chats = sorted({row["chat_id"] for row in rows} - bulk)
        if not chats:
            continue
        older = await pending_ids(conn, channel, chats)
        # Read after the pending ids: the sender only forgets ids that left the table.
        ready = [chat for chat in chats if older.get(chat, set()) <= taker.known(chat)]
        budgets = await lease_chats(
            conn,
            channel,
            taker.holder,
            ready,
            now,
            now + timedelta(seconds=taker.lease_s),
            burst=taker.chat_burst,
            at=time.time(),
        )
        if budgets:
            taker.reserve(list(budgets))
            found.append(Leased(taker, budgets))


def unreserve_all(leased: Sequence[Leased]) -> None:
    """The transaction that leased these chats failed: their senders' passes take them."""
    for lease in leased:
        lease.taker.unreserve(list(lease.budgets))


def hand_over(leased: Sequence[Leased], outbox: Sequence[Mapping[str, Any]]) -> set[str]:
    """After the commit: gives each sender its leased chats' rows. Returns the channels that
    still have rows waiting in the table (their senders are to be woken)."""
    taken: dict[str, Leased] = {lease.taker.channel: lease for lease in leased}
    waiting: set[str] = set()
    handed: dict[str, list[OutboxRow]] = {}
    for row in outbox:
        lease = taken.get(row["channel"])
        if lease is None or row["chat_id"] not in lease.budgets:
            waiting.add(row["channel"])
            continue
        handed.setdefault(row["channel"], []).append(
            OutboxRow(int(row["id"]), row["channel"], row["chat_id"], row["message"], 0, 0)
        )
    for lease in leased:
        lease.taker.take(handed.get(lease.taker.channel, []), lease.budgets)
    return waiting
