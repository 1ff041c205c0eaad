"""Runs the real ``python -m bot`` process against the fake Bot API, and drives a chat."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.fake_telegram import BotMessage, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
ADMIN_ID = 9001
#: How long a start may take: on a shared, busy machine, tens of seconds (the wait ends as
#: soon as the bot says it runs).
START_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    """One bot process; ``start`` again after ``kill`` to simulate a crash and restart."""

    def __init__(
        self,
        fake: FakeTelegram,
        workdir: Path,
        *,
        database_url: str | None = None,
        webhook_port: int | None = None,
        secret: str = "s3cret-webhook-token",
        extra_env: dict[str, str] | None = None,
        root: Path = ROOT,
        command: tuple[str, ...] = ("-m", "bot"),
        method: str | None = "sipas-2640",
    ) -> None:
        """``root``: the checkout to run (a benchmark compares two); ``command``: what
        ``python`` runs there (a benchmark runs another bot the same way); ``method``: the
        ``SURVEY_METHOD`` it is given (None: not set, the default configuration)."""
        self.fake = fake
        self.workdir = workdir
        self.database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'bot.db'}"
        self.webhook = webhook_port is not None
        # The web server runs in polling mode too (health check, Open311).
        self.webhook_port = webhook_port if webhook_port is not None else free_port()
        self.secret = secret
        self.extra_env = extra_env or {}
        self.root = root
        self.command = command
        self.method = method
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.webhook_port}/telegram"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"bot-{self.runs}.log"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "WEBHOOK_", "ADMIN_", "HTTP_"))
            and key != "SURVEY_METHOD"
        }
        env.update(
            PYTHONPATH=str(self.root),
            TELEGRAM_BOT_TOKEN=self.fake.token,
            TELEGRAM_API_BASE_URL=self.fake.base_url,
            DATABASE_URL=self.database_url,
            ADMIN_TELEGRAM_IDS=str(ADMIN_ID),
            AGENCY_NAME="Sở Xây dựng",
            LOG_LEVEL="INFO",
            PTB_TIMEDELTA="true",
            # The fake server has no flood control; the per-chat limit has its own test.
            TELEGRAM_MAX_PER_CHAT_PER_SECOND="50",
        )
        if self.method is not None:
            # Most processes walk the 2640 form (22 criteria), which proves SURVEY_METHOD
            # reaches a running bot; tests/e2e/test_telegram_1001.py runs the default (1001).
            env["SURVEY_METHOD"] = self.method
        if self.webhook:
            env.update(
                TELEGRAM_MODE="webhook",
                WEBHOOK_URL=self.webhook_url,
                WEBHOOK_SECRET=self.secret,
            )
        env.update(HTTP_HOST="127.0.0.1", HTTP_PORT=str(self.webhook_port))
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = START_S) -> None:
        self.runs += 1
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, *self.command],
            cwd=self.workdir,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "running (" in self.output():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.05)
        raise TimeoutError(f"bot did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """A crash: no shutdown code runs."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()


def press(fake: FakeTelegram, chat_id: int, data: str, timeout: float = 15.0) -> BotMessage:
    """Presses ``data`` on the newest message that offers it and waits for the bot's answer:
    a new message, or (for a multi-select toggle) the same message redrawn."""
    found = fake.wait_for(
        lambda f: _offering(f, chat_id, data), timeout, f"a message offering {data}"
    )
    assert found is not None
    target: BotMessage = found
    count = len(fake.messages(chat_id))
    versions = len(target.history)
    fake.user_presses(chat_id, target.message_id, data)
    fake.wait_for(
        lambda f: (
            len(f.messages(chat_id)) > count
            or len((f.message(chat_id, target.message_id) or target).history) > versions
        ),
        timeout,
        f"an answer to {data}",
    )
    return target


def _offering(fake: FakeTelegram, chat_id: int, data: str) -> BotMessage | None:
    for message in reversed(fake.messages(chat_id)):
        if any(cb == data for _, cb in fake.keyboard(message)):
            return message
    return None


def send_and_wait(fake: FakeTelegram, chat_id: int, text: str, timeout: float = 15.0) -> int:
    count = len(fake.messages(chat_id))
    update_id = fake.user_sends_text(chat_id, text)
    fake.wait_for(lambda f: len(f.messages(chat_id)) > count, timeout, f"a reply to {text!r}")
    return update_id
