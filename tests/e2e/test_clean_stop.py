"""End to end: a SIGTERM while a scheduled job runs (soon after the start, when every job
runs once) is an orderly stop: exit 0, the job cancelled and said at INFO, no ERROR line and
no traceback (APScheduler logs a cancelled job at ERROR, traceback and all, if let through).

The job is made to hang by a fake (``prune`` waits forever after saying it runs), so that
one is surely running when the signal comes, whatever the machine's speed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.bot_process import START_S, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RUNNING = "fake-job-running"
#: ``python -m bot`` with the prune job replaced by one that never ends on its own.
HANGING_JOB = f"""
import asyncio, sys
from jobs.runner import JobsRunner

async def prune(self):
    print({RUNNING!r}, flush=True)
    await asyncio.Event().wait()

JobsRunner.prune = prune
from bot.__main__ import main
sys.exit(main(["run"]))
"""


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_S
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, path.read_text(errors="replace")
        assert time.monotonic() < deadline, f"timed out waiting for {text!r}"
        time.sleep(0.1)


def test_a_stop_while_a_job_runs_is_clean(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "DATABASE_", "WEB_", "HTTP_", "LOG_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        HTTP_PORT=str(free_port()),
        LOG_LEVEL="INFO",
    )
    output = tmp_path / "bot.log"
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", HANGING_JOB], stdout=sink, stderr=subprocess.STDOUT,
            env=env, cwd=tmp_path,
        )  # fmt: skip
        try:
            _wait_for(output, RUNNING, proc)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=START_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    said = output.read_text(errors="replace")
    assert code == 0, said
    assert "Traceback" not in said
    assert [line for line in said.splitlines() if "level=ERROR" in line] == [], said
    assert "level=CRITICAL" not in said
    assert "job=prune event=cancelled" in said
    assert "event=stopped" in said
