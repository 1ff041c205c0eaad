"""Opens the database: SQLite (WAL, busy timeout, durable commits) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: The SQLite file holds complaints and contact data: owner read/write only. SQLite gives
#: its ``-wal`` and ``-shm`` files the main file's mode, so they follow.
PRIVATE_FILE_MODE = 0o600
#: A folder this process creates for the database: owner only.
PRIVATE_DIR_MODE = 0o700
#: A database error's text names the statement's parameters unless told not to, and
#: parameters are what citizens wrote: an error that reaches a log must not carry them.
HIDE_PARAMETERS = True
_IMMEDIATE = "storage_write"


def is_sqlite(engine: AsyncEngine | AsyncConnection) -> bool:
    return engine.dialect.name == "sqlite"


def open_engine(url: str, *, pool_size: int = 5, schema: str | None = None) -> AsyncEngine:
    """An engine for ``url``; creates the SQLite file's folder when needed (mode 0700) and
    the file itself (mode 0600, see ``private_sqlite_file``).

    ``schema`` (PostgreSQL only) sets the search path, which lets each test use its own schema.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args: dict[str, Any] = {}
        if schema:
            connect_args["server_settings"] = {"search_path": schema}
        # pre_ping: after the server restarts or drops connections, a pooled connection is
        # checked before use, so the first request afterwards does not fail on a dead one.
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args=connect_args,
            pool_pre_ping=True,
            hide_parameters=HIDE_PARAMETERS,
        )
    database = parsed.database or ""
    if database and database != ":memory:":
        private_sqlite_file(Path(database).expanduser())
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        hide_parameters=HIDE_PARAMETERS,
    )
    _configure_sqlite(engine)
    return engine


def private_sqlite_file(path: Path) -> None:
    """Makes ``path`` (a SQLite database) readable by its owner only, before SQLite opens it:
    creates its folder (0700) and the empty file (0600) when missing, so no other account
    ever reads a byte of it; an existing file, and its ``-wal`` and ``-shm`` left by an
    earlier run, lose any group or other bits (databases made by older versions were 0644).
    SQLite makes ``-wal`` and ``-shm`` with the main file's mode. Raises ``OSError`` when
    the folder cannot be made or the file cannot be created or changed (another owner)."""
    folder = path.parent
    if not folder.exists():
        # The umask only takes bits away: 0700 or less, never more. Folders above it that
        # are made too are the caller's working tree, left to the umask.
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = name.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(name, mode & 0o700)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is off; we emit BEGIN ourselves (below), so a
        # writer can take the lock up front with BEGIN IMMEDIATE instead of failing to
        # upgrade a read lock later.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed event survives a power cut
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Freed space is overwritten with zeros: a survey's answers in an old conversation
        # state, or a deleted row, do not stay readable in the file's free pages or cells.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: One writer at a time per SQLite engine, queued in this process: SQLite has one write lock,
#: and a connection that finds it taken sleeps in SQLite's busy handler (1, 2, 5, 10, … ms)
#: rather than being told when it is free, so two of our own transactions contending would
#: cost tens of milliseconds. Other processes still meet the busy timeout.
_WRITERS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def _writer(engine: AsyncEngine) -> asyncio.Lock:
    lock = _WRITERS.get(engine.sync_engine)
    if lock is None:
        lock = _WRITERS[engine.sync_engine] = asyncio.Lock()
    return lock


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write: on SQLite it holds the write lock from the start (and
    waits its turn behind this process's other writers without polling)."""
    if is_sqlite(engine):
        async with _writer(engine), engine.connect() as conn:
            conn = await conn.execution_options(**{_IMMEDIATE: True})
            async with conn.begin():
                yield conn
        return
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{_IMMEDIATE: True})
        async with conn.begin():
            yield conn


def place(url: str) -> str:
    """Where ``url`` points, fit to print: ``host:port/database`` (PostgreSQL) or the file
    (SQLite); never the user name or the password. "?" for a URL that is none."""
    try:
        parsed = make_url(url)
    except Exception:
        return "?"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


async def unreachable(url: str) -> str | None:
    """None when a connection to ``url`` opens and answers; else the class of the error
    that stopped it, the innermost one (``ConnectionRefusedError``, ``InvalidPasswordError``,
    ``InvalidCatalogNameError``, ``OperationalError`` …). Only the class: a driver's message
    may quote the URL, password and all. Checked once at start, so that an unreachable
    database is told in one line rather than as a traceback."""
    engine: AsyncEngine | None = None
    try:
        engine = open_engine(url, pool_size=1)
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        inner: BaseException = exc
        while inner.__cause__ is not None:
            inner = inner.__cause__
        return type(inner).__name__
    finally:
        if engine is not None:
            await engine.dispose()
    return None


#: How long the health check waits for SQLite's write lock before it says the database is
#: locked (a writer never holds it that long: each batch is one short transaction).
HEALTH_LOCK_WAIT_MS = 2_000


async def can_write(engine: AsyncEngine) -> bool:
    """Whether a write could start now. On SQLite, readers are never blocked (WAL), so only
    taking the write lock (BEGIN IMMEDIATE, then ROLLBACK) shows a database locked by another
    process or a stuck transaction; waits up to ``HEALTH_LOCK_WAIT_MS``. On PostgreSQL, a
    round trip. Database errors propagate (the caller reports them)."""
    async with engine.connect() as conn:
        if not is_sqlite(engine):
            await conn.exec_driver_sql("SELECT 1")
            return True
        pooled = await conn.get_raw_connection()
        driver: Any = pooled.driver_connection
        await driver.execute(f"PRAGMA busy_timeout={HEALTH_LOCK_WAIT_MS}")
        try:
            await driver.execute("BEGIN IMMEDIATE")
        except Exception as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False
            raise
        finally:
            await driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        await driver.execute("ROLLBACK")
        return True


#: How often a checkpoint that found readers in the way is tried again, and how long each
#: try waits for them: a batch that ended a survey waits at most about a second for it.
CHECKPOINT_TRIES = 4
CHECKPOINT_WAIT_MS = 250


async def scrub_log(engine: AsyncEngine) -> bool:
    """Copies SQLite's write-ahead log into the database and empties it (TRUNCATE), so the
    older page versions it holds (a conversation state with a survey's answers and response
    id, from before the survey ended) are gone from the files. True when the log was emptied;
    on PostgreSQL, nothing to do (True). Waits for readers ``CHECKPOINT_TRIES`` times
    ``CHECKPOINT_WAIT_MS``; if they are still there, the next ended survey empties it."""
    if not is_sqlite(engine):
        return True
    for _ in range(CHECKPOINT_TRIES):
        async with engine.connect() as conn:
            # On the driver's connection, outside any transaction (one would hold the log).
            pooled = await conn.get_raw_connection()
            driver: Any = pooled.driver_connection
            await driver.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                row = await cursor.fetchone()
                await cursor.close()
            finally:
                await driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if row is not None and row[0] == 0:
            return True
        await asyncio.sleep(0.05)
    return False


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn, conn.begin():
        yield conn
