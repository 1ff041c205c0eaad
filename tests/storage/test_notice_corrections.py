"""A correction to the officer told a notice went when it did not (issue 15, re-tester #2), on
SQLite and PostgreSQL: an internal note in the case's history and a message queued to them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.notice_corrections import ACTOR, record_correction
from storage.queries.outbox import pending
from storage.schema import complaint_events, complaints

NOW = datetime(2026, 3, 12, 2, 0, tzinfo=UTC)
CODE = "PA-2026-000123"
STAFF = ("zalo", "5512300000000000001")


async def test_the_correction_is_in_the_history_and_queued_to_the_officer(
    engine: AsyncEngine,
) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(
            complaints.insert(),
            [
                {
                    "code": CODE,
                    "draft_id": 7001,
                    "category": "thutuc",
                    "description": "Hồ sơ chậm.",
                    "status": "resolved",
                    "source": "chat",
                    "anonymous": True,
                    "language": "vi",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "due_on": date(2026, 3, 20),
                }
            ],
        )
        assert await record_correction(conn, CODE, STAFF, "Sửa lại", "zalo7.fixed_held", NOW)
        assert not await record_correction(conn, "PA-2026-999999", STAFF, "x", "k", NOW)
    async with read_transaction(engine) as conn:
        found = await conn.execute(
            select(
                complaint_events.c.actor,
                complaint_events.c.from_status,
                complaint_events.c.to_status,
                complaint_events.c.note,
                complaint_events.c.public,
            )
        )
        assert [tuple(r) for r in found] == [(ACTOR, "resolved", "resolved", "Sửa lại", False)]
        [row] = await pending(conn, "zalo", NOW)
    assert row.chat_id == STAFF[1]
    assert row.message == TextMessage("Sửa lại", key="zalo7.fixed_held")
