"""Complaints: what the dispatcher looks up for an event, and the writes a batch makes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import (
    OPEN_COMPLAINT_STATUSES,
    complaint_events,
    complaint_files,
    complaints,
    contacts,
)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: datetime
    to_status: str
    note: str | None
    actor: str
    public: bool
    action: str | None = None
    actor_name: str | None = None


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    id: int
    code: str
    category: str
    description: str
    status: str
    source: str
    anonymous: bool
    name: str | None
    phone: str | None
    language: str
    created_at: datetime
    due_on: date
    rating: int | None
    contact_id: int | None
    channel: str | None
    external_id: str | None
    stopped: bool
    duplicate_of: str | None = None
    files: int = 0
    history: tuple[HistoryRow, ...] = ()
    stored_files: tuple[int, ...] = ()  # ids of files whose bytes are kept, to send to staff
    address: str | None = None
    accept_due_on: date | None = None
    forward_due_on: date | None = None
    forwarded_to: str | None = None
    forwarded_on: date | None = None
    file_notes: Mapping[int, str] = field(default_factory=dict)  # captions, by file id
    assignee: str | None = None
    assignee_name: str | None = None
    accepted_at: datetime | None = None
    #: The sender agreed at filing to notices by ZNS to ``phone`` (Zalo, issue 15).
    zns_consent: bool = False


_original = complaints.alias("original")
_COLUMNS = (
    complaints.c.id,
    complaints.c.code,
    complaints.c.category,
    complaints.c.description,
    complaints.c.status,
    complaints.c.source,
    complaints.c.anonymous,
    complaints.c.reporter_name,
    complaints.c.reporter_phone,
    complaints.c.language,
    complaints.c.created_at,
    complaints.c.due_on,
    complaints.c.rating,
    complaints.c.contact_id,
    contacts.c.channel,
    contacts.c.external_id,
    contacts.c.stopped,
    _original.c.code,
    complaints.c.reporter_address,
    complaints.c.accept_due_on,
    complaints.c.forward_due_on,
    complaints.c.forwarded_to,
    complaints.c.forwarded_on,
    complaints.c.assignee,
    complaints.c.assignee_name,
    complaints.c.accepted_at,
    complaints.c.zns_consent_at,
)
_BASE = (
    select(*_COLUMNS)
    .outerjoin(contacts, contacts.c.id == complaints.c.contact_id)
    .outerjoin(_original, _original.c.id == complaints.c.duplicate_of)
)


def _row(r: Any) -> ComplaintRow:
    return ComplaintRow(
        id=int(r[0]),
        code=r[1],
        category=r[2],
        description=r[3],
        status=r[4],
        source=r[5],
        anonymous=bool(r[6]),
        name=r[7],
        phone=r[8],
        language=r[9],
        created_at=r[10],
        due_on=r[11],
        rating=r[12],
        contact_id=r[13],
        channel=r[14],
        external_id=r[15],
        stopped=bool(r[16]),
        duplicate_of=r[17],
        address=r[18],
        accept_due_on=r[19],
        forward_due_on=r[20],
        forwarded_to=r[21],
        forwarded_on=r[22],
        assignee=r[23],
        assignee_name=r[24],
        accepted_at=r[25],
        zns_consent=r[26] is not None,
    )


async def complaints_by_code(
    conn: AsyncConnection, codes: Iterable[str]
) -> dict[str, ComplaintRow]:
    """The complaints with these codes, with their history and number of files."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = [_row(r) for r in await conn.execute(_BASE.where(complaints.c.code.in_(wanted)))]
    if not rows:
        return {}
    ids = [r.id for r in rows]
    history: dict[int, list[HistoryRow]] = {}
    events = await conn.execute(
        select(
            complaint_events.c.complaint_id,
            complaint_events.c.at,
            complaint_events.c.to_status,
            complaint_events.c.note,
            complaint_events.c.actor,
            complaint_events.c.public,
            complaint_events.c.action,
            complaint_events.c.actor_name,
        )
        .where(complaint_events.c.complaint_id.in_(ids))
        .order_by(complaint_events.c.at, complaint_events.c.id)
    )
    for e in events:
        history.setdefault(int(e[0]), []).append(
            HistoryRow(e[1], e[2], e[3], e[4], bool(e[5]), e[6], e[7])
        )
    counts: dict[int, int] = {}
    stored: dict[int, list[int]] = {}
    notes: dict[int, dict[int, str]] = {}
    for f in await conn.execute(
        select(
            complaint_files.c.complaint_id,
            complaint_files.c.id,
            complaint_files.c.status,
            complaint_files.c.note,
        )
        .where(complaint_files.c.complaint_id.in_(ids))
        .order_by(complaint_files.c.id)
    ):
        counts[int(f[0])] = counts.get(int(f[0]), 0) + 1
        if f[2] == "stored":
            stored.setdefault(int(f[0]), []).append(int(f[1]))
            if f[3]:
                notes.setdefault(int(f[0]), {})[int(f[1])] = str(f[3])
    return {
        r.code: replace(
            r,
            files=counts.get(r.id, 0),
            history=tuple(history.get(r.id, ())),
            stored_files=tuple(stored.get(r.id, ())),
            file_notes=notes.get(r.id, {}),
        )
        for r in rows
    }


