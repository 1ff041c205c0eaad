"""Cases filed before ``accepted_at`` was kept take it from their history at the upgrade:
the first change away from "new" (a case handed back since keeps it; one never taken has
none). On SQLite, and PostgreSQL when TEST_POSTGRES_URL is set."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import select

import storage
from storage import migrate
from storage.schema import complaint_events, complaints
from tests.support.db import Database

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
TAKEN = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
BACK = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
AGAIN = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)


def _before_accepted_at() -> str:
    script = ScriptDirectory(str(Path(storage.__file__).parent / "migrations"))
    found = [r for r in script.walk_revisions() if r.revision.endswith("_accepted_at")]
    assert len(found) == 1
    down = found[0].down_revision
    assert isinstance(down, str)
    return down


async def test_the_upgrade_takes_accepted_at_from_the_history(database: Database) -> None:
    engine = database.open()
    try:
        await migrate(engine, _before_accepted_at())
        # code: the history's (from, to, at) after filing
        cases = {
            "PA-2026-000001": [("new", "in_progress", TAKEN), ("in_progress", "new", BACK),
                               ("new", "in_progress", AGAIN)],
            "PA-2026-000002": [],
            "PA-2026-000003": [("new", "waiting_citizen", BACK)],
        }  # fmt: skip
        async with engine.begin() as conn:
            for n, (code, steps) in enumerate(cases.items()):
                row = {
                    "code": code, "draft_id": 100 + n, "category": "thutuc",
                    "description": "Chậm.", "status": "new", "source": "chat",
                    "anonymous": True, "language": "vi", "created_at": T0,
                    "updated_at": T0, "due_on": date(2026, 4, 30),
                }  # fmt: skip
                inserted = await conn.execute(complaints.insert().values(row))
                key = inserted.inserted_primary_key
                assert key is not None
                cid = int(key[0])
                events = [(None, "new", T0), *steps]
                await conn.execute(
                    complaint_events.insert(),
                    [
                        {"complaint_id": cid, "at": at, "actor": "staff:1",
                         "from_status": src, "to_status": to, "public": False}
                        for src, to, at in events
                    ],
                )  # fmt: skip
        await migrate(engine)
        async with engine.connect() as conn:
            rows = await conn.execute(select(complaints.c.code, complaints.c.accepted_at))
            found = {str(r[0]): r[1] for r in rows}
        assert found == {"PA-2026-000001": TAKEN, "PA-2026-000002": None, "PA-2026-000003": BACK}
    finally:
        await engine.dispose()
