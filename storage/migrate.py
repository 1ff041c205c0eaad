"""Applies the Alembic migrations to the database (``python -m bot migrate``, and at start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import write_transaction

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x51BA5_0001  # any constant shared by every process of this project


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the schema up to ``revision`` in one transaction (PostgreSQL DDL is transactional)."""
    async with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Several processes may start at once; only one migrates, the others wait.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), revision))


async def current(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
