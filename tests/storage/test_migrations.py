"""Migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

import storage
from storage import migrate
from storage.migrate import current
from storage.outbound import EditMessage, FileMessage, ImageMessage, TextMessage
from storage.queries.outbox import pending
from storage.schema import metadata, outbox
from tests.support.db import Database


async def test_migrated_schema_matches_metadata(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []


def _head() -> str:
    """The one head of the revision files (a second head would be a broken chain)."""
    script = ScriptDirectory(str(Path(storage.__file__).parent / "migrations"))
    heads = script.get_heads()
    assert len(heads) == 1, heads
    return heads[0]


async def test_migrate_is_idempotent(engine: AsyncEngine) -> None:
    await migrate(engine)
    assert await current(engine) == _head()


async def test_queued_messages_of_the_old_form_survive_the_upgrade(database: Database) -> None:
    """Rows queued before 0006 (``{"op": …}`` dicts, base64 bytes) leave after the upgrade as
    typed messages, bytes in outbox_blobs."""
    engine = database.open()
    try:
        await migrate(engine, "0005")
        old = [
            {"key": "survey.q", "text": "Câu 1", "choices": [["1.1:5", "5"]]},
            {
                "op": "edit",
                "message_id": "42",
                "key": "choice.answered",
                "text": "→ 5",
                "choices": [],
            },
            {
                "op": "photo",
                "key": "digest.chart",
                "data": base64.b64encode(b"PNG").decode(),
                "name": "c.png",
                "text": "",
            },
            {"op": "file", "file": 7, "key": "file", "text": "ảnh 1"},
        ]
        async with engine.begin() as conn:
            for payload in old:
                await conn.execute(
                    outbox.insert().values(
                        channel="telegram", chat_id="1", payload=payload, status="pending",
                        attempts=0, created_at=datetime(2026, 1, 1, tzinfo=UTC),
                    )
                )  # fmt: skip
        await migrate(engine)
        async with engine.connect() as conn:
            rows = await pending(conn, "telegram", datetime(2026, 1, 2, tzinfo=UTC))
        assert [r.message for r in rows] == [
            TextMessage("Câu 1", (("1.1:5", "5"),), "survey.q"),
            EditMessage("42", "→ 5", (), "choice.answered"),
            ImageMessage(b"PNG", "c.png"),
            FileMessage(7, "ảnh 1"),
        ]
    finally:
        await engine.dispose()


async def test_no_response_table_can_reach_a_chat(engine: AsyncEngine) -> None:
    """Anonymity by construction: responses and answers have no path to contacts."""
    async with engine.connect() as conn:

        def foreign_tables(sync, table: str) -> set[str]:  # type: ignore[no-untyped-def]
            return {fk["referred_table"] for fk in inspect(sync).get_foreign_keys(table)}

        def columns(sync, table: str) -> set[str]:  # type: ignore[no-untyped-def]
            return {c["name"] for c in inspect(sync).get_columns(table)}

        assert await conn.run_sync(foreign_tables, "survey_responses") == set()
        assert await conn.run_sync(foreign_tables, "answers") == {"survey_responses"}
        assert await conn.run_sync(foreign_tables, "receipts") == set()
        for table in ("survey_responses", "answers", "receipts"):
            cols = await conn.run_sync(columns, table)
            assert not cols & {"contact_id", "chat_id", "external_id", "conversation_id"}
        assert "receipt_id" not in await conn.run_sync(columns, "survey_responses")


#: Tables dropped because nothing reads or writes them any more, with the migration that
#: dropped each: they must not come back in the schema or in the metadata.
DROPPED = {"zalo_code_tries": "wrong short codes are counted in the conversation's daily counts"}


async def test_dropped_tables_are_gone(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert not tables & DROPPED.keys()
    assert not set(metadata.tables) & DROPPED.keys()
