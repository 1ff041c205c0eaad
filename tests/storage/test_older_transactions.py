"""The rewrite's wait for older transactions (PostgreSQL, ``until_older_transactions_end``):
it waits for this database's open snapshots and for every open transaction of the server
(their ids bound every snapshot), but not for a snapshot held in another database, which
PostgreSQL does not keep this database's old row versions for (``ComputeXidHorizons``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage.queries.rewrites import until_older_transactions_end
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES

pytestmark = pytest.mark.postgres


@pytest.fixture
async def two_databases() -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """This database (the tests') and another one on the same server."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    name = f"other_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    here = create_async_engine(POSTGRES_URL)
    other = create_async_engine(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        yield here, other
    finally:
        await here.dispose()
        await other.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _snapshot(conn: AsyncConnection) -> None:
    """Holds a snapshot (no transaction id): a long report's read."""
    await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    await conn.execute(text("SELECT 1"))


async def _a_write_commits(engine: AsyncEngine) -> None:
    """A transaction that takes an id and commits after the snapshot was taken: what it
    deleted, the older snapshot may still read (what the wait is for)."""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT txid_current()"))


async def test_a_snapshot_in_another_database_is_not_waited_for(
    two_databases: tuple[AsyncEngine, AsyncEngine],
) -> None:
    here, other = two_databases
    async with other.connect() as report:
        await _snapshot(report)
        await _a_write_commits(here)
        assert await until_older_transactions_end(here, 1.0)
        await report.rollback()


async def test_a_snapshot_in_this_database_is_waited_for(
    two_databases: tuple[AsyncEngine, AsyncEngine],
) -> None:
    here, _ = two_databases
    async with here.connect() as report:
        await _snapshot(report)
        await _a_write_commits(here)
        assert not await until_older_transactions_end(here, 1.0)
        await report.rollback()


async def test_an_open_transaction_in_another_database_is_waited_for(
    two_databases: tuple[AsyncEngine, AsyncEngine],
) -> None:
    here, other = two_databases
    async with other.connect() as writer:
        await writer.execute(text("SELECT txid_current()"))  # the transaction takes an id
        await _a_write_commits(here)
        assert not await until_older_transactions_end(here, 1.0)
        await writer.rollback()
