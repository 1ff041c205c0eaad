"""Migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.migrate import current
from storage.schema import metadata


async def test_migrated_schema_matches_metadata(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []


async def test_migrate_is_idempotent(engine: AsyncEngine) -> None:
    await migrate(engine)
    assert await current(engine) == "0006"


async def test_no_response_table_can_reach_a_chat(engine: AsyncEngine) -> None:
    """Anonymity by construction: responses and answers have no path to contacts."""
    async with engine.connect() as conn:

        def foreign_tables(sync, table: str) -> set[str]:  # type: ignore[no-untyped-def]
            return {fk["referred_table"] for fk in inspect(sync).get_foreign_keys(table)}

        def columns(sync, table: str) -> set[str]:  # type: ignore[no-untyped-def]
            return {c["name"] for c in inspect(sync).get_columns(table)}

        assert await conn.run_sync(foreign_tables, "survey_responses") == {"receipts"}
        assert await conn.run_sync(foreign_tables, "answers") == {"survey_responses"}
        assert await conn.run_sync(foreign_tables, "receipts") == set()
        for table in ("survey_responses", "answers", "receipts"):
            cols = await conn.run_sync(columns, table)
            assert not cols & {"contact_id", "chat_id", "external_id", "conversation_id"}
