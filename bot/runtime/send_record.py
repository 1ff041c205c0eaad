"""The record of a send pass: one chat's turn (``Chain``) and what is written once chains
finish — rows sent, what a failed send means for its row (held, stopped, retried, dead),
leases released and unused tokens given back — in the caller's transaction.

Split from ``bot.runtime.sender``, which decides what to send and when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import (
    ChatBlocked,
    Deferred,
    Paused,
    RateLimited,
    TransientSendError,
    Unreachable,
)
from bot.logs import chat_hash
from storage.queries.leases import Budget, give_back, release_chats
from storage.queries.outbox import (
    OutboxRow,
    mark_dead,
    mark_held,
    mark_retry,
    mark_sent,
    stop_contact,
)

from .activity import ACTIVITY
from .send_budget import Limits

log = logging.getLogger("bot.sender")

#: Transient failures a message survives before it is marked dead (about 34 min of backoff).
MAX_ATTEMPTS = 12
MAX_BACKOFF_S = 300.0


@dataclass(slots=True)
class Chain:
    """One chat's turn: its messages in order, what was sent, and where it stopped."""

    chat_id: str
    rows: list[OutboxRow]
    budget: Budget
    tokens: int  # overall tokens this chain may spend
    sent: list[OutboxRow] = field(default_factory=list)
    failed: tuple[OutboxRow, BaseException] | None = None
    used: int = 0
    #: Rows it took but did not send (a failure, a budget, its time): back to the table.
    left: list[OutboxRow] = field(default_factory=list)
    task: asyncio.Task[Chain] | None = None


async def record_failure(
    conn: AsyncConnection, channel: str, row: OutboxRow, outcome: BaseException, now: datetime
) -> None:
    """Records ``outcome`` of sending ``row`` (UTC ``now``):

    - ``Unreachable`` (outside a channel's messaging window): held until the person writes;
    - ``ChatBlocked``: the contact is stopped, nothing more goes to it;
    - ``Deferred``: retried at its ``not_before``, spending no attempt (ZNS hours, quota);
    - ``RateLimited``: retried after its ``retry_after`` seconds; a ``Paused`` (our own pause,
      not the channel's refusal) spends no attempt;
    - ``TransientSendError``: retried with exponential backoff (0.5 s × 2^attempts, at most
      ``MAX_BACKOFF_S``) until ``MAX_ATTEMPTS``;
    - anything else, or too many attempts: dead, with the error's type and text.

    Only the once-per-chat fact (blocked) has a line of its own, with the chat's pseudonym;
    every other outcome is tallied by kind and class in the minute's aggregate line
    (``bot.runtime.activity``): a line per message, even with no chat, counts the messages of
    a lone citizen's survey, which tell its route (the outbox row, while it is kept, says
    which chat a held or dead message is for).
    """
    error = type(outcome).__name__
    if isinstance(outcome, Unreachable):
        await mark_held(
            conn, row.id, f"{error}: {outcome}", told=outcome.told, reason=outcome.reason
        )
        ACTIVITY.failed(f"{channel}_unreachable", error)
    elif isinstance(outcome, ChatBlocked):
        await stop_contact(conn, channel, row.chat_id)
        log.info("event=chat_blocked channel=%s chat=%s", channel, chat_hash(channel, row.chat_id))
    elif isinstance(outcome, Deferred):
        await mark_retry(conn, row.id, outcome.not_before, error, spend=False)
        ACTIVITY.failed(f"{channel}_deferred", error)
    elif isinstance(outcome, RateLimited):
        not_before = now + timedelta(seconds=outcome.retry_after)
        spend = not isinstance(outcome, Paused)
        await mark_retry(conn, row.id, not_before, error, spend=spend)
        ACTIVITY.failed(f"{channel}_rate_limited", error)
    elif isinstance(outcome, TransientSendError) and row.attempts + 1 < MAX_ATTEMPTS:
        backoff = min(MAX_BACKOFF_S, 0.5 * 2**row.attempts)
        await mark_retry(conn, row.id, now + timedelta(seconds=backoff), error)
        ACTIVITY.failed(f"{channel}_retry", error)
    else:
        await mark_dead(conn, row.id, f"{error}: {outcome}")
        ACTIVITY.failed(f"{channel}_dead", error)


async def record_pass(
    conn: AsyncConnection,
    channel: str,
    holder: str,
    limits: Limits,
    done: Sequence[Chain],
    sent: Sequence[OutboxRow],
    active: Collection[str],
    now: datetime,
) -> int:
    """Records ``sent`` rows as sent and each finished chain's failure; releases the leases of
    chats in ``done`` that have no chain in ``active`` (chat ids), gives back the overall tokens
    the chains did not use (with the longest ``retry_after`` as a pause). Returns how many rows
    were marked sent."""
    pause = 0.0
    await mark_sent(conn, [row.id for row in sent], now)
    for chain in done:
        if chain.failed is None:
            continue
        row, outcome = chain.failed
        if isinstance(outcome, RateLimited):
            pause = max(pause, outcome.retry_after)
        await record_failure(conn, channel, row, outcome, now)
    # A chat whose next chain already runs keeps its lease until that one is recorded.
    ended = {c.chat_id: c.budget for c in done if c.chat_id not in active}
    await release_chats(conn, channel, holder, ended, now)
    unused = sum(c.tokens - c.used for c in done)
    await give_back(
        conn, channel, unused, burst=limits.per_second, pause_s=pause, rate=limits.per_second
    )
    return len(sent)
