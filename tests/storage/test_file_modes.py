"""The SQLite database's files are the owner's alone (issue 10): they hold complaints and
contact data. A fresh database file, its ``-wal`` and ``-shm``, are mode 0600 from their
creation, whatever the umask lets through (022 here, the usual one: 0644 files), and the
folder made for them is 0700; files an older version left 0644 are tightened when opened."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from storage import migrate, open_engine, write_transaction

ROOT = Path(__file__).resolve().parents[2]
#: The usual umask: by default, files 0644 and folders 0755 (world-readable).
LOOSE_UMASK = 0o022


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _modes(db: Path) -> dict[str, int]:
    return {p.name: _mode(p) for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"))}


async def test_a_fresh_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.db"
    with _umask(LOOSE_UMASK):
        engine = open_engine(f"sqlite+aiosqlite:///{db}")
        try:
            await migrate(engine)
            # A connection still open keeps -wal and -shm on disk, as in a running bot.
            async with write_transaction(engine) as conn:
                await conn.execute(text("CREATE TABLE probe (x INTEGER)"))
                modes = _modes(db)
        finally:
            await engine.dispose()
    assert modes == {"bot.db": 0o600, "bot.db-wal": 0o600, "bot.db-shm": 0o600}
    assert _mode(db.parent) == 0o700


def test_python_m_bot_makes_the_default_database_private(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "TELEGRAM_", "ZALO_", "RECEIPT_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        umask=LOOSE_UMASK,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The default DATABASE_URL: data/bot.db under the working directory.
    assert _mode(tmp_path / "data") == 0o700
    assert _mode(tmp_path / "data" / "bot.db") == 0o600


async def test_files_an_older_version_left_readable_are_tightened(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with _umask(LOOSE_UMASK):
        older = sqlite3.connect(db)  # as before: the files take the umask's 0644
        older.execute("PRAGMA journal_mode=WAL")
        older.execute("CREATE TABLE t (x INTEGER)")
        older.commit()
        try:
            assert set(_modes(db).values()) == {0o644}
            engine = open_engine(f"sqlite+aiosqlite:///{db}")
            await engine.dispose()
            modes = _modes(db)
        finally:
            older.close()
    assert modes == {"bot.db": 0o600, "bot.db-wal": 0o600, "bot.db-shm": 0o600}
