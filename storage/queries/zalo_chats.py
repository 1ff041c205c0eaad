"""Zalo's interaction window: when each chat last wrote, the messages held for it, and what
became of notifications that could not go as normal messages (counts for the digest)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import upsert
from ..schema import complaints, contacts, outbox, zalo_chats, zalo_notices
from .outbox import UNTOLD

CHANNEL = "zalo"
#: The outcomes counted: held for the window, re-sent when the citizen wrote, or sent as an
#: approved template message; "tpl_refused": the agency's template refused by Zalo (the
#: notice is then held), a setting to fix; "zns": one of the "template" ones went by ZNS (the
#: daily quota counts them); "zns_quota": a ZNS notice held to the next day, over the quota.
OUTCOMES = ("held", "resent", "template", "tpl_refused", "zns", "zns_quota")


#: ``last_error`` of a pending message that waits for a time of its own, spending no attempt
#: (``bot.errors.Deferred``: a ZNS notice outside Zalo's sending hours or over the day's
#: quota). Such a notice is held as much as one held for the window: it goes now, as a
#: normal message, when the citizen writes first.
DEFERRED = "Deferred"


def _waiting(chat_id: str) -> tuple[ColumnElement[bool], ...]:
    """The messages to ``chat_id`` that wait for the citizen: held, or waiting for ZNS."""
    deferred = and_(outbox.c.status == "pending", outbox.c.last_error == DEFERRED)
    return (
        outbox.c.channel == CHANNEL,
        outbox.c.chat_id == chat_id,
        or_(outbox.c.status == "held", deferred),
    )


async def citizen_wrote(conn: AsyncConnection, chat_id: str, now: datetime) -> int:
    """Records that ``chat_id`` wrote at ``now`` (the window reopens) and puts the messages
    held for it back in line, in their order, ahead of anything queued later, with those
    waiting for ZNS (``DEFERRED``), which then go at once. Returns how many were released;
    each is counted as "resent", except one whose content already reached the citizen as a
    template message (counted once, as "template")."""
    stmt = upsert(conn, zalo_chats, ("chat_id",), ("last_inbound_at",))
    await conn.execute(stmt, [{"chat_id": chat_id, "last_inbound_at": now}])
    waiting = _waiting(chat_id)
    untold = await conn.execute(select(func.count()).where(*waiting, UNTOLD))
    resent = int(untold.scalar_one())
    released = await conn.execute(
        update(outbox).where(*waiting).values(status="pending", not_before=None)
    )
    await record_notices(conn, ["resent"] * resent, now)
    return int(released.rowcount or 0)


async def waits_for_zns(conn: AsyncConnection, chat_id: str, key: str, text: str) -> bool:
    """Whether the notice (catalog ``key``, ``text``) to ``chat_id`` already waited for ZNS
    (``DEFERRED``): its wait was told to staff and counted as held once, not at each try."""
    found = await conn.execute(
        select(outbox.c.payload).where(
            outbox.c.channel == CHANNEL,
            outbox.c.chat_id == chat_id,
            outbox.c.status == "pending",
            outbox.c.last_error == DEFERRED,
        )
    )
    return any(
        isinstance(p, dict) and p.get("key") == key and p.get("text") == text for (p,) in found
    )


async def held_choices(conn: AsyncConnection, chat_id: str) -> list[tuple[str, ...]]:
    """The button ids of each message held for ``chat_id``, in the order they go: what
    ``citizen_wrote`` is about to put back in line (read first, in the same transaction)."""
    found = await conn.execute(
        select(outbox.c.payload).where(*_waiting(chat_id)).order_by(outbox.c.id)
    )
    held: list[tuple[str, ...]] = []
    for (payload,) in found:
        choices = payload.get("choices") if isinstance(payload, dict) else None
        held.append(tuple(str(c[0]) for c in choices or () if isinstance(c, list) and c))
    return held


async def last_wrote(conn: AsyncConnection, chat_id: str) -> datetime | None:
    """When ``chat_id`` last wrote to the OA (None: not since this was recorded)."""
    found = await conn.execute(
        select(zalo_chats.c.last_inbound_at).where(zalo_chats.c.chat_id == chat_id)
    )
    return found.scalar_one_or_none()


async def last_wrote_many(conn: AsyncConnection, chat_ids: Iterable[str]) -> dict[str, datetime]:
    """``last_wrote`` for several chats at once; a chat not recorded is left out."""
    wanted = sorted(set(chat_ids))
    if not wanted:
        return {}
    found = await conn.execute(
        select(zalo_chats.c.chat_id, zalo_chats.c.last_inbound_at).where(
            zalo_chats.c.chat_id.in_(wanted)
        )
    )
    return {str(chat): at for chat, at in found}


async def record_notices(conn: AsyncConnection, outcomes: Iterable[str], now: datetime) -> None:
    rows = [{"at": now, "outcome": o} for o in outcomes if o in OUTCOMES]
    if rows:
        await conn.execute(zalo_notices.insert(), rows)


async def notices_between(conn: AsyncConnection, start: datetime, end: datetime) -> dict[str, int]:
    """How many notifications were held, re-sent and sent as templates in [start, end), and
    how often Zalo refused the template ("tpl_refused") or a ZNS notice was over the day's
    quota ("zns_quota"), each present when not 0."""
    found = await conn.execute(
        select(zalo_notices.c.outcome, func.count())
        .where(zalo_notices.c.at >= start, zalo_notices.c.at < end)
        .where(zalo_notices.c.outcome != "zns")  # among "template"; for the quota only
        .group_by(zalo_notices.c.outcome)
    )
    counts = dict.fromkeys(OUTCOMES[:3], 0)  # "tpl_refused" only when there were some
    counts.update({str(o): int(n) for o, n in found})
    return counts


async def zns_sent_since(conn: AsyncConnection, start: datetime) -> int:
    """How many notices went by ZNS since ``start`` (the OA's daily quota counts them)."""
    found = await conn.execute(
        select(func.count())
        .select_from(zalo_notices)
        .where(zalo_notices.c.outcome == "zns", zalo_notices.c.at >= start)
    )
    return int(found.scalar_one())


async def template_refused_at(conn: AsyncConnection) -> datetime | None:
    """When Zalo last refused the agency's template, if no template message went through
    since: the setting is wrong (or the template withdrawn) until one does. None otherwise."""
    found = await conn.execute(
        select(zalo_notices.c.outcome, func.max(zalo_notices.c.at))
        .where(zalo_notices.c.outcome.in_(("template", "tpl_refused")))
        .group_by(zalo_notices.c.outcome)
    )
    last = {str(o): at for o, at in found}
    refused, sent = last.get("tpl_refused"), last.get("template")
    return refused if refused is not None and (sent is None or sent < refused) else None


async def zns_phone(conn: AsyncConnection, chat_id: str, code: str) -> str | None:
    """The phone the complaint ``code`` was filed with from Zalo chat ``chat_id``, when its
    sender agreed at filing to notices by ZNS to it (issue 15); None otherwise."""
    found = await conn.execute(
        select(complaints.c.reporter_phone)
        .join(contacts, contacts.c.id == complaints.c.contact_id)
        .where(
            complaints.c.code == code,
            contacts.c.channel == CHANNEL,
            contacts.c.external_id == chat_id,
            complaints.c.zns_consent_at.is_not(None),
            complaints.c.reporter_phone.is_not(None),
        )
    )
    phone = found.scalar_one_or_none()
    return str(phone) if phone else None
