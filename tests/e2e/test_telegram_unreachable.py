"""End to end: a Bot API that cannot be reached at start (nothing listening: a network fault,
unlike a refused token) stops ``python -m bot`` with one line, Vietnamese then English, naming
the API's host:port and the error's class, exit 3 (not 2, a setting to fix, nor 1, a crash)
so that a supervisor restarts it; no traceback, and never the token, which Telegram's request
URLs hold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bot_process import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "735003:E2E-unreachable-Secret-0123456789"
SECRET_PART = TOKEN.split(":", 1)[1]


@pytest.mark.parametrize(
    ("base_url", "place"),
    [
        # Nothing listens on port 9: the connection is refused.
        ("http://127.0.0.1:9/bot", "127.0.0.1:9"),
        # A user name and password before the host are not printed either.
        ("http://proxyuser:proxy-Pw-77@127.0.0.1:9/bot", "127.0.0.1:9"),
    ],
    ids=["closed-port", "closed-port-with-login"],
)
@pytest.mark.parametrize("web_chat", ["true", "false"], ids=["with-web-chat", "alone"])
def test_an_unreachable_bot_api_stops_the_start_with_one_line(
    tmp_path: Path, base_url: str, place: str, web_chat: str
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "DATABASE_", "WEB_", "HTTP_", "LOG_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=base_url,
        WEB_CHAT=web_chat,
        HTTP_PORT=str(free_port()),
    )
    # The schema first, so that the start logs no migration (a first start logs each at INFO).
    subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], capture_output=True, env=env, cwd=tmp_path,
        timeout=120, check=True,
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode == 3, said
    assert "Traceback" not in said
    assert SECRET_PART not in said
    assert "proxy-Pw-77" not in said
    # Besides INFO log lines (alembic's check of the schema), the one line and nothing else.
    lines = [line for line in done.stderr.splitlines() if "level=INFO" not in line]
    assert len(lines) == 1, said
    assert lines[0].startswith("Không kết nối được Telegram ")
    assert " / Cannot reach Telegram " in lines[0]
    assert f"({place}, ConnectError)" in lines[0]
    assert "exit code 3" in lines[0]
