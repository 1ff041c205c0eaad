"""The console channel: parsing typed lines, rendering, and a real `python -m bot console`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.console import ConsoleChat, parse_line, render
from bot.runtime.dispatch import Dispatcher
from conversations import Choice, Command, Text, default_catalog
from conversations.workdays import load_calendar
from jobs.digests import DigestSettings
from jobs.requests import RequestWorker
from storage import write_transaction
from storage.outbound import TextMessage
from storage.queries.receipts import NewReceipt, issue_receipts
from storage.queries.surveys import create_receipt
from storage.schema import job_requests
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.web_process import WebBot

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
        ("Rất hài lòng", Choice("1.1:5")),  # the label without its number
        ("Tạm được ạ", Text("Tạm được ạ")),
        ("/start R-7Q2K", Command("start", "R-7Q2K")),
        ("/HUY", Command("huy", "")),
        ("²", Choice("1.1:5")),  # a superscript two is read as 2
        ("   ", Text("")),  # spaces only: the engine says it could read nothing
        ("", None),
        ("Góp\x00 ý\x1b\ud800", Text("Góp ý")),
        ("/tracuu PA-2026\x00-000001", Command("tracuu", "PA-2026-000001")),
        ("\x00\x07", Text("")),
        ("3", Text("3")),  # "◀ Quay lại" has no number: navigation is typed as words
        ("1. 1 – rất KHÔNG hài lòng", Choice("1.1:1")),  # the line as displayed
        ("ᴺ", Text("ᴺ")),
        ("5282-7979-65", Command("start", "5282797965", typed="5282-7979-65")),
        (" 5282 7979 65 ", Command("start", "5282797965", typed="5282 7979 65")),
    ],
    ids=["number", "padded-number", "number-out-of-list", "label", "full-label", "label-without-number",
         "free-text",
         "command-with-arg", "command-upper", "superscript", "blank", "empty", "refused-characters",
         "refused-in-argument", "only-refused", "nav-not-numbered", "displayed-line",
         "letter-like", "short-code", "short-code-spaced"],
)  # fmt: skip
def test_parse_line(line: str, expected: object) -> None:
    assert parse_line(line, CHOICES) == expected


def test_render_numbers_choices() -> None:
    text = render(TextMessage("Câu hỏi?", CHOICES[:2], "k"))
    assert text == "Câu hỏi?\n  1. 1 – Rất không hài lòng\n  2. 5 – Rất hài lòng"
    with_nav = render(TextMessage("Câu hỏi?", CHOICES, "k"))
    assert with_nav.endswith("  2. 5 – Rất hài lòng\n  [◀ Quay lại]")


async def test_console_chat_survey_in_process(engine: AsyncEngine) -> None:
    # Consent, submission channel, information channels ("xong": navigation is typed as
    # words, numbers are answers only), trips, timing, then 1.1 on the form in force (19 items).
    lines = iter(["/khaosat\n", "1\n", "1\n", "xong\n", "2\n", "2\n", "5\n", "/huy\n"])
    out = io.StringIO()
    dispatcher = Dispatcher(engine, clock=SequentialClock(), new_id=SequentialIds())
    chat = ConsoleChat(
        dispatcher, default_catalog(), user="tester", read_line=lambda: next(lines, ""), out=out
    )
    await chat.run()
    await dispatcher.close()
    shown = out.getvalue()
    assert "Tiêu chí 1/19: Thông tin về thủ tục hành chính" in shown
    assert "Tiêu chí 2/19" in shown
    assert "Đã hủy phiếu khảo sát" in shown


DIGESTS = DigestSettings(
    agency="Sở Xây dựng",
    tz=ZoneInfo("Asia/Ho_Chi_Minh"),
    calendar=load_calendar(),
    chats=(),
    at=time(7, 30),
)


@pytest.mark.parametrize("alias", ["/start", "/batdau", "/menu"])
async def test_receipt_link_under_every_start_alias(engine: AsyncEngine, alias: str) -> None:
    clock = SequentialClock()
    async with write_transaction(engine) as conn:
        await create_receipt(conn, "tok-ABCDEFGHIJKLMNOP", "1.009972", clock())
    lines = iter([f"{alias} tok-ABCDEFGHIJKLMNOP\n"])
    out = io.StringIO()
    dispatcher = Dispatcher(engine, clock=clock, new_id=SequentialIds())
    chat = ConsoleChat(
        dispatcher, default_catalog(), user="t", read_line=lambda: next(lines, ""), out=out
    )
    await chat.run()
    await dispatcher.close()
    assert "Ông/Bà có đồng ý tham gia không?" in out.getvalue()
    assert "không đúng hoặc không còn hiệu lực" not in out.getvalue()


async def test_a_typed_short_code_opens_its_receipt_in_the_console(engine: AsyncEngine) -> None:
    """README: the slip's short code typed works on every channel, the console included."""
    clock = SequentialClock()
    async with write_transaction(engine) as conn:
        new = NewReceipt("tok-SHORTCODE000001", "1.009972", short_code="5282797965")
        await issue_receipts(conn, [new], clock())
    lines = iter(["5282-7979-65\n"])
    out = io.StringIO()
    dispatcher = Dispatcher(engine, clock=clock, new_id=SequentialIds())
    chat = ConsoleChat(
        dispatcher, default_catalog(), user="t", read_line=lambda: next(lines, ""), out=out
    )
    await chat.run()
    await dispatcher.close()
    assert "Ông/Bà có đồng ý tham gia không?" in out.getvalue()


