"""Dossiers, their status events, and the chats that follow them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import api_signatures, contacts, dossier_events, dossier_follows, dossiers
from ..schema_dossiers import INVITE_ENDED


@dataclass(frozen=True, slots=True)
class DossierRow:
    id: int
    code: str
    token: str
    client: str
    procedure: str
    procedure_name: str | None
    field: str | None
    legal_days: int | None
    received_on: date
    due_on: date
    rescheduled_on: date | None
    status: str
    completed_on: date | None
    handed_over_at: datetime | None
    closed_at: datetime | None
    followed_at: datetime | None
    invite_status: str | None
    invited_at: datetime | None
    invite_remind_at: datetime | None
    invite_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    #: Typed on Zalo instead of the link's token (10 digits, no separators); None before 0025.
    short_code: str | None = None


_COLUMNS = tuple(dossiers.c[name] for name in DossierRow.__dataclass_fields__)


def _row(r: Any) -> DossierRow:
    return DossierRow(*r)


@dataclass(frozen=True, slots=True)
class NewDossier:
    code: str
    token: str
    client: str
    procedure: str
    received_on: date
    due_on: date
    procedure_name: str | None = None
    field: str | None = None
    legal_days: int | None = None
    #: 10 digits with a check digit (``bot.channels.zalo_codes``); None: the link only.
    short_code: str | None = None


async def insert_dossier(conn: AsyncConnection, new: NewDossier, now: datetime) -> bool:
    """Registers a dossier; False when its code (or, by a freak draw, its token) is taken."""
    values = {
        "code": new.code,
        "token": new.token,
        "client": new.client,
        "procedure": new.procedure,
        "procedure_name": new.procedure_name,
        "field": new.field,
        "legal_days": new.legal_days,
        "short_code": new.short_code,
        "received_on": new.received_on,
        "due_on": new.due_on,
        "status": "received",
        "created_at": now,
        "updated_at": now,
    }
    stmt = insert_ignore(conn, dossiers, ()).values(values).returning(dossiers.c.id)
    result = await conn.execute(stmt)
    return result.first() is not None


async def dossier_by_code(
    conn: AsyncConnection, code: str, *, lock: bool = False
) -> DossierRow | None:
    stmt = select(*_COLUMNS).where(dossiers.c.code == code)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # events of one dossier, one after the other
    found = (await conn.execute(stmt)).first()
    return None if found is None else _row(found)


async def dossiers_by_code(
    conn: AsyncConnection, codes: Iterable[str], *, lock: bool = False
) -> dict[str, DossierRow]:
    """Dossiers by code; ``lock`` (PostgreSQL) holds them, in id order, till the commit."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    stmt = select(*_COLUMNS).where(dossiers.c.code.in_(wanted)).order_by(dossiers.c.id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return {r.code: r for r in map(_row, await conn.execute(stmt))}


async def dossiers_by_token(conn: AsyncConnection, tokens: Iterable[str]) -> list[DossierRow]:
    wanted = sorted(set(tokens))
    if not wanted:
        return []
    rows = await conn.execute(select(*_COLUMNS).where(dossiers.c.token.in_(wanted)))
    return [_row(r) for r in rows]


