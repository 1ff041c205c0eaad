"""Inbound event ids, contacts and their conversations: what the dispatcher loads per batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import versions
from ..dialect import insert_ignore
from ..schema import contacts, conversations, processed_events

ContactKey = tuple[str, str]  # (channel, external_id)


@dataclass(frozen=True, slots=True)
class ConversationRow:
    contact_id: int
    channel: str
    external_id: str
    language: str | None
    stopped: bool
    flow: str | None
    step: str | None
    state: dict[str, Any]
    version: int
    expires_at: datetime | None
    remind_at: datetime | None = None
    #: The question a notice queued for this chat since its last event asks
    #: (``conversations.resent.noticed``); None: none.
    notice_question: str | None = None

    @property
    def key(self) -> ContactKey:
        return (self.channel, self.external_id)


#: How long a key claimed before keys named the account (an alias) still marks a redelivery:
#: Telegram keeps an unconfirmed update for 24 hours, Zalo retries for minutes; an hour
#: more for ``processed_at`` kept to the hour.
ALIAS_WINDOW = timedelta(hours=25)


async def claim_events(
    conn: AsyncConnection,
    keys: Sequence[str],
    now: datetime,
    *,
    aliases: Mapping[str, str] | None = None,
) -> set[str]:
    """Records event keys and returns the ones never seen before (a redelivery is not).

    ``aliases``: for a key, the key the same event was claimed under by an earlier release
    (``telegram:<update id>``, before keys named the bot). A key whose alias was claimed
    within ``ALIAS_WINDOW`` is no new event either. Aliases are looked up, never written,
    so two bots on one database no longer share new keys; an alias older than any
    redelivery is ignored, so the old, shared keys stop counting a day after the upgrade."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return set()
    fresh = await _claim(conn, unique, now)
    wanted = {aliases[k] for k in fresh if k in aliases} if aliases else set()
    if not wanted or aliases is None:
        return fresh
    since = now.replace(minute=0, second=0, microsecond=0) - ALIAS_WINDOW
    seen = set(
        (
            await conn.execute(
                select(processed_events.c.event_key).where(
                    processed_events.c.event_key.in_(sorted(wanted)),
                    processed_events.c.processed_at >= since,
                )
            )
        ).scalars()
    )
    return {k for k in fresh if aliases.get(k) not in seen}


async def _claim(conn: AsyncConnection, unique: list[str], now: datetime) -> set[str]:
    # One statement: the keys that were inserted are the new ones. A key another process is
    # recording at this moment waits for that transaction, then counts as seen.
    stmt = insert_ignore(conn, processed_events, ("event_key",)).returning(
        processed_events.c.event_key
    )
    # To the hour: enough to forget keys after weeks; the exact second would equal the
    # ``created_at`` of the contact an event's chat made, joining the two tables.
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = await conn.execute(stmt, [{"event_key": k, "processed_at": hour} for k in unique])
    return {row[0] for row in rows}


async def forget_events_before(conn: AsyncConnection, cutoff: datetime) -> int:
    """Drops event ids older than any redelivery window (channels retry for hours, not weeks)."""
    result = await conn.execute(
        delete(processed_events).where(processed_events.c.processed_at < cutoff)
    )
    return int(result.rowcount or 0)


_COLUMNS = (
    contacts.c.id,
    contacts.c.channel,
    contacts.c.external_id,
    contacts.c.language,
    contacts.c.stopped,
    conversations.c.flow,
    conversations.c.step,
    conversations.c.state,
    conversations.c.version,
    conversations.c.expires_at,
    conversations.c.remind_at,
    conversations.c.notice_question,
)


async def _select(
    conn: AsyncConnection, who: Sequence[ContactKey], lock: bool
) -> dict[ContactKey, ConversationRow]:
    stmt = (
        select(*_COLUMNS)
        .join(conversations, conversations.c.contact_id == contacts.c.id)
        .where(tuple_(contacts.c.channel, contacts.c.external_id).in_(list(who)))
        .order_by(contacts.c.id)
    )
    if lock and conn.dialect.name == "postgresql":
        # Serialises events for one contact across processes; ordered to avoid deadlocks.
        stmt = stmt.with_for_update(of=conversations)
    rows = await conn.execute(stmt)
    found: dict[ContactKey, ConversationRow] = {}
    for r in rows:
        row = ConversationRow(
            contact_id=int(r[0]),
            channel=r[1],
            external_id=r[2],
            language=r[3],
            stopped=bool(r[4]),
            flow=r[5],
            step=r[6],
            state=dict(r[7] or {}),
            version=int(r[8]),
            expires_at=r[9],
            remind_at=r[10],
            notice_question=r[11],
        )
        found[row.key] = row
    return found


async def load_conversations(
    conn: AsyncConnection, who: Iterable[ContactKey], now: datetime, *, lock: bool = True
) -> dict[ContactKey, ConversationRow]:
    """The conversations of these contacts, creating contact and conversation when new."""
    keys = list(dict.fromkeys(who))
    if not keys:
        return {}
    found = await _select(conn, keys, lock)
    missing = [k for k in keys if k not in found]
    if missing:
        found.update(await _create(conn, missing, now))
        raced = [k for k in missing if k not in found]
        if raced:  # created by another process meanwhile
            found.update(await _select(conn, raced, lock))
    return found


async def _create(
    conn: AsyncConnection, missing: Sequence[ContactKey], now: datetime
) -> dict[ContactKey, ConversationRow]:
    """New contacts with an empty conversation, without reading them back. Their
    ``created_at`` is the hour (its only reader, the digests' first contact, wants the day):
    to the second, with a log's times, it would tell which chat wrote first when."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    inserted = await conn.execute(
        insert_ignore(conn, contacts, ("channel", "external_id")).returning(
            contacts.c.id, contacts.c.channel, contacts.c.external_id
        ),
        [
            {"channel": c, "external_id": e, "stopped": False, "created_at": hour}
            for c, e in missing
        ],
    )
    # A random version and the hour, as every later write gives (``storage.versions``).
    created = {
        (r[1], r[2]): ConversationRow(
            int(r[0]), r[1], r[2], None, False, None, None, {}, versions.next_version(0), None
        )
        for r in inserted
    }
    if created:
        await conn.execute(
            conversations.insert(),
            [
                {
                    "contact_id": row.contact_id,
                    "state": {},
                    "version": row.version,
                    "updated_at": hour,
                }
                for row in created.values()
            ],
        )
    return created
