"""The outbox: typed messages queued in the event's transaction, drained by a channel's sender.

Per-chat order is the id order, and it is a guarantee: a chat's messages are handed out only
from its oldest pending one (its head), and not at all while that head waits for a retry.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..db import is_sqlite, scrub_log, write_transaction
from ..outbound import Outbound, decode
from ..schema import contacts, outbox, outbox_blobs


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    channel: str
    chat_id: str
    message: Outbound
    attempts: int
    #: 0: someone is waiting for it; 1: bulk (see WriteSet.enqueue).
    priority: int = 0


_COLUMNS = (
    outbox.c.id,
    outbox.c.channel,
    outbox.c.chat_id,
    outbox.c.payload,
    outbox.c.attempts,
    outbox.c.not_before,
    outbox.c.priority,
    outbox_blobs.c.data,
    outbox_blobs.c.name,
)
_WITH_BLOBS = outbox.outerjoin(outbox_blobs, outbox_blobs.c.id == outbox.c.blob_id)


def _row(r: Any) -> OutboxRow:
    blob = (bytes(r.data), str(r.name)) if r.data is not None else None
    return OutboxRow(
        int(r.id),
        r.channel,
        r.chat_id,
        decode(dict(r.payload or {}), blob),
        int(r.attempts),
        int(r.priority or 0),
    )


async def pending(
    conn: AsyncConnection,
    channel: str,
    now: datetime,
    *,
    chat_id: str | None = None,
    limit: int = 100,
) -> list[OutboxRow]:
    """Messages due to leave, oldest first, for one chat or for all (the console, tests)."""
    stmt = (
        select(*_COLUMNS)
        .select_from(_WITH_BLOBS)
        .where(
            outbox.c.status == "pending",
            outbox.c.channel == channel,
            or_(outbox.c.not_before.is_(None), outbox.c.not_before <= now),
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if chat_id is not None:
        stmt = stmt.where(outbox.c.chat_id == chat_id)
    return [_row(r) for r in await conn.execute(stmt)]


async def pending_by_chat(
    conn: AsyncConnection,
    channel: str,
    now: datetime,
    *,
    chats: int = 100,
    per_chat: int = 20,
) -> list[list[OutboxRow]]:
    """What may leave now, as one list per chat in send order.

    The ``chats`` chats whose oldest pending message is oldest come first (fair: one busy
    chat takes one place, not a hundred). A chat whose oldest pending message waits for a
    retry (``not_before`` in the future) is left out whole, so nothing overtakes it; each
    list stops before the first message that is not due.
    """
    heads = (
        select(outbox.c.chat_id, func.min(outbox.c.id).label("head"))
        .where(outbox.c.status == "pending", outbox.c.channel == channel)
        .group_by(outbox.c.chat_id)
        .order_by(func.min(outbox.c.id))
        .limit(chats)
        .subquery()
    )
    stmt = (
        select(*_COLUMNS)
        .select_from(_WITH_BLOBS.join(heads, heads.c.chat_id == outbox.c.chat_id))
        .where(outbox.c.status == "pending", outbox.c.channel == channel)
        .order_by(heads.c.head, outbox.c.id)
    )
    found = await conn.execute(stmt)
    by_chat: dict[str, list[OutboxRow]] = {}
    blocked: set[str] = set()
    for r in found:
        chat = r.chat_id
        if chat in blocked:
            continue
        due = r.not_before is None or r.not_before <= now
        if not due:
            blocked.add(chat)
            continue
        rows = by_chat.setdefault(chat, [])
        if len(rows) < per_chat:
            rows.append(_row(r))
    return [rows for chat, rows in by_chat.items() if rows]


async def pending_for_chats(
    conn: AsyncConnection, channel: str, chats: Sequence[str], now: datetime, *, per_chat: int
) -> dict[str, list[OutboxRow]]:
    """The pending messages of these chats, each list in send order, stopping before the
    first message that is not due (nothing overtakes a message waiting for a retry)."""
    if not chats:
        return {}
    stmt = (
        select(*_COLUMNS)
        .select_from(_WITH_BLOBS)
        .where(
            outbox.c.status == "pending",
            outbox.c.channel == channel,
            outbox.c.chat_id.in_(list(chats)),
        )
        .order_by(outbox.c.id)
    )
    by_chat: dict[str, list[OutboxRow]] = {chat: [] for chat in chats}
    blocked: set[str] = set()
    for r in await conn.execute(stmt):
        chat = r.chat_id
        if chat in blocked or len(by_chat[chat]) >= per_chat:
            continue
        if r.not_before is not None and r.not_before > now:
            blocked.add(chat)
            continue
        by_chat[chat].append(_row(r))
    return by_chat


async def pending_ids(
    conn: AsyncConnection, channel: str, chats: Sequence[str]
) -> dict[str, set[int]]:
    """The ids of these chats' pending messages (whether due or not), by chat."""
    if not chats:
        return {}
    found = await conn.execute(
        select(outbox.c.chat_id, outbox.c.id).where(
            outbox.c.status == "pending",
            outbox.c.channel == channel,
            outbox.c.chat_id.in_(list(chats)),
        )
    )
    by_chat: dict[str, set[int]] = {}
    for chat, message_id in found:
        by_chat.setdefault(str(chat), set()).add(int(message_id))
    return by_chat


