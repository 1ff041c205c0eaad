"""The bot's overall send budget: how many messages a pass may send, and tokens ahead of need.

Split from ``bot.runtime.sender`` (which sends each chat's messages in order). The budgets
themselves live in the database (``storage/queries/leases.py``) so that the limits hold for
the bot as a whole, across processes.

Limits, as Telegram states them (Bot FAQ, "My bot is hitting limits, how do I avoid this?",
https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about one
message a second in a chat, with short bursts allowed, and about 30 messages a second overall
for bulk notifications. They are about messages sent: an edit changes a message already
there (an answered question) and a button acknowledgement (answerCallbackQuery, sent at once
by the channel, outside the outbox) sends none, so neither spends a budget here; a 429 on
either still pauses the whole bot for its retry_after. PTB's own AIORateLimiter counts every
request that names a chat against the overall limit, acknowledgements not at all; counting
edits too would halve what a survey may do a second (an edit and a question per press) for
a limit Telegram does not state.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import write_transaction
from storage.outbound import EditMessage
from storage.queries.leases import Budget, take_tokens
from storage.queries.outbox import OutboxRow


@dataclass(slots=True)
class Limits:
    """Messages a second: overall, per chat, and the burst a chat may send at once."""

    per_second: float = 30
    per_chat_per_second: float = 1
    chat_burst: float = 3


def counted(rows: Sequence[OutboxRow]) -> int:
    """How many of these rows spend a budget: all but edits (an edit sends no new message)."""
    return sum(1 for row in rows if not isinstance(row.message, EditMessage))


async def grant_tokens(
    conn: AsyncConnection,
    channel: str,
    limits: Limits,
    budgets: Mapping[str, Budget],
    rows: Mapping[str, Sequence[OutboxRow]],
    at: float,
) -> dict[str, int]:
    """Overall tokens for each claimed chat's pending ``rows`` (chat id → count), taken from
    the shared budget in the caller's transaction; ``at`` is ``time.time()``.

    Answers to people waiting (priority 0) take the budget first; bulk (digests, reminders,
    notices) only what leaves half of it, so answers are never starved by a broadcast.
    """
    urgent = [c for c in budgets if any(r.priority == 0 for r in rows.get(c, []))]
    bulk = [c for c in budgets if c not in urgent]
    grants: dict[str, int] = {}
    for group, keep in ((urgent, 0.0), (bulk, limits.per_second / 2)):
        wanted = sum(counted(rows.get(c, [])) for c in group)
        granted = (
            await take_tokens(
                conn,
                channel,
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
            share = min(granted, counted(rows.get(chat, [])))
            granted -= share
            grants[chat] = share
    return grants


class Allowance:
    """Overall tokens taken from the shared budget ahead of need, for answers someone waits
    for: a quarter second's worth at a time, taken again in the background when half is
    spent, so a reply seldom waits for the database."""

    def __init__(self, engine: AsyncEngine, channel: str, limits: Limits) -> None:
        self.engine = engine
        self.channel = channel
        self.limits = limits
        self.tokens = 0
        self._refill = asyncio.Lock()
        self._prefetch: asyncio.Task[None] | None = None

    @property
    def chunk(self) -> int:
        return max(1, math.ceil(self.limits.per_second / 4))

    async def allow(self, row: OutboxRow) -> bool:
        """One overall token for ``row`` if it is an answer (priority 0) and one is left.
        Bulk gets none here: it spends what its pass was granted (``grant_tokens``)."""
        if row.priority != 0:
            return False
        if self.tokens < 1:
            await self.take()
            if self.tokens < 1:
                return False
        self.tokens -= 1
        if self.tokens < self.chunk / 2 and (self._prefetch is None or self._prefetch.done()):
            self._prefetch = asyncio.create_task(self.take())
        return True

    async def take(self) -> None:
        """Tops the allowance up to a chunk; none taken (database away) leaves it as is:
        the table's pass then sends those messages."""
        async with self._refill:
            wanted = self.chunk - self.tokens
            if wanted < self.chunk / 2:
                return
            rate = self.limits.per_second
            with contextlib.suppress(Exception):
                async with write_transaction(self.engine) as conn:
                    self.tokens += await take_tokens(
                        conn, self.channel, wanted, rate=rate, burst=rate, at=time.time()
                    )
