"""End to end: a database that cannot be reached at start (nothing listening, a server that
refuses the login, an SQLite file that cannot be made) stops ``python -m bot`` with one line,
Vietnamese then English, naming where the database is and the error's class, exit 2 (as a
bad setting or a refused token), no traceback, and never the password from DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-Pw-9f2"


def _server() -> str:
    """host:port of the test PostgreSQL server (TEST_POSTGRES_URL), or "" without one."""
    url = os.environ.get("TEST_POSTGRES_URL", "")
    if not url:
        return ""
    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or 5432}"


@pytest.mark.parametrize(
    ("url", "place", "error"),
    [
        # Nothing listens on port 9: the connection is refused.
        (f"postgresql+asyncpg://sipas:{PASSWORD}@127.0.0.1:9/sipas", "127.0.0.1:9/sipas",
         "ConnectionRefusedError"),
        (f"postgresql://sipas:{PASSWORD}@127.0.0.1:9/sipas", "127.0.0.1:9/sipas",
         "ConnectionRefusedError"),
        # A server that is there but refuses who logs in.
        ("postgresql+asyncpg://no_such_role_edge:{password}@{server}/no_such_db", "/no_such_db",
         "Error"),
        # A folder that cannot be made (/proc takes no new folders).
        ("sqlite+aiosqlite:////proc/no-such-dir/sipas.db", "/proc/no-such-dir/sipas.db",
         "Error"),
    ],
    ids=["closed-port", "closed-port-plain-url", "login-refused", "sqlite-no-folder"],
)  # fmt: skip
@pytest.mark.parametrize("command", [[], ["migrate"]], ids=["run", "migrate"])
def test_an_unreachable_database_stops_the_start_with_one_line(
    tmp_path: Path, url: str, place: str, error: str, command: list[str]
) -> None:
    if "{server}" in url:
        if not _server():
            pytest.skip("TEST_POSTGRES_URL is not set: no PostgreSQL server to refuse a login")
        url = url.format(password=PASSWORD, server=_server())
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "DATABASE_", "WEB_", "HTTP_"))
    }
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=url)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert "Traceback" not in said
    assert PASSWORD not in said
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, said
    assert lines[0].startswith("Không kết nối được cơ sở dữ liệu ")
    assert " / Cannot connect to the database " in lines[0]
    assert place in lines[0]
    assert f"{error})" in lines[0]
