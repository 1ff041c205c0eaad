"""What the process prints, even at LOG_LEVEL=DEBUG: no secret, no personal data (rule 25)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_anonymity_attack import THANKS, _act, _path
from tests.e2e.test_telegram_api import AFTER, BEFORE, GRID
from tests.support.bot_process import BotProcess, free_port, press, send_and_wait
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_zalo import FakeZalo

pytestmark = pytest.mark.e2e

# A token of Telegram's real shape: the bot id, a colon, 35 characters.
TOKEN = "7350014297:AAHk3vQ9xZ_pL2mN8rT5wY1cE6fJ0dSbUo4"
CHAT = 5820417736  # a raw chat id: only its salted hash may appear
NAME = "Hoàng Thị Mai"  # the citizen's Telegram name
COMMENT = "Cán bộ Trần Văn Bình hướng dẫn rất tận tình, số của tôi 0987 654 321"
REPORTER = "Phạm Quốc Khánh"
PHONE = "0903 112 358"
DESCRIPTION = "Công trình không phép ở ngõ 48 phố Hàng Bạc lấn chiếm lối đi chung"
RECEIPT_SECRET = "receipt-salt-Vx81mQ"
WEBHOOK_SECRET = "hook-secret-Jq93LzP0aa"
ZALO_USER = "4471829301127730015"
ZALO_TEXT = "Tôi là Đặng Văn Long, nhà số 7 ngõ Huế"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token=TOKEN, username="sipas_test_bot") as server:
        yield server


def _leaks(output: str, secrets: Iterable[str], numbers: Iterable[int | str] = ()) -> list[str]:
    found = [s for s in secrets if s and s in output]
    found += [str(n) for n in numbers if re.search(rf"(?<![0-9a-f]){n}(?![0-9a-f])", output)]
    return found


def _digits(phone: str) -> list[str]:
    return [phone, phone.replace(" ", "")]


def test_debug_logs_of_a_survey_and_a_complaint_hold_no_secret(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(
        fake, tmp_path, extra_env={"LOG_LEVEL": "DEBUG", "RECEIPT_SECRET": RECEIPT_SECRET}
    )
    bot.start()
    try:
        count = len(fake.messages(CHAT))
        fake.user_sends_text(CHAT, "/khaosat", first_name=NAME)
        fake.wait_for_messages(CHAT, count + 1)
        for data in [*BEFORE, *GRID, *AFTER[:4]]:
            press(fake, CHAT, data)
        send_and_wait(fake, CHAT, COMMENT)  # the free comment, typed
        press(fake, CHAT, "p.intro:no")
        press(fake, CHAT, "summary:submit")
        send_and_wait(fake, CHAT, "/phananh")
        press(fake, CHAT, "c.cat:capphep")
        send_and_wait(fake, CHAT, DESCRIPTION)
        press(fake, CHAT, "c.files:done")
        press(fake, CHAT, "c.who:named")
        send_and_wait(fake, CHAT, REPORTER)
        send_and_wait(fake, CHAT, PHONE)
        send_and_wait(fake, CHAT, "Số 7 đường Trường Chinh, phường Phủ Lý")
        press(fake, CHAT, "c.confirm:send")
        fake.wait_for(
            lambda f: any("Mã phản ánh:" in (m.text or "") for m in f.messages(CHAT)),
            what="the tracking code",
        )
    finally:
        bot.stop()
    output = bot.output()
    assert "level=DEBUG" in output  # the test reads a debug log, not a quiet one
    secrets = [TOKEN, TOKEN.split(":")[1], RECEIPT_SECRET, NAME, COMMENT, REPORTER, DESCRIPTION]
    secrets += ["Trần Văn Bình", "Hàng Bạc", *_digits(PHONE), *_digits("0987 654 321")]
    assert _leaks(output, secrets, [CHAT]) == []


def test_debug_logs_of_webhook_and_zalo_hold_no_secret(fake: FakeTelegram, tmp_path: Path) -> None:
    with FakeZalo(app_secret="zalo-app-secret-9Qx7", oa_secret="zalo-oa-secret-K2m4") as zalo:
        bot = BotProcess(
            fake,
            tmp_path,
            webhook_port=free_port(),
            secret=WEBHOOK_SECRET,
            extra_env={
                "LOG_LEVEL": "DEBUG",
                "ZALO_APP_ID": zalo.app_id,
                "ZALO_APP_SECRET": zalo.app_secret,
                "ZALO_OA_SECRET": zalo.oa_secret,
                "ZALO_OA_ID": zalo.oa_id,
                "ZALO_API_BASE_URL": zalo.base_url,
                "ZALO_OAUTH_BASE_URL": zalo.oauth_url,
            },
        )
        first_access, first_refresh = zalo.issue_tokens()
        stored = subprocess.run(
            [sys.executable, "-m", "bot", "zalo", "set-token", "--refresh-token", first_refresh,
             "--access-token", first_access, "--expires-in", "90000"],
            cwd=tmp_path, env=bot.env(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert stored.returncode == 0, stored.stderr
        bot.start()
        try:
            update = fake.user_sends_text(CHAT, "/khaosat", first_name=NAME)
            assert fake.post_update_to(bot.webhook_url, update, secret=WEBHOOK_SECRET) == 200
            fake.wait_for_messages(CHAT, 1)
            update = fake.user_sends_text(CHAT, COMMENT, first_name=NAME)
            assert fake.post_update_to(bot.webhook_url, update, secret=WEBHOOK_SECRET) == 200
            zalo.expire_access_token()  # the next send refreshes the pair
            url = f"http://127.0.0.1:{bot.webhook_port}/zalo"
            assert zalo.post(url, zalo.user_text(ZALO_USER, "/start")) == 200
            zalo.wait_for_messages(ZALO_USER, 1)
            assert zalo.post(url, zalo.user_text(ZALO_USER, ZALO_TEXT)) == 200
            zalo.wait_for_messages(ZALO_USER, 2)
            assert len(zalo.refreshes) == 1
        finally:
            bot.stop()
        tokens = [first_access, first_refresh, zalo.access_token, zalo.refresh_token]
    output = bot.output()
    assert "level=DEBUG" in output
    secrets = [TOKEN, TOKEN.split(":")[1], WEBHOOK_SECRET, zalo.app_secret, zalo.oa_secret]
    secrets += [*(t for t in tokens if t), NAME, COMMENT, ZALO_TEXT]
    assert _leaks(output, secrets, [CHAT, ZALO_USER]) == []


def test_an_answer_cut_short_is_not_printed_at_the_default_level(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """A getUpdates answer that is not JSON (cut short by a proxy, say): the Telegram library
    prints the whole body at ERROR ("Can not load invalid JSON data"), the citizen's id, name
    and message with it. At the default level the line says that it happened, not what."""
    bot = BotProcess(fake, tmp_path)  # LOG_LEVEL=INFO, the default
    bot.start()
    try:
        fake.garble_next("getUpdates")
        count = len(fake.messages(CHAT))
        fake.user_sends_text(CHAT, COMMENT, first_name=NAME)
        fake.wait_for_messages(CHAT, count + 1, timeout=30)  # answered after the next poll
    finally:
        bot.stop()
    output = bot.output()
    assert "event=poll_failed error=TelegramError" in output  # the cut answer was received
    assert _leaks(output, [TOKEN, TOKEN.split(":")[1], NAME, COMMENT, "0987"], [CHAT]) == []


#: What differs between two runs of the same process whatever their chats did: times,
#: durations, the free port, random references and the scheduler's next run times.
MASKS = (
    (re.compile(r"time=\S+ \S+"), "time=T"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( ?[+-]\d\d(:\d\d)?)?"), "DATE"),
    (re.compile(r"\b(ms\w*)=[\d.]+"), r"\1=X"),
    (re.compile(r"127\.0\.0\.1:\d+|web :\d+"), "PORT"),
    (re.compile(r"in [\d.]+ seconds"), "in S seconds"),
    (re.compile(r"\bref=[0-9a-f]+"), "ref=R"),
)


def _masked(output: str) -> Counter[str]:
    """The lines of a log as a multiset, masked (``MASKS``): which lines, how many of each."""
    lines = []
    for line in output.splitlines():
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return Counter(lines)


def _survey_log(workdir: Path, chat: int, steps: list[str]) -> str:
    """The DEBUG log of a process in whose life one citizen answers one survey (``steps``),
    on a Bot API of its own (one shared would hand the second process the first's last
    unconfirmed update)."""
    workdir.mkdir()
    with FakeTelegram(token=TOKEN, username="sipas_test_bot") as fake:
        bot = BotProcess(fake, workdir, extra_env={"LOG_LEVEL": "DEBUG"})
        bot.start()
        try:
            send_and_wait(fake, chat, "/khaosat")
            for step in steps:
                _act(fake, chat, step)
            fake.wait_for(lambda f: any(THANKS in (m.text or "") for m in f.messages(chat)))
        finally:
            bot.stop()
    return bot.output()


def test_two_lone_citizens_down_different_routes_leave_the_same_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 10: with one citizen active in a process's life, its log (at DEBUG, the most it
    says) must not tell which way their survey went. One answers that the result was late
    (the apology question follows), rates the 5.x criteria and types a comment; the other was
    on time, skips the 5.x criteria and the comment: five events fewer, none of them typed.
    Their logs, times and durations masked, are the same lines, as many of each."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    late = _survey_log(tmp_path / "late", 7301, _path("late", "no", "yes", COMMENT))
    on_time = _survey_log(tmp_path / "ontime", 7302, _path("ontime", None, "no", None))
    assert "level=DEBUG" in late  # the most the process says, not a quiet log
    first, second = _masked(late), _masked(on_time)
    assert first == second, (first - second, second - first)
