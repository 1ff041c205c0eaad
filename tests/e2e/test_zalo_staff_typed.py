"""End to end over Zalo: an officer (ZALO_ADMIN_IDS) acts on a case by typing a numbered
action of its card (6-7 actions: more than Zalo's five buttons, so numbered in the text),
by its label or its label without diacritics; never the citizen's survey."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot_process import BotProcess
from tests.support.fake_zalo import FakeZalo
from tests.support.zalo_e2e import CITIZEN, STAFF, TYPED_ANONYMOUS, running_bot

pytestmark = pytest.mark.e2e

OFFICER = STAFF


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo() as fake:
        yield fake


@pytest.fixture
def bot(zalo: FakeZalo, tmp_path: Path) -> Iterator[BotProcess]:
    with running_bot(zalo, tmp_path, {"ZALO_ADMIN_IDS": OFFICER}) as process:
        yield process


def _say(zalo: FakeZalo, bot: BotProcess, user: str, text: str, answers: int = 1) -> list[str]:
    before = len(zalo.messages(user))
    event: dict[str, Any] = zalo.user_text(user, text)
    assert zalo.post(f"http://127.0.0.1:{bot.webhook_port}/zalo", event) == 200
    return [m.text for m in zalo.wait_for_messages(user, before + answers, timeout=30)[before:]]


def _case(bot: BotProcess) -> tuple[str, str, str | None]:
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        row = conn.execute("SELECT code, status, assignee FROM complaints").fetchone()
    return row[0], row[1], row[2]


def test_an_officer_types_the_numbered_actions_of_a_case_card(
    zalo: FakeZalo, bot: BotProcess
) -> None:
    _say(zalo, bot, OFFICER, "/hoso")  # the officer wrote first: Zalo's window is open
    for text in ("/phananh", "2", "Hồ sơ cấp phép nộp tháng 3 chưa có kết quả.", "xong"):
        _say(zalo, bot, CITIZEN, text)
    *typed, send = TYPED_ANONYMOUS
    for text in typed:
        _say(zalo, bot, CITIZEN, text)
    before = len(zalo.messages(OFFICER))
    _say(zalo, bot, CITIZEN, send)
    card = zalo.wait_for_messages(OFFICER, before + 1, timeout=30)[-1]
    code, status, _ = _case(bot)
    assert status == "new"
    assert code in card.text
    assert not card.buttons  # six actions: numbered in the text
    assert "1. Nhận xử lý" in card.text

    said = _say(zalo, bot, OFFICER, "1")
    assert "Phiếu khảo sát" not in "\n".join(said)
    assert _case(bot)[1:] == ("in_progress", f"staff:{OFFICER}")
    assert "Trạng thái: Đang xử lý" in said[-1]

    said = _say(zalo, bot, OFFICER, "tra loi & dong")  # a label, without its diacritics
    assert said[-1].startswith(f"Trả lời & đóng phản ánh {code}")
    answer = "Đã có kết quả, mời ông đến nhận."
    _say(zalo, bot, OFFICER, answer)
    assert _case(bot)[1] == "resolved"
    # Waited for by its text: the filing's later messages (the Zalo filing note) may still be
    # arriving, so "the citizen's next message" is not necessarily the resolution.
    zalo.wait_for(
        lambda fake: [m for m in fake.messages(CITIZEN) if answer in (m.text or "")],
        30,
        "the resolution at the citizen",
    )

    said = _say(zalo, bot, OFFICER, "9")  # no action has it: a hint, not the citizen's menu
    assert "/hoso" in said[-1]
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        assert conn.execute("SELECT count(*) FROM survey_responses").fetchone()[0] == 0
