"""Runs the real ``python -m bot`` with no channel token: the web chat alone, as a newcomer
gets it, on a free port of this machine."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.support.bot_process import ROOT, free_port

OPEN_LINE = re.compile(r"open (http://\S+/)")


class WebBot:
    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.runs = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"web-bot-{self.runs}.log"

    @property
    def database(self) -> Path:
        return self.workdir / "data" / "bot.db"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "WEBHOOK_", "ADMIN_", "HTTP_", "ZALO_", "WEB_"))
            and key != "DATABASE_URL"
        }
        # The browser walks the 2640 form; the 1001 form is walked in tests/transcripts.
        env.update(
            PYTHONPATH=str(ROOT),
            HTTP_PORT=str(self.port),
            LOG_LEVEL="INFO",
            SURVEY_METHOD="sipas-2640",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> str:
        """Starts the bot; returns the address it says to open."""
        self.runs += 1
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=self.workdir,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = OPEN_LINE.search(self.output())
            if found:
                self.url = found.group(1)
                return self.url
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.05)
        raise TimeoutError(f"bot did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def run_cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.database) as conn:
            return conn.execute(query, params).fetchall()

    def count(self, query: str, *params: object) -> int:
        found = self.sql(query, *params)[0][0]
        assert isinstance(found, int)
        return found

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc is not None else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)
