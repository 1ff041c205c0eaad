"""The survey marks' key and ``local_secrets`` (issue 10).

The log salt older versions kept in ``local_secrets`` is forgotten when the bot starts (with
it, whoever holds the database recomputes the chat pseudonyms of old log lines). The survey
marks' key, when ``RECEIPT_SECRET`` is unset, lives in ``RECEIPT_SECRET_FILE``, never in the
database (whoever held a dump with it could recompute every chat's mark): made there once,
mode 0600, the same after a restart and for processes starting at once, so the rule of one
survey without a receipt per period survives them; a key older versions stored in the
database is moved to the file (the period's marks still match) and deleted. SQLite and
PostgreSQL. Every test names its file under ``tmp_path``."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import subprocess
import sys
import threading
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
from bot.runtime.secret_file import secret_from_file
from conversations import Command, InboundEvent
from storage import open_engine, read_transaction, write_transaction
from storage.queries.local_secrets import forget_local_secret
from storage.schema import local_secrets
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES, postgres_database
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
    first = await build_runtime(_settings(url, tmp_path))
    async with write_transaction(first.engine) as conn:
        await conn.execute(
            insert(local_secrets), [{"name": OLD_LOG_SALT, "value": "a" * 43, "created_at": AT}]
        )
    await first.close()
    again = await build_runtime(_settings(url, tmp_path))
    await again.close()
    engine = open_engine(url)
    try:
        assert await _names(engine) == []  # no log salt, and no survey marks' key
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


def _settings(url: str, folder: Path, secret: SecretStr | None = None) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url=url,
        receipt_secret=secret,
        receipt_secret_file=folder / "keys" / "receipt_secret",
        _env_file=None,
    )


async def test_a_restart_keeps_the_mark_key_and_refuses_a_second_open_survey(
    bot_url: str, tmp_path: Path
) -> None:
    first = await build_runtime(_settings(bot_url, tmp_path))
    key = first.dispatcher.settings.survey_mark_key
    await complete_survey(first.dispatcher, "8801", random.Random(5), channel="telegram")
    await first.close()
    again = await build_runtime(_settings(bot_url, tmp_path))
    try:
        assert again.dispatcher.settings.survey_mark_key == key
        assert (tmp_path / "keys" / "receipt_secret").read_text().strip().encode() == key
        (handled,) = await again.dispatcher.process(
            [InboundEvent("after-restart", "telegram", "8801", Command("khaosat"))]
        )
        assert isinstance(handled, Handled)
        assert next(m.key for m in handled.messages) == "survey.open_used"
        async with read_transaction(again.engine) as conn:
            rows = (await conn.execute(select(local_secrets.c.name))).scalars().all()
        assert rows == []  # the key is in its file, never in the database
    finally:
        await again.close()


async def test_a_set_receipt_secret_is_the_key_and_nothing_is_stored(
    bot_url: str, tmp_path: Path
) -> None:
    runtime = await build_runtime(_settings(bot_url, tmp_path, SecretStr("k" * 24)))
    try:
        assert runtime.dispatcher.settings.survey_mark_key == b"k" * 24
        assert await _names(runtime.engine) == []
        assert not (tmp_path / "keys").exists()  # no file either
    finally:
        await runtime.close()


async def test_a_key_stored_by_an_older_version_moves_to_the_file_and_its_marks_still_match(
    bot_url: str, tmp_path: Path
) -> None:
    """An install upgraded mid-period: its key was in ``local_secrets``, there is no file yet.
    The key becomes the file's, the row is deleted, and the chat that answered before the
    upgrade is still refused a second survey without a receipt."""
    older = await build_runtime(_settings(bot_url, tmp_path / "before"))
    key = older.dispatcher.settings.survey_mark_key
    await complete_survey(older.dispatcher, "8802", random.Random(6), channel="telegram")
    async with write_transaction(older.engine) as conn:  # where older versions kept it
        await conn.execute(
            insert(local_secrets), [{"name": MARK_KEY, "value": key.decode(), "created_at": AT}]
        )
    await older.close()
    upgraded = await build_runtime(_settings(bot_url, tmp_path))
    try:
        assert upgraded.dispatcher.settings.survey_mark_key == key
        path = tmp_path / "keys" / "receipt_secret"
        assert path.read_text().strip().encode() == key
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert await _names(upgraded.engine) == []
        (handled,) = await upgraded.dispatcher.process(
            [InboundEvent("after-upgrade", "telegram", "8802", Command("khaosat"))]
        )
        assert isinstance(handled, Handled)
        assert next(m.key for m in handled.messages) == "survey.open_used"
    finally:
        await upgraded.close()


@pytest.mark.parametrize("secret", [None, SecretStr("k" * 24)], ids=["file", "receipt_secret"])
async def test_a_stored_key_is_deleted_even_when_a_key_is_already_set(
    bot_url: str, tmp_path: Path, secret: SecretStr | None
) -> None:
    """The file (or ``RECEIPT_SECRET``) wins over a stored key, which goes all the same."""
    path = tmp_path / "keys" / "receipt_secret"
    path.parent.mkdir()
    path.write_text("f" * 64 + "\n")
    first = await build_runtime(_settings(bot_url, tmp_path, secret))
    async with write_transaction(first.engine) as conn:
        await conn.execute(
            insert(local_secrets), [{"name": MARK_KEY, "value": "a" * 64, "created_at": AT}]
        )
    await first.close()
    again = await build_runtime(_settings(bot_url, tmp_path, secret))
    try:
        expected = b"f" * 64 if secret is None else b"k" * 24
        assert again.dispatcher.settings.survey_mark_key == expected
        assert path.read_text() == "f" * 64 + "\n"
        assert await _names(again.engine) == []
    finally:
        await again.close()


async def test_after_start_the_key_is_in_no_database_page(tmp_path: Path) -> None:
    """SQLite: the database file, its write-ahead log and a dump hold neither a freshly made
    key nor one an older version stored (``secure_delete`` and a checkpoint after the move)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    first = await build_runtime(_settings(url, tmp_path / "fresh"))
    fresh = first.dispatcher.settings.survey_mark_key
    async with write_transaction(first.engine) as conn:
        await conn.execute(
            insert(local_secrets), [{"name": MARK_KEY, "value": "5a" * 32, "created_at": AT}]
        )
    await first.close()
    again = await build_runtime(_settings(url, tmp_path))  # moves the stored one to its file
    try:
        assert again.dispatcher.settings.survey_mark_key == b"5a" * 32
        pages = b"".join(
            p.read_bytes() for p in (tmp_path / "bot.db", tmp_path / "bot.db-wal") if p.exists()
        )
        with sqlite3.connect(tmp_path / "bot.db") as dumping:
            dump = "\n".join(dumping.iterdump())
    finally:
        await again.close()
    for key in (fresh, b"5a" * 32):
        assert key not in pages
        assert key.decode() not in dump