def _earlier(a: ColumnElement[date], b: ColumnElement[date]) -> ColumnElement[date]:
    return case((a < b, a), else_=b)


def _first_open_deadline() -> ColumnElement[date]:
    """The earliest deadline still running for an open case, as ``conversations.deadlines``
    reads them: forward (not forwarded yet) and accept while the case never left "new",
    resolve always. A case is overdue exactly when this day is before today."""
    unaccepted = and_(complaints.c.status == "new", complaints.c.accepted_at.is_(None))
    forward = case(
        (
            and_(
                unaccepted,
                complaints.c.forwarded_to.is_(None),
                complaints.c.forward_due_on.is_not(None),
            ),
            complaints.c.forward_due_on,
        ),
        else_=complaints.c.due_on,
    )
    accept = case(
        (and_(unaccepted, complaints.c.accept_due_on.is_not(None)), complaints.c.accept_due_on),
        else_=complaints.c.due_on,
    )
    return _earlier(_earlier(forward, accept), complaints.c.due_on)


async def open_complaints(conn: AsyncConnection, limit: int = 200) -> list[ComplaintRow]:
    """Open complaints by the earliest deadline each still has to meet (the staff list):
    every case overdue on any deadline comes before every case on time, so the limit never
    cuts an overdue case while fewer than ``limit`` are overdue."""
    rows = await conn.execute(
        _BASE.where(complaints.c.status.in_(OPEN_COMPLAINT_STATUSES))
        .order_by(_first_open_deadline(), complaints.c.due_on, complaints.c.created_at)
        .limit(limit)
    )
    return [_row(r) for r in rows]


