"""The tests' shortcut for a fresh database (``tests.support.db.migrated``: a copy of the first
one migrated, instead of running every Alembic migration again) gives the very schema that
Alembic gives: same tables, columns, types, defaults, indexes, constraints, triggers and
version. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from tests.support.db import (
    POSTGRES_URL,
    SKIP_POSTGRES,
    Database,
    migrated,
    postgres_schema,
)

_SQLITE = (
    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
    "SELECT version_num FROM alembic_version",
)
#: The schema name is left out (each copy has its own); ``indexdef`` and trigger definitions
#: name it, so it is cut from them.
_POSTGRES = (
    "SELECT table_name, column_name, ordinal_position, data_type, column_default, is_nullable,"
    " character_maximum_length FROM information_schema.columns"
    " WHERE table_schema = current_schema() ORDER BY 1, 3",
    "SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '')"
    " FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2",
    "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k"
    " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() ORDER BY 1, 2",
    "SELECT c.relname, t.tgname, replace(pg_get_triggerdef(t.oid), current_schema() || '.', '')"
    " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND NOT t.tgisinternal ORDER BY 1, 2",
    "SELECT c.relname, c.relkind, c.relpersistence FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
    " ORDER BY 1",
    "SELECT version_num FROM alembic_version",
)


async def _catalog(engine: AsyncEngine) -> list[list[tuple[object, ...]]]:
    queries = _SQLITE if engine.dialect.name == "sqlite" else _POSTGRES
    async with engine.connect() as conn:
        return [[tuple(row) for row in await conn.execute(text(q))] for q in queries]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[str], AbstractAsyncContextManager[Database]]:
    """Makes a new, empty database per call (a file, or a schema)."""

    @asynccontextmanager
    async def make(name: str) -> AsyncIterator[Database]:
        if request.param == "sqlite":
            yield Database(f"sqlite+aiosqlite:///{tmp_path / name}.db")
            return
        if not POSTGRES_URL:
            pytest.skip(SKIP_POSTGRES)
        async with postgres_schema() as db:
            yield db

    return make


async def test_a_copied_fresh_database_is_the_one_alembic_makes(
    fresh: Callable[[str], AbstractAsyncContextManager[Database]],
) -> None:
    async with fresh("first") as first, fresh("copy") as copy, fresh("alembic") as plain:
        engines = [await migrated(first), await migrated(copy)]
        by_alembic = plain.open()
        await migrate(by_alembic)
        engines.append(by_alembic)
        try:
            catalogs = [await _catalog(engine) for engine in engines]
            assert catalogs[2][0], "the catalog query found nothing"
            assert catalogs[0] == catalogs[2]
            assert catalogs[1] == catalogs[2]
        finally:
            for engine in engines:
                await engine.dispose()


async def test_a_database_already_migrated_is_not_overwritten(
    fresh: Callable[[str], AbstractAsyncContextManager[Database]],
) -> None:
    async with fresh("kept") as db:
        engine = await migrated(db)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE kept_here (n INTEGER)"))
            await conn.execute(text("INSERT INTO kept_here VALUES (7)"))
        await engine.dispose()
        again = await migrated(db)
        try:
            async with again.connect() as conn:
                assert (await conn.execute(text("SELECT n FROM kept_here"))).scalar_one() == 7
        finally:
            await again.dispose()
