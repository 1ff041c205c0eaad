"""Databases for the benchmarks: a fresh SQLite file, or a fresh PostgreSQL schema that is
dropped afterwards; both migrated."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import migrate, open_engine

POSTGRES_CONNECT_TIMEOUT_S = 5.0


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[AsyncEngine]:
    with tempfile.TemporaryDirectory(prefix="sipas-bench-") as folder:
        engine = open_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
        try:
            await migrate(engine)
            yield engine
        finally:
            await engine.dispose()


class Unreachable(Exception):
    """The PostgreSQL server named for the bench cannot be used."""


@asynccontextmanager
async def postgres_database(url: str) -> AsyncIterator[AsyncEngine]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, connect_args={"timeout": POSTGRES_CONNECT_TIMEOUT_S})
    try:
        try:
            async with asyncio.timeout(POSTGRES_CONNECT_TIMEOUT_S * 2), admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}".splitlines()[0][:200]) from exc
        engine = open_engine(url, schema=schema)
        try:
            await migrate(engine)
            yield engine
        finally:
            await engine.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await admin.dispose()