async def next_due(conn: AsyncConnection, channel: str, now: datetime) -> float | None:
    """Seconds until the channel's next pending message is due (0 when one is due now), or
    None when nothing is pending."""
    found = await conn.execute(
        select(func.count(), func.min(outbox.c.not_before)).where(
            outbox.c.status == "pending", outbox.c.channel == channel
        )
    )
    count, first_retry = found.one()
    if not count:
        return None
    due_now = await conn.execute(
        select(outbox.c.id)
        .where(
            outbox.c.status == "pending",
            outbox.c.channel == channel,
            or_(outbox.c.not_before.is_(None), outbox.c.not_before <= now),
        )
        .limit(1)
    )
    if due_now.first() is not None:
        return 0.0
    return max(0.0, (first_retry - now).total_seconds()) if first_retry is not None else 0.0


async def _drop_blobs(conn: AsyncConnection, ids: Sequence[int]) -> None:
    blob_ids = select(outbox.c.blob_id).where(
        outbox.c.id.in_(list(ids)), outbox.c.blob_id.is_not(None)
    )
    await conn.execute(delete(outbox_blobs).where(outbox_blobs.c.id.in_(blob_ids)))


async def mark_sent(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> None:
    """Sent: the content is dropped (it may hold a survey summary), the row stays as a record."""
    if ids:
        await _drop_blobs(conn, ids)
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(list(ids)))
            .values(
                status="sent",
                sent_at=now,
                payload=None,
                blob_id=None,
                attempts=outbox.c.attempts + 1,
            )
        )


async def mark_retry(
    conn: AsyncConnection,
    message_id: int,
    not_before: datetime,
    error: str,
    *,
    spend: bool = True,
) -> None:
    """Sends the message again from ``not_before``; ``spend`` False when the wait is not the
    message's failure (the channel is paused), so it costs none of its attempts."""
    attempts = outbox.c.attempts + 1 if spend else outbox.c.attempts
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(attempts=attempts, not_before=not_before, last_error=error[:200])
    )


async def mark_dead(conn: AsyncConnection, message_id: int, error: str) -> None:
    await _drop_blobs(conn, [message_id])
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(status="dead", payload=None, blob_id=None, last_error=error[:200])
    )


async def stop_contact(conn: AsyncConnection, channel: str, chat_id: str) -> None:
    """The chat blocked us: stop sending, and drop what was still queued for it."""
    await conn.execute(
        update(contacts)
        .where(contacts.c.channel == channel, contacts.c.external_id == chat_id)
        .values(stopped=True)
    )
    queued = select(outbox.c.id).where(
        outbox.c.channel == channel, outbox.c.chat_id == chat_id, outbox.c.status == "pending"
    )
    await _drop_blobs(conn, [int(i) for i in (await conn.execute(queued)).scalars()])
    await conn.execute(
        update(outbox)
        .where(
            outbox.c.channel == channel,
            outbox.c.chat_id == chat_id,
            outbox.c.status == "pending",
        )
        .values(status="dead", payload=None, blob_id=None, last_error="chat blocked")
    )


#: How ``last_error`` begins for a message held although its content reached the citizen
#: another way (a Zalo template message): counted as sent that way, not as held or re-sent.
TOLD = "told: "
#: Held messages whose content has not reached the citizen.
UNTOLD = or_(outbox.c.last_error.is_(None), ~outbox.c.last_error.startswith(TOLD))


#: Why a message is held, for the digest's sentence on each (``held_reasons``): "window"
#: outside Zalo's 7-day window (-230/-232, or our record of the citizen's last message),
#: "billed" held past 48 h because the agency chose not to pay for messages then
#: (``ZALO_SEND_BILLED`` off), "refused" Zalo refuses the citizen for now (-227 banned or
#: inactive for 45 days, -244 restricted). A row held before reasons were kept is "other".
HELD_REASONS = ("window", "billed", "refused")
#: How a held message's ``last_error`` begins after any ``TOLD``: its reason, in brackets.
_REASON = "[{}] "


async def mark_held(
    conn: AsyncConnection,
    message_id: int,
    error: str,
    *,
    told: bool = False,
    reason: str = "window",
) -> None:
    """Not deliverable now (Zalo's 7-day window): kept, with its content, for staff to see.
    ``told``: its content reached the citizen another way; it waits only for its buttons.
    ``reason``: one of ``HELD_REASONS``, kept at the start of ``last_error``."""
    note = (TOLD if told else "") + _REASON.format(reason) + error
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(status="held", attempts=outbox.c.attempts + 1, last_error=note[:200])
    )


