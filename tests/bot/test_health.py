"""``/healthz`` says not-ok whenever no event could be recorded: a locked SQLite database
(readers still work in WAL mode, so a SELECT alone would say ok) or an unreachable one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from bot.web.server import create_app
from storage import migrate, open_engine


async def _health(url: str) -> tuple[int, dict[str, object]]:
    engine = open_engine(url)
    try:
        transport = httpx.ASGITransport(app=create_app(engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            response = await client.get("/healthz")
        return response.status_code, response.json()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("lock", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
async def test_a_locked_sqlite_database_is_not_healthy(tmp_path: Path, lock: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engine = open_engine(url)
    await migrate(engine)
    await engine.dispose()
    assert await _health(url) == (200, {"ok": True, "database": "ok"})

    holder = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    holder.execute(lock)  # another process (a backup, a stuck script) holds the write lock
    try:
        assert await _health(url) == (503, {"ok": False, "database": "locked"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await _health(url) == (200, {"ok": True, "database": "ok"})


async def test_an_unreadable_database_is_not_healthy(tmp_path: Path) -> None:
    (tmp_path / "bot.db").write_bytes(b"not a database at all, " * 100)
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    assert await _health(url) == (503, {"ok": False, "database": "unreachable"})


async def test_messages_given_up_in_the_last_day_are_shown_with_why(tmp_path: Path) -> None:
    """Lost to their readers, though the bot works: shown, ``ok`` unchanged."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from storage import write_transaction
    from storage.schema import outbox

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engine = open_engine(url)
    await migrate(engine)
    no_token = "PermanentSendError: no Zalo token: run python -m bot zalo set-token"
    now = datetime.now(UTC)
    async with write_transaction(engine) as conn:
        await conn.execute(
            insert(outbox),
            [
                {
                    "channel": "zalo",
                    "chat_id": "1",
                    "status": "dead",
                    "attempts": 1,
                    "created_at": now - timedelta(hours=hours),
                    "last_error": no_token,
                }
                for hours in (1, 2, 30)  # the last one: over a day ago
            ],
        )
    await engine.dispose()
    status, body = await _health(url)
    assert (status, body["ok"]) == (200, True)
    assert body["dead_messages"] == {"count": 2, "reasons": {f"zalo: {no_token}": 2}}