async def dossiers_by_short_code(conn: AsyncConnection, codes: Iterable[str]) -> list[DossierRow]:
    """Dossiers by the 10-digit code printed on their slip (digits only, no separators)."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    rows = await conn.execute(select(*_COLUMNS).where(dossiers.c.short_code.in_(wanted)))
    return [_row(r) for r in rows]


async def dossiers_by_id(conn: AsyncConnection, ids: Iterable[int]) -> list[DossierRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = await conn.execute(select(*_COLUMNS).where(dossiers.c.id.in_(wanted)))
    return [_row(r) for r in rows]


async def followed_by(
    conn: AsyncConnection, contact_ids: Iterable[int]
) -> dict[int, list[DossierRow]]:
    """The dossiers each contact follows, most recently followed first."""
    wanted = sorted(set(contact_ids))
    found: dict[int, list[DossierRow]] = {c: [] for c in wanted}
    if not wanted:
        return found
    rows = await conn.execute(
        select(dossier_follows.c.contact_id, *_COLUMNS)
        .join(dossiers, dossiers.c.id == dossier_follows.c.dossier_id)
        .where(dossier_follows.c.contact_id.in_(wanted))
        .order_by(dossier_follows.c.followed_at.desc(), dossiers.c.id.desc())
    )
    for r in rows:
        found[int(r[0])].append(_row(r[1:]))
    return found


@dataclass(frozen=True, slots=True)
class Follower:
    dossier_id: int
    contact_id: int
    channel: str
    external_id: str
    language: str | None


async def followers(conn: AsyncConnection, dossier_ids: Iterable[int]) -> list[Follower]:
    """The chats following these dossiers that still take messages (not blocked)."""
    wanted = sorted(set(dossier_ids))
    if not wanted:
        return []
    rows = await conn.execute(
        select(
            dossier_follows.c.dossier_id,
            contacts.c.id,
            contacts.c.channel,
            contacts.c.external_id,
            contacts.c.language,
        )
        .join(contacts, contacts.c.id == dossier_follows.c.contact_id)
        .where(dossier_follows.c.dossier_id.in_(wanted), contacts.c.stopped.is_(False))
        .order_by(dossier_follows.c.dossier_id, dossier_follows.c.followed_at, contacts.c.id)
    )
    return [Follower(int(r[0]), int(r[1]), r[2], r[3], r[4]) for r in rows]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    dossier_id: int
    kind: str
    at: datetime


async def find_event(conn: AsyncConnection, client: str, event_id: str) -> StoredEvent | None:
    found = (
        await conn.execute(
            select(dossier_events.c.dossier_id, dossier_events.c.kind, dossier_events.c.at).where(
                dossier_events.c.client == client, dossier_events.c.event_id == event_id
            )
        )
    ).first()
    return None if found is None else StoredEvent(int(found[0]), found[1], found[2])


async def find_events(
    conn: AsyncConnection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], StoredEvent]:
    """Events already recorded, by (client, event id)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(
            dossier_events.c.client,
            dossier_events.c.event_id,
            dossier_events.c.dossier_id,
            dossier_events.c.kind,
            dossier_events.c.at,
        ).where(tuple_(dossier_events.c.client, dossier_events.c.event_id).in_(wanted))
    )
    return {(r[0], r[1]): StoredEvent(int(r[2]), r[3], r[4]) for r in rows}


@dataclass(frozen=True, slots=True)
class NewEvent:
    dossier_id: int
    client: str
    event_id: str
    kind: str
    at: datetime
    missing: tuple[str, ...] = ()
    new_due_on: date | None = None
    reason: str | None = None


async def insert_event(conn: AsyncConnection, event: NewEvent, now: datetime) -> bool:
    """Records an event; False when the client posted that event id before (nothing written)."""
    stmt = (
        insert_ignore(conn, dossier_events, ("client", "event_id"))
        .values(
            dossier_id=event.dossier_id,
            client=event.client,
            event_id=event.event_id,
            kind=event.kind,
            at=event.at,
            received_at=now,
            missing=list(event.missing) or None,
            new_due_on=event.new_due_on,
            reason=event.reason,
        )
        .returning(dossier_events.c.id)
    )
    return (await conn.execute(stmt)).first() is not None


async def insert_events(conn: AsyncConnection, events: Sequence[NewEvent], now: datetime) -> int:
    """Records events in one statement; returns how many were new (the others raced in from
    another process meanwhile)."""
    if not events:
        return 0
    stmt = insert_ignore(conn, dossier_events, ("client", "event_id")).returning(
        dossier_events.c.id
    )
    rows = [
        {
            "dossier_id": e.dossier_id,
            "client": e.client,
            "event_id": e.event_id,
            "kind": e.kind,
            "at": e.at,
            "received_at": now,
            "missing": list(e.missing) or None,
            "new_due_on": e.new_due_on,
            "reason": e.reason,
        }
        for e in events
    ]
    return len((await conn.execute(stmt, rows)).all())


#: What status events change in a dossier (``save_dossiers`` writes these).
EVENT_COLUMNS = (
    "status",
    "rescheduled_on",
    "completed_on",
    "handed_over_at",
    "closed_at",
    "invite_status",
    "invited_at",
    "invite_remind_at",
    "invite_expires_at",
    "updated_at",
)
_SAVE = (
    update(dossiers)
    .where(dossiers.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}", type_=dossiers.c[name].type) for name in EVENT_COLUMNS})
)


async def save_dossiers(conn: AsyncConnection, rows: Sequence[DossierRow]) -> None:
    """Writes what events changed in these dossiers, in one statement."""
    if rows:
        params = [
            {"b_id": r.id, **{f"b_{name}": getattr(r, name) for name in EVENT_COLUMNS}}
            for r in rows
        ]
        await conn.execute(_SAVE, params)


