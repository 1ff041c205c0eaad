"""Shared fixtures: databases (SQLite always, PostgreSQL with TEST_POSTGRES_URL), clock, ids."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "true")  # as bot/__main__ does, before telegram loads

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.clock import SequentialClock, SequentialIds
from tests.support.db import (
    POSTGRES_URL,
    SKIP_POSTGRES,
    Database,
    create_worker_database,
    drop_worker_database,
    migrated,
    postgres_schema,
)


def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist each worker has a PostgreSQL database of its own (tests/support/db.py);
    # the bot processes the tests start read TEST_POSTGRES_URL too.
    create_worker_database()
    if POSTGRES_URL:
        os.environ["TEST_POSTGRES_URL"] = POSTGRES_URL


def pytest_unconfigure(config: pytest.Config) -> None:
    drop_worker_database()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the rendered texts in tests/transcripts from the current catalogs",
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        yield Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        return
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    async with postgres_schema() as db:
        yield db


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    eng = await migrated(database)
    yield eng
    await eng.dispose()


@pytest.fixture
def clock() -> SequentialClock:
    return SequentialClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()
