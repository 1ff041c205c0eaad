"""What a batch writes for dossiers (``storage/write_flush.py``): invitations taken and closed,
follows, and the count of days from hand-over to answer.

- An invitation is taken once: a batch that takes one another chat took meanwhile (in another
  transaction) fails as a whole with ``ConcurrentUpdate`` and is retried, so two surveys never
  start from one slip.
- A dossier's ``followed_at`` is the first follow's time; later followers do not move it.
- The hand-over-to-answer days are counted by local day (the reports' day), one per survey.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import WriteSet, flush, read_transaction, write_transaction
from storage.queries.dossiers import NewDossier, insert_dossier
from storage.schema import contacts, dossier_answer_days, dossier_follows, dossiers
from storage.writes import ConcurrentUpdate

AT = datetime(2026, 11, 30, 3, tzinfo=UTC)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _explode(answers: Mapping[str, int | str], method: str) -> Mapping[tuple[str, str], int]:
    return {}  # the aggregates are not what this is about


async def _dossiers(engine: AsyncEngine, *invite: str | None) -> list[int]:
    """Registers one dossier per ``invite`` status given, returns their ids in that order."""
    ids = []
    async with write_transaction(engine) as conn:
        for n, status in enumerate(invite):
            new = NewDossier(
                code=f"HS-2026-{n:04d}",
                token=f"tok{n:021d}",
                client="motcua",
                procedure="1.009972",
                received_on=date(2026, 11, 2),
                due_on=date(2026, 11, 30),
            )
            assert await insert_dossier(conn, new, AT)
            found = await conn.execute(select(dossiers.c.id).where(dossiers.c.code == new.code))
            dossier_id = int(found.scalar_one())
            await conn.execute(
                update(dossiers).where(dossiers.c.id == dossier_id).values(invite_status=status)
            )
            ids.append(dossier_id)
    return ids


async def _flush(engine: AsyncEngine, ws: WriteSet) -> None:
    async with write_transaction(engine) as conn:
        await flush(conn, ws)


async def _statuses(engine: AsyncEngine, ids: list[int]) -> list[str | None]:
    async with read_transaction(engine) as conn:
        found = await conn.execute(select(dossiers.c.id, dossiers.c.invite_status))
        rows = dict(found.tuples().all())
    return [rows[i] for i in ids]


@pytest.mark.parametrize(
    "before",
    [
        ["in_progress"],  # taken by another chat meanwhile
        ["ended"],  # and even ended
        ["invited", "in_progress"],  # one of two: the whole batch fails
        ["in_progress", "invited"],
    ],
)
async def test_an_invitation_taken_meanwhile_fails_the_batch(
    engine: AsyncEngine, before: list[str]
) -> None:
    ids = await _dossiers(engine, *before)
    ws = WriteSet()
    for dossier_id in ids:
        ws.take_invitation(dossier_id, None)
    with pytest.raises(ConcurrentUpdate):
        await _flush(engine, ws)
    assert await _statuses(engine, ids) == before


async def test_invitations_still_open_are_taken_then_closed(engine: AsyncEngine) -> None:
    ids = await _dossiers(engine, "invited", "invited", "invited")
    ws = WriteSet()
    ws.take_invitation(ids[0], None)
    ws.take_invitation(ids[1], None)
    await _flush(engine, ws)
    assert await _statuses(engine, ids) == ["in_progress", "in_progress", "invited"]
    ws = WriteSet()
    ws.close_invitation(ids[0])
    ws.close_invitation(ids[2])  # never taken: closing it changes nothing
    await _flush(engine, ws)
    assert await _statuses(engine, ids) == ["ended", "in_progress", "invited"]


async def _contacts(engine: AsyncEngine, n: int) -> list[int]:
    async with write_transaction(engine) as conn:
        for i in range(n):
            await conn.execute(
                insert(contacts).values(channel="test", external_id=f"c{i}", created_at=AT)
            )
        rows = await conn.execute(select(contacts.c.id).order_by(contacts.c.external_id))
        return [int(r[0]) for r in rows]


async def test_a_dossier_keeps_its_first_follow_time(engine: AsyncEngine) -> None:
    (dossier_id,) = await _dossiers(engine, None)
    first, second = await _contacts(engine, 2)
    later = AT.replace(hour=9)
    ws = WriteSet()
    ws.follow(dossier_id, first, AT)
    await _flush(engine, ws)
    ws = WriteSet()
    ws.follow(dossier_id, second, later)
    ws.follow(dossier_id, first, later)  # followed again: the link is there already
    await _flush(engine, ws)
    async with read_transaction(engine) as conn:
        followed = (
            await conn.execute(select(dossiers.c.followed_at).where(dossiers.c.id == dossier_id))
        ).scalar_one()
        links = dict(
            (
                await conn.execute(
                    select(dossier_follows.c.contact_id, dossier_follows.c.followed_at)
                )
            )
            .tuples()
            .all()
        )
    assert followed == AT
    assert links == {first: AT, second: later}


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (HANOI, date(2026, 12, 1)),  # 18:30 UTC is 01:30 the next day in Hanoi
        (None, date(2026, 11, 30)),  # no zone given: the UTC day
    ],
)
async def test_answer_days_are_counted_by_local_day(
    engine: AsyncEngine, zone: ZoneInfo | None, day: date
) -> None:
    ids = await _dossiers(engine, *["invited"] * 4)
    late = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    ws = WriteSet()
    if zone is not None:
        ws.aggregate = (zone, _explode)
    for dossier_id, days in zip(ids, (3, 3, 5), strict=False):
        ws.take_invitation(dossier_id, (late, days))
    await _flush(engine, ws)
    ws = WriteSet()
    if zone is not None:
        ws.aggregate = (zone, _explode)
    ws.take_invitation(ids[3], (late, 3))  # another batch: added to the day's count
    await _flush(engine, ws)
    async with read_transaction(engine) as conn:
        rows = (await conn.execute(select(dossier_answer_days))).tuples().all()
    assert sorted(rows) == [(day, 3, 3), (day, 5, 1)]


async def test_deleting_ones_data_ends_only_ones_own_follows(engine: AsyncEngine) -> None:
    (dossier_id,) = await _dossiers(engine, None)
    mine, theirs = await _contacts(engine, 2)
    ws = WriteSet()
    ws.follow(dossier_id, mine, AT)
    ws.follow(dossier_id, theirs, AT)
    await _flush(engine, ws)
    ws = WriteSet()
    ws.forget(mine, None)
    await _flush(engine, ws)
    async with read_transaction(engine) as conn:
        left = (await conn.execute(select(dossier_follows.c.contact_id))).scalars().all()
    assert left == [theirs]


async def test_an_unfollow_removes_that_chat_from_that_dossier_only(engine: AsyncEngine) -> None:
    one, two = await _dossiers(engine, None, None)
    first, second = await _contacts(engine, 2)
    ws = WriteSet()
    for dossier_id in (one, two):
        for contact_id in (first, second):
            ws.follow(dossier_id, contact_id, AT)
    await _flush(engine, ws)
    ws = WriteSet()
    ws.unfollow(one, first)
    await _flush(engine, ws)
    async with read_transaction(engine) as conn:
        links = set(
            (await conn.execute(select(dossier_follows.c.dossier_id, dossier_follows.c.contact_id)))
            .tuples()
            .all()
        )
    assert links == {(one, second), (two, first), (two, second)}


async def test_a_follow_marks_only_its_own_dossier_as_followed(engine: AsyncEngine) -> None:
    one, two = await _dossiers(engine, None, None)
    (first,) = await _contacts(engine, 1)
    ws = WriteSet()
    ws.follow(one, first, AT)
    await _flush(engine, ws)
    async with read_transaction(engine) as conn:
        followed = dict(
            (await conn.execute(select(dossiers.c.id, dossiers.c.followed_at))).tuples().all()
        )
    assert followed == {one: AT, two: None}
