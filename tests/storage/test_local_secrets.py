"""The log salt older versions kept in ``local_secrets`` is forgotten when the bot starts: with
it, whoever holds the database recomputes the chat pseudonyms of old log lines (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.runtime.build import OLD_LOG_SALT, build_runtime
from storage import open_engine, read_transaction, write_transaction
from storage.queries.local_secrets import forget_local_secret
from storage.schema import local_secrets

AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


async def _names(engine: AsyncEngine) -> list[str]:
    async with read_transaction(engine) as conn:
        rows = await conn.execute(select(local_secrets.c.name).order_by(local_secrets.c.name))
        return [r[0] for r in rows]


async def test_forget_deletes_only_the_named_secret(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(
            insert(local_secrets),
            [
                {"name": OLD_LOG_SALT, "value": "a" * 43, "created_at": AT},
                {"name": "other", "value": "b" * 43, "created_at": AT},
            ],
        )
    async with write_transaction(engine) as conn:
        assert await forget_local_secret(conn, OLD_LOG_SALT)
    async with write_transaction(engine) as conn:
        assert not await forget_local_secret(conn, OLD_LOG_SALT)  # twice: nothing left
    assert await _names(engine) == ["other"]


async def test_start_forgets_the_stored_log_salt(tmp_path: Path) -> None:
    """SQLite only: the runtime is built from a URL, as ``python -m bot`` does."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    first = await build_runtime(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    async with write_transaction(first.engine) as conn:
        await conn.execute(
            insert(local_secrets), [{"name": OLD_LOG_SALT, "value": "a" * 43, "created_at": AT}]
        )
    await first.close()
    again = await build_runtime(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    await again.close()
    engine = open_engine(url)
    try:
        assert await _names(engine) == []
    finally:
        await engine.dispose()
