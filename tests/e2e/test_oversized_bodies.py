"""End to end against ``python -m bot``: a body over a webhook's or the web chat's cap, or
one sent to an endpoint that refuses before reading it, gets a clean HTTP answer (413, or
the 403 of a missing secret), never a reset connection.

``urllib`` is the client on purpose: like many HTTP libraries it sends the whole body before
it reads the answer, so a server that answers early and closes the socket with the body
unread makes the kernel reset the connection, and the answer is lost.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_zalo_api import _url, bot, zalo
from tests.support.bot_process import BotProcess, free_port
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_e2e import fake

pytestmark = pytest.mark.e2e
__all__ = ["bot", "fake", "zalo"]

BIG = b'{"event_name":"user_send_text","timestamp":"1","x":"' + b"a" * (5 * 1024 * 1024) + b'"}'


def _chunks() -> Iterator[bytes]:
    for start in range(0, len(BIG), 65536):
        yield BIG[start : start + 65536]


def _status(url: str, *, chunked: bool = False, headers: dict[str, str] | None = None) -> int:
    """The HTTP status the server answered; a reset connection fails the test (URLError)."""
    request = urllib.request.Request(
        url,
        data=_chunks() if chunked else BIG,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_huge_bodies_to_zalo_and_the_web_chat_get_a_clean_answer(bot: BotProcess) -> None:
    base = f"http://127.0.0.1:{bot.webhook_port}"
    signature = {"X-ZEvent-Signature": "mac=00"}
    for _ in range(2):
        assert _status(_url(bot), headers=signature) == 413
        assert _status(_url(bot), chunked=True, headers=signature) == 413
        # Refused before the body is read (no visitor cookie): a clean 403 all the same.
        assert _status(f"{base}/chat/upload") == 403
        assert _status(f"{base}/chat/send", chunked=True) == 403


def test_huge_bodies_to_the_telegram_webhook_get_a_clean_answer(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(fake, tmp_path, webhook_port=free_port())
    bot.start()
    try:
        secret = {"X-Telegram-Bot-Api-Secret-Token": bot.secret}
        for _ in range(2):
            assert _status(bot.webhook_url, headers=secret) == 413
            assert _status(bot.webhook_url, chunked=True, headers=secret) == 413
            assert _status(bot.webhook_url) == 403  # no secret: refused before reading
    finally:
        bot.stop()