async def held_since(conn: AsyncConnection, since: datetime) -> int:
    """Messages held back since a moment whose content has not reached the citizen (for
    the digest)."""
    return sum((await held_reasons(conn, since)).values())


async def held_reasons(conn: AsyncConnection, since: datetime) -> dict[str, int]:
    """``held_since`` by reason: ``HELD_REASONS`` or "other" (a row held with none) to how
    many, each present only when not 0, in that order."""
    found = await conn.execute(
        select(outbox.c.last_error).where(
            outbox.c.status == "held", outbox.c.created_at >= since, UNTOLD
        )
    )
    counts = dict.fromkeys((*HELD_REASONS, "other"), 0)
    for (note,) in found:
        counts[_reason_of(note or "")] += 1
    return {reason: n for reason, n in counts.items() if n}


def _reason_of(note: str) -> str:
    """The reason at the start of an untold held row's ``last_error``, or "other"."""
    for reason in HELD_REASONS:
        if note.startswith(_REASON.format(reason)):
            return reason
    return "other"


#: How many distinct reasons ``dead_since`` names (the most frequent; the rest are counted).
DEAD_REASONS = 3


async def dead_since(conn: AsyncConnection, since: datetime) -> tuple[int, list[tuple[str, int]]]:
    """Messages queued since ``since`` that were given up for good (status ``dead``), for
    the digest and /healthz: (how many, [(channel and reason, how many)]), the reasons
    ``"<channel>: <last_error>"`` (at most 80 characters), the ``DEAD_REASONS`` most
    frequent first. A citizen who blocked the OA counts too ("chat blocked")."""
    reason = func.coalesce(outbox.c.last_error, "?")
    found = await conn.execute(
        select(outbox.c.channel, reason, func.count())
        .where(outbox.c.status == "dead", outbox.c.created_at >= since)
        .group_by(outbox.c.channel, reason)
    )
    counted = sorted(
        ((f"{channel}: {why}"[:80], int(n)) for channel, why, n in found),
        key=lambda item: (-item[1], item[0]),
    )
    return sum(n for _, n in counted), counted[:DEAD_REASONS]


async def counts_by_status(conn: AsyncConnection, channel: str | None = None) -> dict[str, int]:
    """How many rows are in each status (tests and health checks)."""
    stmt = select(outbox.c.status, func.count()).group_by(outbox.c.status)
    if channel is not None:
        stmt = stmt.where(outbox.c.channel == channel)
    return {str(s): int(n) for s, n in await conn.execute(stmt)}


#: Per engine: outbox ids queued to a chat by the batch that ended its survey, not yet gone.
_SCRUB_DUE: weakref.WeakKeyDictionary[Any, set[int]] = weakref.WeakKeyDictionary()
#: What a message becomes once it has left the queue for good.
_DONE = ("sent", "dead")


def scrub_once_sent(engine: AsyncEngine, ids: Iterable[int]) -> None:
    """Notes the replies of a batch to chats whose survey it ended (the last "→ answer" echo,
    the summary of the answers, the thanks). The survey's earlier messages left the outbox
    when it ended; these were queued by that very batch, and their row (its creation and
    sending times, to the second) would tell when that chat's survey ended: once sent,
    :func:`scrub_sent` deletes them too. On SQLite, marking one sent also rewrites its row in
    the log only, and the database file keeps the page as the checkpoint after the batch
    copied it, text included: :func:`scrub_sent` then checkpoints again."""
    _SCRUB_DUE.setdefault(engine.sync_engine, set()).update(ids)


async def scrub_sent(engine: AsyncEngine) -> bool:
    """Deletes the replies noted by :func:`scrub_once_sent` that have left the queue since
    (sent or dead), then empties SQLite's write-ahead log into the database (see
    :func:`storage.scrub_log`). Cheap when none is noted. True when it deleted (and, on
    SQLite, checkpointed)."""
    due = _SCRUB_DUE.get(engine.sync_engine)
    if not due:
        return False
    async with write_transaction(engine) as conn:
        found = await conn.execute(
            select(outbox.c.id).where(outbox.c.id.in_(due), outbox.c.status.not_in(_DONE))
        )
        waiting = {int(i) for i in found.scalars()}
        finished = due - waiting
        if finished:
            await conn.execute(
                delete(outbox).where(outbox.c.id.in_(finished), outbox.c.status.in_(_DONE))
            )
    if not finished:
        return False
    due -= finished
    if not is_sqlite(engine) or await scrub_log(engine):
        return True
    due |= finished  # readers in the way: tried again after the next send (rows gone already)
    return False