async def filed_since(
    conn: AsyncConnection, contact_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """How many complaints each contact filed since ``since`` (the daily limit)."""
    if not contact_ids:
        return {}
    rows = await conn.execute(
        select(complaints.c.contact_id, func.count())
        .where(complaints.c.contact_id.in_(list(contact_ids)), complaints.c.created_at >= since)
        .group_by(complaints.c.contact_id)
    )
    return {int(r[0]): int(r[1]) for r in rows}


@dataclass(frozen=True, slots=True)
class NewFile:
    media: str
    size: int
    file_id: str
    name: str
    mime: str
    note: str = ""  # the caption sent with it


async def insert_complaint(
    conn: AsyncConnection,
    values: dict[str, Any],
    files: Sequence[NewFile],
    channel: str,
    actor: str,
) -> int | None:
    """Stores a new complaint with its first history entry; None when the same draft was
    stored already (a repeated submission creates one case)."""
    result = await conn.execute(
        insert_ignore(conn, complaints, ("draft_id",)).returning(complaints.c.id), [values]
    )
    found = result.first()
    if found is None:
        return None
    complaint_id = int(found[0])
    await _add_files(conn, complaint_id, files, channel, values["created_at"])
    await conn.execute(
        complaint_events.insert().values(
            complaint_id=complaint_id,
            at=values["created_at"],
            actor=actor,
            from_status=None,
            to_status=values["status"],
            note=None,
            public=True,
        )
    )
    return complaint_id


async def _add_files(
    conn: AsyncConnection,
    complaint_id: int,
    files: Sequence[NewFile],
    channel: str,
    now: datetime,
) -> None:
    if not files:
        return
    await conn.execute(
        complaint_files.insert(),
        [
            {
                "complaint_id": complaint_id,
                "media": f.media,
                "file_name": f.name or None,
                "mime": f.mime or None,
                "size": f.size,
                "channel": channel,
                "channel_file_id": f.file_id,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "note": f.note[:500] or None,
            }
            for f in files
        ],
    )


async def change_complaint(
    conn: AsyncConnection,
    code: str,
    *,
    to_status: str,
    note: str | None,
    public: bool,
    actor: str,
    at: datetime,
    duplicate_of: str | None,
    files: Sequence[NewFile],
    channel: str,
    forwarded_to: str | None = None,
    forwarded_on: date | None = None,
    action: str | None = None,
    actor_name: str | None = None,
    assign: tuple[str, str] | None = None,
    unassign: bool = False,
) -> bool:
    """Moves a complaint to a status and records who, when, from what, and the note.

    ``forwarded_to``/``forwarded_on``: the competent body an out-of-remit case went to, and
    the local day (NĐ 20/2008, Điều 9(1)(d)); kept on the case beside its deadline.

    ``assign``: the officer (actor id, shown name) who has the case from now on;
    ``unassign``: nobody has it any more (handed back). ``action`` names what staff did when
    it is more than a status change (take, takeover, release, note).
    """
    stmt = select(complaints.c.id, complaints.c.status).where(complaints.c.code == code)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found = (await conn.execute(stmt)).first()
    if found is None:
        return False
    complaint_id, from_status = int(found[0]), str(found[1])
    values: dict[str, Any] = {"status": to_status, "updated_at": at}
    if forwarded_to is not None:
        values["forwarded_to"] = forwarded_to[:200]
        values["forwarded_on"] = forwarded_on
    if assign is not None:
        values["assignee"], values["assignee_name"] = assign[0][:40], assign[1][:64]
    elif unassign:
        values["assignee"] = values["assignee_name"] = None
    if from_status == "new" and to_status != "new":
        # The sender is told at the first change away from "new" (Luật Tiếp công dân 2013,
        # Điều 28(1)); a case handed back to "new" later keeps that day.
        values["accepted_at"] = func.coalesce(complaints.c.accepted_at, at)
    if duplicate_of is not None:
        values["duplicate_of"] = (
            select(complaints.c.id).where(complaints.c.code == duplicate_of).scalar_subquery()
        )
    await conn.execute(update(complaints).where(complaints.c.id == complaint_id).values(values))
    await conn.execute(
        complaint_events.insert().values(
            complaint_id=complaint_id,
            at=at,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            note=note,
            public=public,
            action=action,
            actor_name=(actor_name or None) and actor_name[:64],
        )
    )
    await _add_files(conn, complaint_id, files, channel, at)
    return True


async def rate_complaint(conn: AsyncConnection, code: str, rating: int, at: datetime) -> bool:
    result = await conn.execute(
        update(complaints)
        .where(complaints.c.code == code, complaints.c.rating.is_(None))
        .values(rating=rating, rated_at=at)
    )
    return bool(result.rowcount)