async def test_requests_are_answered_in_the_console(engine: AsyncEngine) -> None:
    """/ketqua is answered in the console by the jobs' own worker, not left pending."""
    clock = SequentialClock()
    lines = iter(["/ketqua\n"])
    out = io.StringIO()
    dispatcher = Dispatcher(engine, clock=clock, new_id=SequentialIds())
    worker = RequestWorker(engine, DIGESTS, default_catalog(), clock)
    chat = ConsoleChat(
        dispatcher,
        default_catalog(),
        user="t",
        read_line=lambda: next(lines, ""),
        out=out,
        requests=worker,
    )
    await chat.run()
    await dispatcher.close()
    shown = out.getvalue()
    assert "Đang tổng hợp kết quả" in shown
    assert "Chưa có đủ phiếu đánh giá" in shown
    async with engine.connect() as conn:
        statuses = (await conn.execute(select(job_requests.c.status))).scalars().all()
    assert statuses == ["done"]


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
    # Menu 1 (survey), consent 1, channel 1 (in person), information channels "xong".
    first = _run_console(tmp_path, "/start\n1\n1\n1\nxong\n")
    assert first.returncode == 0, first.stderr
    assert "Xin chào Ông/Bà!" in first.stdout
    assert "Ông/Bà đã phải đến cơ quan bao nhiêu lần" in first.stdout
    second = _run_console(tmp_path, "/start\n3\n")
    assert second.returncode == 0, second.stderr
    assert "Ông/Bà đang làm dở phiếu khảo sát" in second.stdout
    assert "Ông/Bà nhận kết quả so với ngày hẹn" in second.stdout


@pytest.mark.e2e
def test_real_console_answers_ketqua(tmp_path: Path) -> None:
    done = _run_console(tmp_path, "/ketqua\n")
    assert done.returncode == 0, done.stderr
    assert "Chưa có đủ phiếu đánh giá" in done.stdout


@pytest.mark.e2e
@pytest.mark.e2e
def test_run_without_token_serves_the_web_chat(tmp_path: Path) -> None:
    """README's first command on a fresh machine: no token, no .env, no data folder; the bot
    runs on 127.0.0.1 and says where to open it; SIGTERM stops it cleanly."""
    bot = WebBot(tmp_path)
    url = bot.start()
    try:
        assert url == f"http://127.0.0.1:{bot.port}/"
        assert "bot web chat running" in bot.output()
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200
        assert "Lấy ý kiến người dân" in page.text
        assert httpx.get(url + "healthz", timeout=10).json() == {"ok": True, "database": "ok"}
    finally:
        assert bot.stop() == 0
    assert bot.database.exists()


@pytest.mark.e2e
def test_run_with_no_channel_at_all_points_to_console(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WEB_CHAT": "false"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot"], capture_output=True, text=True, env=env, cwd=tmp_path,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "WEB_CHAT" in done.stderr
    assert "python -m bot console" in done.stderr


async def test_staff_commands_in_the_console(engine: AsyncEngine) -> None:
    """Without --admin a staff command says why it does nothing; with it, it is answered by
    the jobs' own worker, as on Telegram."""
    clock = SequentialClock()
    for admin, expected in ((False, "dành cho cán bộ"), (True, "Phiếu khảo sát")):
        lines = iter(["/baocao 30d\n"])
        out = io.StringIO()
        dispatcher = Dispatcher(engine, clock=clock, new_id=SequentialIds())
        worker = RequestWorker(engine, DIGESTS, default_catalog(), clock)
        chat = ConsoleChat(
            dispatcher,
            default_catalog(),
            user=f"staff-{admin}",
            read_line=lambda lines=lines: next(lines, ""),  # type: ignore[misc]
            out=out,
            requests=worker,
            admin=admin,
        )
        await chat.run()
        await dispatcher.close()
        assert expected in out.getvalue()
