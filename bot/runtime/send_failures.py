"""What a failed send means for its outbox row: held, stopped, retried later, or dead.

Split from ``bot.runtime.sender``, which decides when to send; this module only records the
outcome of one failed attempt, in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import ChatBlocked, Paused, RateLimited, TransientSendError, Unreachable
from bot.logs import chat_hash
from storage.queries.outbox import OutboxRow, mark_dead, mark_held, mark_retry, stop_contact

log = logging.getLogger("bot.sender")

#: Transient failures a message survives before it is marked dead (about 34 min of backoff).
MAX_ATTEMPTS = 12
MAX_BACKOFF_S = 300.0


async def record_failure(
    conn: AsyncConnection, channel: str, row: OutboxRow, outcome: BaseException, now: datetime
) -> None:
    """Records ``outcome`` of sending ``row`` (UTC ``now``):

    - ``Unreachable`` (outside a channel's messaging window): held until the person writes;
    - ``ChatBlocked``: the contact is stopped, nothing more goes to it;
    - ``RateLimited``: retried after its ``retry_after`` seconds; a ``Paused`` (our own pause,
      not the channel's refusal) spends no attempt;
    - ``TransientSendError``: retried with exponential backoff (0.5 s × 2^attempts, at most
      ``MAX_BACKOFF_S``) until ``MAX_ATTEMPTS``;
    - anything else, or too many attempts: dead, with the error's type and text.
    """
    chat = chat_hash(channel, row.chat_id)
    error = type(outcome).__name__
    if isinstance(outcome, Unreachable):
        await mark_held(conn, row.id, f"{error}: {outcome}", told=outcome.told)
        log.info("event=chat_unreachable channel=%s chat=%s", channel, chat)
    elif isinstance(outcome, ChatBlocked):
        await stop_contact(conn, channel, row.chat_id)
        log.info("event=chat_blocked channel=%s chat=%s", channel, chat)
    elif isinstance(outcome, RateLimited):
        not_before = now + timedelta(seconds=outcome.retry_after)
        spend = not isinstance(outcome, Paused)
        await mark_retry(conn, row.id, not_before, error, spend=spend)
        log.warning("event=rate_limited channel=%s retry_after=%s", channel, outcome.retry_after)
    elif isinstance(outcome, TransientSendError) and row.attempts + 1 < MAX_ATTEMPTS:
        backoff = min(MAX_BACKOFF_S, 0.5 * 2**row.attempts)
        await mark_retry(conn, row.id, now + timedelta(seconds=backoff), error)
        log.warning(
            "event=send_retry channel=%s chat=%s attempt=%d error=%s",
            channel,
            chat,
            row.attempts + 1,
            error,
        )
    else:
        await mark_dead(conn, row.id, f"{error}: {outcome}")
        log.error("event=send_dead channel=%s chat=%s error=%s", channel, chat, error)
