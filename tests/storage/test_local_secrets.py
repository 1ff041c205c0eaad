"""``local_secrets`` (issue 10): the log salt older versions kept there is forgotten when the
bot starts (with it, whoever holds the database recomputes the chat pseudonyms of old log
lines); the survey marks' key is made there on first run when ``RECEIPT_SECRET`` is unset,
and is the same after a restart and for two processes starting at once, so the rule of one
survey without a receipt per period survives them. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.runtime.build import MARK_KEY, OLD_LOG_SALT, build_runtime
from bot.runtime.dispatch import Handled
from conversations import Command, InboundEvent
from storage import open_engine, read_transaction, write_transaction
from storage.queries.local_secrets import forget_local_secret, local_secret
from storage.schema import local_secrets
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES, Database, postgres_database
from tests.support.surveys import complete_survey

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
        assert await _names(engine) == [MARK_KEY]  # the survey marks' key, no log salt
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bot_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database for ``build_runtime`` as ``python -m bot`` opens it (from its URL)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    with postgres_database() as url:
        yield url


def _settings(url: str) -> Settings:
    return Settings(database_url=url, receipt_secret=None, _env_file=None)  # type: ignore[call-arg]


async def test_a_restart_keeps_the_mark_key_and_refuses_a_second_open_survey(
    bot_url: str,
) -> None:
    first = await build_runtime(_settings(bot_url))
    key = first.dispatcher.settings.survey_mark_key
    await complete_survey(first.dispatcher, "8801", random.Random(5), channel="telegram")
    await first.close()
    again = await build_runtime(_settings(bot_url))
    try:
        assert again.dispatcher.settings.survey_mark_key == key
        (handled,) = await again.dispatcher.process(
            [InboundEvent("after-restart", "telegram", "8801", Command("khaosat"))]
        )
        assert isinstance(handled, Handled)
        assert next(m.key for m in handled.messages) == "survey.open_used"
        async with read_transaction(again.engine) as conn:
            rows = (await conn.execute(select(local_secrets.c.name))).scalars().all()
        assert rows == [MARK_KEY]  # the key only: never a log salt
    finally:
        await again.close()


async def test_a_set_receipt_secret_is_the_key_and_nothing_is_stored(bot_url: str) -> None:
    settings = Settings(database_url=bot_url, receipt_secret=SecretStr("k" * 24), _env_file=None)  # type: ignore[call-arg]
    runtime = await build_runtime(settings)
    try:
        assert runtime.dispatcher.settings.survey_mark_key == b"k" * 24
        assert await _names(runtime.engine) == []
    finally:
        await runtime.close()


async def test_two_processes_starting_at_once_share_one_key(database: Database) -> None:
    from tests.support.db import migrated

    engines = [await migrated(database), database.open(), database.open()]
    made = iter(["first", "second", "third"])

    async def start(engine: AsyncEngine) -> str:
        async with write_transaction(engine) as conn:
            return await local_secret(conn, MARK_KEY, lambda: next(made), AT)

    try:
        keys = await asyncio.gather(*(start(e) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(set(keys)) == 1
    assert keys[0] in ("first", "second", "third")
