"""Databases for tests: a SQLite file per test, a fresh PostgreSQL schema per test (or a
whole database, for a bot process)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import migrate, open_engine
from storage.db import private_sqlite_file


def _worker_url(url: str, worker: str) -> str:
    """The database of one pytest-xdist worker (``gw0``, ``gw1``…): ``<name>_<worker>`` on
    the same server, so that workers never share a schema list, an advisory lock or a
    rewrite's wait for older transactions. Without a worker (no ``-n``): ``url`` itself."""
    if not url or not worker:
        return url
    base, name = url.rsplit("/", 1)
    return f"{base}/{name}_{worker}"


#: The server and database the run was given (README: ``TEST_POSTGRES_URL``).
GIVEN_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
#: The one this process's tests use: the given one, or its worker's copy under xdist.
POSTGRES_URL = _worker_url(GIVEN_POSTGRES_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))
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
    _admin_run(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        _admin_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: Set (to anything) to run the Alembic migrations for every test's database, as before the
#: shortcut below.
FULL_MIGRATIONS = bool(os.environ.get("TEST_FULL_MIGRATIONS"))


@dataclass(slots=True)
class _Migrated:
    """What a fresh database looks like once migrated, kept by this test process: the SQLite
    file's bytes, and the statements Alembic ran on PostgreSQL (DDL and the version rows, all
    without parameters; the reads it made between them change nothing)."""

    sqlite_file: bytes | None = None
    postgres_script: str | None = None


_MIGRATED = _Migrated()


async def migrated(database: Database) -> AsyncEngine:
    """``database`` opened and brought to the latest migration. A new, empty one gets a copy
    of the first one this process migrated (SQLite: the file's bytes; PostgreSQL: the
    statements Alembic ran, replayed in one transaction): about 0.5 s less per test, with the
    same tables, indexes and version (``tests/storage/test_migrated_copies.py`` compares
    them). A database that already holds tables is migrated by Alembic, like a process
    would (``TEST_FULL_MIGRATIONS`` does it for all)."""
    if make_url(database.url).get_backend_name() == "sqlite":
        return await _migrated_sqlite(database)
    engine = database.open()
    if FULL_MIGRATIONS or not await _empty_schema(engine):
        await migrate(engine)
    elif _MIGRATED.postgres_script is None:
        _MIGRATED.postgres_script = await _recorded_migration(engine)
    else:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(_MIGRATED.postgres_script)  # type: ignore[union-attr]
    return engine


async def _migrated_sqlite(database: Database) -> AsyncEngine:
    path = Path(make_url(database.url).database or "")
    fresh = (
        not FULL_MIGRATIONS
        and str(path) not in ("", ":memory:")
        and (not path.exists() or path.stat().st_size == 0)
        and not Path(f"{path}-wal").exists()
    )
    if fresh:
        if _MIGRATED.sqlite_file is None:
            with tempfile.TemporaryDirectory() as folder:
                first = Database(f"sqlite+aiosqlite:///{Path(folder) / 'migrated.db'}")
                engine = first.open()
                await migrate(engine)
                await engine.dispose()  # the last connection's close folds the WAL in
                _MIGRATED.sqlite_file = (Path(folder) / "migrated.db").read_bytes()
        private_sqlite_file(path)
        path.write_bytes(_MIGRATED.sqlite_file)
    engine = database.open()
    if not fresh:
        await migrate(engine)
    return engine


async def _empty_schema(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        )
        return int(found.scalar_one()) == 0


async def _recorded_migration(engine: AsyncEngine) -> str:
    """Migrates ``engine``'s empty schema with Alembic and returns what it wrote, as one
    script: every statement sent without parameters but reads (``SELECT``)."""
    statements: list[str] = []

    def record(
        conn: object, cursor: object, statement: str, parameters: object, *args: object
    ) -> None:
        if not parameters and not statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement.strip().rstrip(";"))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await migrate(engine)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    return ";\n".join(statements) + ";"


def _admin_run(statement: str) -> None:
    """Runs ``statement`` outside a transaction on the server's given database (``CREATE`` and
    ``DROP DATABASE`` cannot run in one)."""

    async def run() -> None:
        admin = create_async_engine(GIVEN_POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await admin.dispose()

    asyncio.run(run())


def create_worker_database() -> None:
    """Under pytest-xdist, a fresh database for this worker (one left by a killed run is
    dropped first); nothing without a worker or without ``TEST_POSTGRES_URL``."""
    if POSTGRES_URL == GIVEN_POSTGRES_URL:
        return
    name = POSTGRES_URL.rsplit("/", 1)[1]
    _admin_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_run(f'CREATE DATABASE "{name}"')


def drop_worker_database() -> None:
    """Drops what :func:`create_worker_database` made."""
    if POSTGRES_URL == GIVEN_POSTGRES_URL:
        return
    _admin_run(f'DROP DATABASE IF EXISTS "{POSTGRES_URL.rsplit("/", 1)[1]}" WITH (FORCE)')
