"""End to end: a dossier registered by the one-stop system over the API, followed from its
slip's deep link by the applicant and a representative, told of each status change by the real
``python -m bot`` over the fake Bot API, then rated once from the invitation; the report shows
the response rate."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.web.dossier_auth import signed_headers
from tests.e2e.test_telegram_api import SURVEY
from tests.support.bot_process import ADMIN_ID, BotProcess, press, send_and_wait
from tests.support.fake_telegram import BotMessage, FakeTelegram
from tests.support.telegram_e2e import fake

pytestmark = pytest.mark.e2e
__all__ = ["fake"]  # the fixture

APPLICANT = 7301
REPRESENTATIVE = 7302
CLIENT, SECRET = "motcua", "e2e-secret-0123456789abcdef"


@pytest.fixture
def bot(fake: FakeTelegram, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(fake, tmp_path, extra_env={"DOSSIER_API_KEYS": f"{CLIENT}:{SECRET}"})
    process.start()
    yield process
    process.stop()


def post(bot: BotProcess, path: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = signed_headers(CLIENT, SECRET, "POST", path, body, time.time())
    url = f"http://127.0.0.1:{bot.webhook_port}{path}"
    return httpx.post(url, content=body, headers=headers, timeout=10)


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [m.text or "" for m in fake.messages(chat)]


def wait_text(fake: FakeTelegram, chat: int, needle: str) -> BotMessage:
    found = fake.wait_for(
        lambda f: next((m for m in f.messages(chat) if needle in (m.text or "")), None),
        what=needle,
    )
    assert found is not None
    return found


def follow(fake: FakeTelegram, chat: int, start: str) -> None:
    fake.user_sends_command(chat, "/start", start)
    consent = wait_text(fake, chat, "Ông/Bà có đồng ý nhận thông báo về hồ sơ này không?")
    token = start.removeprefix("d_")
    assert [cb for _, cb in fake.keyboard(consent)] == [f"dfol:{token}:yes", f"dfol:{token}:no"]
    press(fake, chat, f"dfol:{token}:yes")
    wait_text(fake, chat, "Chúng tôi sẽ báo cho Ông/Bà mỗi khi hồ sơ HS-E2E-0001 thay đổi")


def test_a_dossier_from_slip_to_rating(fake: FakeTelegram, bot: BotProcess) -> None:
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()  # the bot's TIMEZONE
    registered = post(
        bot,
        "/api/v1/dossiers",
        {"code": "HS-E2E-0001", "procedure": "1.009972", "field": "Cấp phép xây dựng",
         "received_on": today.isoformat(), "due_on": (today + timedelta(days=10)).isoformat()},
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    link = registered.json()["telegram_link"]
    start = link.split("?start=", 1)[1]
    assert link == f"https://t.me/sipas_test_bot?start={start}"
    assert len(start) <= 64

    follow(fake, APPLICANT, start)
    follow(fake, REPRESENTATIVE, start)

    events = "/api/v1/dossiers/HS-E2E-0001/events"
    missing = ["Bản vẽ thiết kế", "Giấy tờ về quyền sử dụng đất"]
    asked = post(bot, events, {"event_id": "1", "kind": "needs_documents", "missing": missing})
    assert asked.status_code == 201, asked.text
    notice = wait_text(fake, APPLICANT, "Hồ sơ HS-E2E-0001 cần bổ sung giấy tờ:")
    assert "• Bản vẽ thiết kế\n• Giấy tờ về quyền sử dụng đất" in (notice.text or "")
    new_due = today + timedelta(days=17)
    late = post(bot, events, {"event_id": "2", "kind": "late", "new_due_on": new_due.isoformat(),
                              "reason": "Chờ ý kiến thẩm định"})  # fmt: skip
    assert late.json()["notified"] == 2
    apology = wait_text(fake, APPLICANT, "Chúng tôi thành thật xin lỗi Ông/Bà")
    assert f"Ngày hẹn trả kết quả mới: {new_due:%d/%m/%Y}." in (apology.text or "")
    handed = post(bot, events, {"event_id": "3", "kind": "handed_over"})
    assert handed.json()["invited"] is True
    wait_text(fake, APPLICANT, "đã được trả kết quả")
    invitation = wait_text(fake, APPLICANT, "trân trọng mời Ông/Bà đánh giá")
    assert [cb for _, cb in fake.keyboard(invitation)] == ["dinv:1"]
    assert [label for label, _ in fake.keyboard(invitation)] == ["Đánh giá ngay"]
    wait_text(fake, REPRESENTATIVE, "trân trọng mời Ông/Bà đánh giá")
    # The same event again (a retry of the one-stop system, signed anew): nothing new is sent.
    time.sleep(1.1)  # the same second would give the same signature: refused as a replay
    assert post(bot, events, {"event_id": "3", "kind": "handed_over"}).json()["duplicate"] is True

    # The applicant takes the survey from the invitation, every answer by button.
    press(fake, APPLICANT, "dinv:1")
    wait_text(fake, APPLICANT, "Ông/Bà có đồng ý tham gia không?")
    for data in SURVEY:
        press(fake, APPLICANT, data)
    wait_text(fake, APPLICANT, "Trân trọng cảm ơn Ông/Bà đã dành thời gian đánh giá")

    # The dossier cannot be rated twice: the representative's invitation is refused kindly,
    # as it would be after a cancelled or expired survey (the dossier keeps only "ended").
    press(fake, REPRESENTATIVE, "dinv:1")
    wait_text(fake, REPRESENTATIVE, "Lời mời đánh giá hồ sơ HS-E2E-0001 đã kết thúc")
    assert not any("Ông/Bà có đồng ý tham gia không?" in t for t in texts(fake, REPRESENTATIVE))

    # Each chat heard of each change once, in the order they happened.
    for chat in (APPLICANT, REPRESENTATIVE):
        said = texts(fake, chat)
        marks = [
            "HS-E2E-0001 cần bổ sung",
            "thành thật xin lỗi",
            "đã được trả kết quả",
            "trân trọng mời",
        ]
        found = [next(i for i, t in enumerate(said) if mark in t) for mark in marks]
        assert found == sorted(found)
        assert [sum(mark in t for t in said) for mark in marks] == [1, 1, 1, 1]

    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        response = conn.execute(
            "SELECT status, with_receipt, procedure, field, handed_over_month FROM survey_responses"
        ).fetchall()
        dossier = conn.execute("SELECT status, invite_status FROM dossiers").fetchone()
    assert response == [("completed", 0, "1.009972", "Cấp phép xây dựng", f"{today:%Y-%m}-01")]
    assert dossier == ("handed_over", "ended")  # over, not how: the response alone says so

    # The leaders' report, beside the SIPAS index: one invitation, one answer.
    send_and_wait(fake, ADMIN_ID, "/baocao")
    report = wait_text(fake, ADMIN_ID, "Chỉ số hài lòng (theo phương pháp SIPAS)")
    assert "• Mời đánh giá khi trả kết quả: 1 hồ sơ; đã đánh giá: 1 — tỷ lệ phản hồi 100,00%" in (
        report.text or ""
    )
    assert "được theo dõi qua chat: 1 (100,00%)" in (report.text or "")


def test_the_demo_posts_to_a_running_bot(fake: FakeTelegram, bot: BotProcess) -> None:
    """``dossiers demo --url``: three dossiers registered and their events posted over HTTP to
    the running bot, as a one-stop system would (nobody follows them here)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "dossiers", "demo", "--url",
         f"http://127.0.0.1:{bot.webhook_port}"],
        cwd=bot.workdir, env=bot.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    links = [line for line in lines if "https://t.me/sipas_test_bot?start=d_" in line]
    assert len(links) == 3
    posted = [line.split("\t") for line in lines if line.count("\t") >= 3]
    assert [p[1] for p in posted] == [
        "needs_documents", "processing", "late", "result_ready", "handed_over",
        "processing", "result_ready", "handed_over", "withdrawn",
    ]  # fmt: skip
    assert {p[2] for p in posted} == {"201"}
