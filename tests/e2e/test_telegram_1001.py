"""End to end with the default configuration (no SURVEY_METHOD): the real ``python -m bot``
walks the survey in force, QĐ 1001/QĐ-BNV (19 rated items), over a fake Bot API, and the
report command names that method and its 19 criteria."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bot_process import BotProcess, press
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.e2e

CITIZEN = 7101
ITEMS = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4",
         "3.5", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3"]  # fmt: skip
RATINGS = dict(zip(ITEMS, [5, 4, 4, 3, 5, 5, 4, 3, 5, 4, 5, 4, 5, 2, 4, 5, 4, 3, 4], strict=True))
# Submitted fully online, never had to come in, the result was late with an apology.
BEFORE = ["consent:yes", "channel:online_full", "info:portal", "info:done", "trips:0",
          "timing:late", "apology:yes"]  # fmt: skip
GRID = (
    [f"{c}:{RATINGS[c]}" for c in ITEMS[:16]]
    + ["f5:yes"]
    + [f"{c}:{RATINGS[c]}" for c in ITEMS[16:]]
)
AFTER = ["harass:none", "payment:some", "expect:faster", "expect:done", "comment:skip",
         "p.intro:no", "summary:submit"]  # fmt: skip


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    monkeypatch.delenv("SURVEY_METHOD", raising=False)
    with FakeTelegram(token="123456:E2E-token", username="sipas_test_bot") as server:
        yield server


@pytest.fixture
def bot(fake: FakeTelegram, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(fake, tmp_path, method=None)  # the default configuration
    assert "SURVEY_METHOD" not in process.env()
    process.start()
    yield process
    process.stop()


def test_the_default_survey_is_the_1001_form_end_to_end(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    fake.user_sends_command(CITIZEN, "/khaosat")
    consent = fake.wait_for_messages(CITIZEN, 1)[0]
    assert "19 tiêu chí chấm điểm" in (consent.text or "")
    for data in [*BEFORE, *GRID, *AFTER]:
        press(fake, CITIZEN, data)
    fake.wait_for(
        lambda f: any("Trân trọng cảm ơn" in (m.text or "") for m in f.messages(CITIZEN)),
        what="thanks",
    )
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        status, method = conn.execute(
            "SELECT status, questionnaire FROM survey_responses"
        ).fetchone()
        rows = conn.execute("SELECT item, value_int, value_text FROM answers").fetchall()
        (wording,) = conn.execute("SELECT wording FROM consents").fetchone()
    assert (status, method) == ("completed", "sipas-1001")
    assert re.fullmatch(r"sipas-1001/[0-9a-f]{16}", wording)  # no channel, no language
    answers = {item: (n if n is not None else t) for item, n, t in rows}
    assert {k: answers[k] for k in ITEMS} == RATINGS
    assert (answers["channel"], answers["trips"], answers["timing"]) == ("online_full", "0", "late")

    done = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--format", "json"],
        cwd=bot.workdir, env=bot.env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["method"] == "sipas-1001"
    assert report["completed"] == 1
    criteria = [c["code"] for e in report["elements"] for c in e["criteria"]]
    assert criteria == ITEMS
