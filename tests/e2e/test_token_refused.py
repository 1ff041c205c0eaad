"""End to end: a Telegram token Telegram refuses (401 Unauthorized: revoked in @BotFather)
is said once at ERROR and never printed. At the start it stops the process (exit 2). While
polling it makes /healthz answer 503 with the reason; with Telegram as the only channel the
process exits 2 after TELEGRAM_TOKEN_REFUSED_EXIT_SECONDS of refused polls, so a supervisor
sees it; with the web chat served too it stays up for the web chat, and is well again once
the token works. Replies refused meanwhile (401 to a send) wait for the token instead of
going dead."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.bot_process import START_S, BotProcess, free_port, send_and_wait
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.e2e

TOKEN = "123456:E2E-refused-Secret-Part-0123456789"
SECRET_PART = TOKEN.split(":", 1)[1]
#: The bound given to the process: short, so the test ends soon.
EXIT_AFTER_S = "2"
ALONE = {"WEB_CHAT": "false", "TELEGRAM_TOKEN_REFUSED_EXIT_SECONDS": EXIT_AFTER_S}
WITH_WEB = {"WEB_CHAT": "true", "TELEGRAM_TOKEN_REFUSED_EXIT_SECONDS": EXIT_AFTER_S}
BAD_TOKEN = "TELEGRAM_BOT_TOKEN was refused by Telegram"
#: How long a waited-for state may take on a busy machine (the wait ends as soon as it holds).
WAIT_S = 90.0


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token=TOKEN, username="sipas_test_bot") as server:
        yield server


def _health(process: BotProcess) -> tuple[int, dict[str, object]]:
    url = f"http://127.0.0.1:{process.webhook_port}/healthz"
    answer = httpx.get(url, timeout=30, trust_env=False)
    return answer.status_code, answer.json()


def _wait(condition: object, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _exit_code(process: BotProcess) -> int:
    assert process.proc is not None
    try:
        return process.proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        process.proc.kill()
        raise


def _said_once_and_never_the_token(output: str) -> None:
    errors = [line for line in output.splitlines() if "level=ERROR" in line]
    assert len(errors) == 1, output
    assert "event=token_refused channel=telegram" in errors[0]
    assert SECRET_PART not in output
    assert "Traceback" not in output


def _refused_polls(fake: FakeTelegram) -> int:
    return sum(c.status == 401 for c in fake.calls_to("getUpdates"))


@pytest.mark.parametrize(
    ("env", "stays_up"), [(ALONE, False), (WITH_WEB, True)], ids=["alone", "with-web-chat"]
)
def test_a_token_revoked_while_polling(
    fake: FakeTelegram, tmp_path: Path, env: dict[str, str], stays_up: bool
) -> None:
    process = BotProcess(fake, tmp_path, extra_env=env)
    process.start()
    try:
        send_and_wait(fake, 7401, "/start")
        assert _health(process)[0] == 200
        fake.revoke_token()
        if not stays_up:
            assert _exit_code(process) == 2
            output = process.output()
            _said_once_and_never_the_token(output)
            assert "event=token_refused channel=telegram method=getUpdates" in output
            assert BAD_TOKEN in output
            return
        _wait(lambda: _health(process)[0] == 503, "/healthz to answer 503")
        status, body = _health(process)
        assert status == 503
        assert body["ok"] is False
        assert body["status"] == "down"
        telegram = body["telegram"]
        assert isinstance(telegram, dict)
        assert telegram["status"] == "token_refused"
        # Past the bound (1 + 2 s between the refused polls, bound 2 s) it is still up and
        # the web chat still answers.
        _wait(lambda: _refused_polls(fake) >= 3, "three refused polls")
        assert process.proc is not None
        assert process.proc.poll() is None
        page = httpx.get(f"http://127.0.0.1:{process.webhook_port}/", timeout=30, trust_env=False)
        assert page.status_code == 200
        fake.restore_token()
        _wait(lambda: _health(process)[0] == 200, "/healthz well again")
        send_and_wait(fake, 7401, "/trogiup", timeout=WAIT_S)
        output = process.output()
        _said_once_and_never_the_token(output)
        assert "event=token_accepted channel=telegram" in output
    finally:
        process.stop()


@pytest.mark.parametrize("env", [ALONE, WITH_WEB], ids=["alone", "with-web-chat"])
def test_a_token_refused_at_the_start_stops_the_process(
    fake: FakeTelegram, tmp_path: Path, env: dict[str, str]
) -> None:
    """A setting to fix, like any wrong setting: whatever other channels there are."""
    fake.revoke_token()
    process = BotProcess(fake, tmp_path, extra_env=env)
    try:
        with pytest.raises(RuntimeError, match="bot exited with 2"):
            process.start(timeout=START_S)
        output = process.output()
        _said_once_and_never_the_token(output)
        assert "event=token_refused channel=telegram method=start" in output
        assert BAD_TOKEN in output
    finally:
        process.stop()


def test_replies_refused_for_the_token_wait_for_it(fake: FakeTelegram, tmp_path: Path) -> None:
    """Webhook mode: updates still come in while every send is refused (401); the reply
    waits (no attempt spent) and leaves once the token works again, instead of going dead."""
    process = BotProcess(fake, tmp_path, webhook_port=free_port())
    process.start()
    try:
        fake.revoke_token()
        update = fake.user_sends_text(7402, "/trogiup")
        assert fake.post_update_to(process.webhook_url, update, process.secret) == 200
        _wait(
            lambda: any(c.status == 401 for c in fake.calls_to("sendMessage")),
            "a send refused for the token",
        )
        fake.restore_token()
        [reply, *_] = fake.wait_for_messages(7402, 1, timeout=WAIT_S)
        assert reply.text
        assert SECRET_PART not in process.output()
    finally:
        process.stop()
