"""What one outbox sender holds in its hands: chats being served, rows queued behind them or
sent and not yet recorded, chats reserved for a hand-over, and the budgets of chats it serves.

Split from ``bot.runtime.sender`` (which sends and records): this is only the bookkeeping,
without I/O, so that the rules "no row is sent twice by one process" and "a row in our hands
is never claimed again by our own pass" live in one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from storage.queries.leases import Budget
from storage.queries.outbox import OutboxRow

from .send_record import Chain


class Hands:
    """One sender's chats and rows in hand (see the module's docstring)."""

    def __init__(self) -> None:
        #: Each chat's running chain.
        self.active: dict[str, asyncio.Task[Chain]] = {}
        #: Rows handed over behind a chat's running chain.
        self.queued: dict[str, list[OutboxRow]] = {}
        #: Ids of each chat's messages in our hands: queued, or sent and not yet recorded.
        self.known: dict[str, set[int]] = {}
        #: Budgets of the chats we serve.
        self.budgets: dict[str, Budget] = {}
        #: Chats whose chain left rows behind: they go back to the table's pass.
        self.stalled: set[str] = set()
        #: Chats an event's transaction leased to us whose rows are not handed over yet: a
        #: pass must not read and send those rows meanwhile, or the hand-over would queue them
        #: behind the pass's own chain and they would leave twice.
        self.reserved: dict[str, int] = {}
        #: Chains that ended, and rows sent, since the last record.
        self.finished: list[Chain] = []
        self.unrecorded: list[OutboxRow] = []

    def ids(self, chat_id: str) -> set[int]:
        """The chat's message ids in our hands (a copy)."""
        return set(self.known.get(chat_id, ()))

    def reserve(self, chats: Sequence[str]) -> None:
        for chat in chats:
            self.reserved[chat] = self.reserved.get(chat, 0) + 1

    def end_reserve(self, chats: Sequence[str]) -> None:
        """Ends one ``reserve`` of each of these chats."""
        for chat in chats:
            left = self.reserved.get(chat, 0) - 1
            if left > 0:
                self.reserved[chat] = left
            else:
                self.reserved.pop(chat, None)

    def accept(self, chat_id: str, handed: Sequence[OutboxRow]) -> list[OutboxRow] | None:
        """Of rows handed over to this chat, those not in our hands yet, now in them; None
        when the chat's chain left rows behind (these wait in the table behind those)."""
        held = self.known.get(chat_id, set())
        mine = [row for row in handed if row.id not in held]
        if not mine:
            return []
        if chat_id in self.stalled:
            return None
        self.known.setdefault(chat_id, set()).update(row.id for row in mine)
        return mine

    def running(self, chat_id: str) -> bool:
        task = self.active.get(chat_id)
        return task is not None and not task.done()

    def ours(self) -> set[str]:
        """Chats a pass must leave alone: served, in hand, or about to be handed over."""
        return {*self.active, *self.known, *self.reserved}

    def taken_meanwhile(self, chain: Chain) -> bool:
        """Whether the chat became ours by another way while a pass read its rows: reserved
        by an event, served by a running chain, or one of the rows already in our hands."""
        held = self.known.get(chain.chat_id, set())
        return (
            chain.chat_id in self.reserved
            or self.running(chain.chat_id)
            or any(row.id in held for row in chain.rows)
        )

    def hold(self, chain: Chain, task: asyncio.Task[Chain]) -> None:
        """``chain`` now runs as ``task``."""
        self.budgets[chain.chat_id] = chain.budget
        if chain.rows:
            # Only ids: a chat claimed with nothing due left by the time its rows were read
            # (a retry recorded meanwhile) must not stay "ours" with none, or no pass of ours
            # would claim it again while our claims kept renewing its lease for good.
            self.known.setdefault(chain.chat_id, set()).update(r.id for r in chain.rows)
        self.active[chain.chat_id] = task

    def take_finished(self) -> tuple[list[Chain], list[OutboxRow]]:
        """What ended and was sent since the last record, out of our hands' lists (the ids
        stay known until ``forget``)."""
        done, self.finished = self.finished, []
        sent, self.unrecorded = self.unrecorded, []
        for chain in done:
            if self.active.get(chain.chat_id) is chain.task:
                del self.active[chain.chat_id]
        return done, sent

    def keep(self, done: list[Chain], sent: list[OutboxRow]) -> None:
        """A record that failed: what it held goes back, ahead of what finished since, and
        stays in our hands (its ids known, so no pass of ours claims and sends them again)."""
        self.finished[:0] = done
        self.unrecorded[:0] = sent

    def forget(self, done: list[Chain], sent: list[OutboxRow]) -> None:
        """After a record: the sent ids leave our hands, and the budgets of chats we no
        longer serve."""
        for row in sent:
            known = self.known.get(row.chat_id)
            if known is not None:
                known.discard(row.id)
                if not known:
                    del self.known[row.chat_id]
        for chain in done:
            self.stalled.discard(chain.chat_id)
            if chain.chat_id not in self.active:
                self.budgets.pop(chain.chat_id, None)
