"""The console channel: parsing typed lines, rendering, and a real `python -m bot console`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.console import ConsoleChat, parse_line, render
from bot.runtime.dispatch import Dispatcher
from conversations import Choice, Command, Message, Text, default_catalog
from tests.support.clock import SequentialClock, SequentialIds

ROOT = Path(__file__).resolve().parents[2]
CHOICES = (
    ("1.1:1", "1 – Rất không hài lòng"),
    ("1.1:5", "5 – Rất hài lòng"),
    ("1.1:back", "◀ Quay lại"),
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2", Choice("1.1:5")),
        ("  1 ", Choice("1.1:1")),
        ("4", Text("4")),
        ("◀ quay lại", Choice("1.1:back")),
        ("5 – rất hài lòng", Choice("1.1:5")),
        ("Rất hài lòng", Text("Rất hài lòng")),
        ("/start R-7Q2K", Command("start", "R-7Q2K")),
        ("/HUY", Command("huy", "")),
        ("²", Text("²")),
        ("   ", None),
        ("Góp\x00 ý\x1b\ud800", Text("Góp ý")),
        ("/tracuu PA-2026\x00-000001", Command("tracuu", "PA-2026-000001")),
        ("\x00\x07", None),
    ],
    ids=["number", "padded-number", "number-out-of-list", "label", "full-label", "free-text",
         "command-with-arg", "command-upper", "superscript", "blank", "refused-characters",
         "refused-in-argument", "only-refused"],
)  # fmt: skip
def test_parse_line(line: str, expected: object) -> None:
    assert parse_line(line, CHOICES) == expected


def test_render_numbers_choices() -> None:
    text = render(Message("k", "Câu hỏi?", CHOICES[:2]))
    assert text == "Câu hỏi?\n  1. 1 – Rất không hài lòng\n  2. 5 – Rất hài lòng"


async def test_console_chat_survey_in_process(engine: AsyncEngine) -> None:
    lines = iter(["/khaosat\n", "1\n", "7\n", "1\n", "2\n", "5\n", "/huy\n"])
    out = io.StringIO()
    dispatcher = Dispatcher(engine, clock=SequentialClock(), new_id=SequentialIds())
    chat = ConsoleChat(
        dispatcher, default_catalog(), user="tester", read_line=lambda: next(lines, ""), out=out
    )
    await chat.run()
    await dispatcher.close()
    shown = out.getvalue()
    assert "Câu 1/22: Nơi ngồi chờ" in shown
    assert "Câu 2/22" in shown
    assert "Đã hủy phiếu khảo sát" in shown


def _run_console(tmp_path: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "demo"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


@pytest.mark.e2e
def test_real_console_process_resumes_after_restart(tmp_path: Path) -> None:
    first = _run_console(tmp_path, "/start\n1\n1\n7\n")
    assert first.returncode == 0, first.stderr
    assert "Xin chào Ông/Bà!" in first.stdout
    assert "Ông/Bà đã phải đến cơ quan bao nhiêu lần" in first.stdout
    second = _run_console(tmp_path, "/start\n3\n")
    assert second.returncode == 0, second.stderr
    assert "Ông/Bà đang làm dở phiếu khảo sát" in second.stdout
    assert "Ông/Bà nhận kết quả so với ngày hẹn" in second.stdout


@pytest.mark.e2e
def test_run_without_token_points_to_console(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot"], capture_output=True, text=True, env=env, cwd=tmp_path,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in done.stderr
    assert "python -m bot console" in done.stderr
