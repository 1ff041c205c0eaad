"""``contacts.created_at`` is kept to the hour (issue 10, anonymity): a new contact gets the
hour, and the upgrade rounds those kept to the second. Its reader, the digests' first
contact, still finds the day. On SQLite, and PostgreSQL when TEST_POSTGRES_URL is set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

import storage
from storage import migrate, read_transaction, write_transaction
from storage.queries.dialogue import load_conversations
from storage.queries.jobs import first_contact_at
from storage.schema import contacts
from tests.support.db import Database

EXACT = [
    datetime(2026, 11, 30, 2, 17, 43, 512_000, tzinfo=UTC),
    datetime(2026, 11, 30, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
]
HOURS = [
    datetime(2026, 11, 30, 2, tzinfo=UTC),
    datetime(2026, 11, 30, 23, tzinfo=UTC),
    datetime(2026, 12, 1, 5, tzinfo=UTC),
]


async def _created(engine: AsyncEngine) -> list[datetime]:
    async with read_transaction(engine) as conn:
        rows = await conn.execute(select(contacts.c.created_at).order_by(contacts.c.id))
        return [r[0] for r in rows]


async def test_a_new_contact_is_kept_to_the_hour(engine: AsyncEngine) -> None:
    for n, at in enumerate(EXACT):
        async with write_transaction(engine) as conn:
            await load_conversations(conn, [("telegram", f"90{n}")], at)
    assert await _created(engine) == HOURS
    async with read_transaction(engine) as conn:
        assert await first_contact_at(conn) == HOURS[0]


def _before() -> str:
    script = ScriptDirectory(str(Path(storage.__file__).parent / "migrations"))
    found = [r for r in script.walk_revisions() if r.revision.endswith("_contact_hour")]
    assert len(found) == 1
    down = found[0].down_revision
    assert isinstance(down, str)
    return down


async def test_the_upgrade_rounds_the_kept_times_down_to_the_hour(database: Database) -> None:
    engine = database.open()
    try:
        await migrate(engine, _before())
        async with engine.begin() as conn:
            await conn.execute(
                insert(contacts),
                [
                    {"channel": "zalo", "external_id": f"77{n}", "stopped": False, "created_at": at}
                    for n, at in enumerate(EXACT)
                ],
            )
        await migrate(engine)
        assert await _created(engine) == HOURS
    finally:
        await engine.dispose()
