"""Databases for tests: a SQLite file per test, a fresh PostgreSQL schema per test (or a
whole database, for a bot process)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import migrate, open_engine

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
SKIP_POSTGRES = "TEST_POSTGRES_URL is not set: the PostgreSQL run of this storage test is skipped"


@dataclass(frozen=True, slots=True)
class Database:
    """Where a test's data lives; ``open()`` gives a new engine, as a new process would."""

    url: str
    schema: str | None = None

    @property
    def kind(self) -> str:
        return "postgres" if self.schema else "sqlite"

    def open(self) -> AsyncEngine:
        return open_engine(self.url, schema=self.schema)


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[Database]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield Database(POSTGRES_URL, schema)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for a bot process (which cannot be given a schema)."""
    name = f"e2e_{uuid.uuid4().hex[:12]}"

    async def run(statement: str) -> None:
        admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await admin.dispose()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def migrated(database: Database) -> AsyncEngine:
    engine = database.open()
    await migrate(engine)
    return engine