def _race(path: Path, makers: int) -> list[str]:
    """``makers`` threads asking for the key of ``path`` at the same instant."""
    barrier = threading.Barrier(makers)
    keys: list[str] = [""] * makers

    def ask(i: int) -> None:
        barrier.wait()
        keys[i] = secret_from_file(path, lambda: f"key-of-maker-{i}")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(makers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return keys


def test_makers_at_the_same_instant_all_get_the_first_key_written(tmp_path: Path) -> None:
    for round_ in range(30):
        path = tmp_path / f"round-{round_}" / "receipt_secret"
        keys = _race(path, 8)
        assert len(set(keys)) == 1, keys
        assert path.read_text() == keys[0] + "\n"
        assert sorted(p.name for p in path.parent.iterdir()) == ["receipt_secret"]  # no temp


def test_two_processes_starting_at_once_share_one_key(tmp_path: Path) -> None:
    """Two ``python`` processes, each making its own key, released at the same instant."""
    path = tmp_path / "shared" / "receipt_secret"
    go = tmp_path / "go"
    script = (
        "import sys, time, pathlib\n"
        "from bot.runtime.secret_file import secret_from_file\n"
        "go = pathlib.Path(sys.argv[2])\n"
        "while not go.exists(): time.sleep(0.001)\n"
        "print(secret_from_file(pathlib.Path(sys.argv[1])))\n"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(go)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        for _ in range(2)
    ]
    go.touch()
    outputs = [proc.communicate(timeout=60)[0].strip() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    assert outputs[0] == outputs[1] == path.read_text().strip()
    assert len(outputs[0]) == 64


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_the_key_file_is_readable_by_its_owner_only(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        path = tmp_path / "receipt_secret"
        secret_from_file(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    """A new key would silently let every chat answer again this period."""
    path = tmp_path / "receipt_secret"
    path.write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        secret_from_file(path)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:////srv/bot/bot.db", Path("/srv/bot/receipt_secret")),
        ("sqlite+aiosqlite:///data/bot.db", Path("data/receipt_secret")),
        ("sqlite+aiosqlite:///:memory:", Path("data/receipt_secret")),
        ("postgresql+asyncpg://bot@db/sipas", Path("data/receipt_secret")),
    ],
)
def test_the_default_key_file(url: str, expected: Path) -> None:
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    assert settings.secret_file == expected