async def event_kinds(conn: AsyncConnection, dossier_id: int) -> list[str]:
    """A dossier's events, oldest first (tests and the command line)."""
    rows = await conn.execute(
        select(dossier_events.c.kind)
        .where(dossier_events.c.dossier_id == dossier_id)
        .order_by(dossier_events.c.id)
    )
    return [r[0] for r in rows]


# --- replayed requests -----------------------------------------------------------------------


async def claim_signature(conn: AsyncConnection, signature: str, now: datetime) -> bool:
    """Records a request's signature; False when the same signed request came before."""
    stmt = (
        insert_ignore(conn, api_signatures, ("signature",))
        .values(signature=signature, seen_at=now)
        .returning(api_signatures.c.signature)
    )
    return (await conn.execute(stmt)).first() is not None


async def signatures_seen(conn: AsyncConnection, signatures: Iterable[str]) -> set[str]:
    wanted = sorted(set(signatures))
    if not wanted:
        return set()
    rows = await conn.execute(
        select(api_signatures.c.signature).where(api_signatures.c.signature.in_(wanted))
    )
    return {r[0] for r in rows}


async def claim_signatures(conn: AsyncConnection, signatures: Sequence[str], now: datetime) -> int:
    """Records signatures in one statement; returns how many were new."""
    if not signatures:
        return 0
    stmt = insert_ignore(conn, api_signatures, ("signature",)).returning(api_signatures.c.signature)
    rows = [{"signature": s, "seen_at": now} for s in signatures]
    return len((await conn.execute(stmt, rows)).all())


async def forget_signatures_before(conn: AsyncConnection, cutoff: datetime) -> int:
    result = await conn.execute(delete(api_signatures).where(api_signatures.c.seen_at < cutoff))
    return int(result.rowcount or 0)


# --- the invitation and the links, over time -------------------------------------------------


async def due_invitation_reminders(
    conn: AsyncConnection, now: datetime, limit: int = 200
) -> list[DossierRow]:
    """Invitations nobody took up whose one reminder is due (the job checks the hour)."""
    rows = await conn.execute(
        select(*_COLUMNS)
        .where(
            dossiers.c.invite_status == "invited",
            dossiers.c.invite_remind_at.is_not(None),
            dossiers.c.invite_remind_at <= now,
            or_(dossiers.c.invite_expires_at.is_(None), dossiers.c.invite_expires_at > now),
        )
        .order_by(dossiers.c.invite_remind_at)
        .limit(limit)
    )
    return [_row(r) for r in rows]


async def mark_reminded(conn: AsyncConnection, dossier_ids: Sequence[int]) -> int:
    """Clears the reminder of invitations still open; returns how many were still due."""
    if not dossier_ids:
        return 0
    result = await conn.execute(
        update(dossiers)
        .where(
            dossiers.c.id.in_(list(dossier_ids)),
            dossiers.c.invite_status == "invited",
            dossiers.c.invite_remind_at.is_not(None),
        )
        .values(invite_remind_at=None)
    )
    return int(result.rowcount or 0)


async def expire_invitations(conn: AsyncConnection, now: datetime) -> int:
    """Invitations nobody took up before their end: ended, as one whose survey ended is (a
    survey under way is not; its own expiry ends the invitation). The reminder goes too, so
    the row is the same as after a survey: ``invite_remind_at`` NULL, no trace of when."""
    result = await conn.execute(
        update(dossiers)
        .where(
            dossiers.c.invite_status == "invited",
            dossiers.c.invite_expires_at.is_not(None),
            dossiers.c.invite_expires_at <= now,
        )
        .values(invite_status=INVITE_ENDED, invite_remind_at=None)
    )
    return int(result.rowcount or 0)


async def forget_follows(
    conn: AsyncConnection, *, closed_before: datetime, untouched_before: datetime
) -> int:
    """Deletes the links of dossiers closed before ``closed_before`` (the retention period),
    and of dossiers still open that nothing has happened to since ``untouched_before``."""
    stale = select(dossiers.c.id).where(
        or_(
            and_(dossiers.c.closed_at.is_not(None), dossiers.c.closed_at < closed_before),
            and_(dossiers.c.closed_at.is_(None), dossiers.c.updated_at < untouched_before),
        )
    )
    result = await conn.execute(
        delete(dossier_follows).where(dossier_follows.c.dossier_id.in_(stale))
    )
    return int(result.rowcount or 0)
