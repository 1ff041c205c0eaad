"""End to end: a private message the bot cannot read is never met by silence.

A poll whose ``text`` is ``null`` (a field Telegram leaves out, sent as null by a client or a
proxy), a message without ``from`` (sent on behalf of a chat), a message of service fields
only: each private chat is answered at least with the polite hint, in polling and webhook
mode alike.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_telegram_input import STRAYS
from tests.support.bot_process import BotProcess, free_port
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_e2e import fake, texts

pytestmark = pytest.mark.e2e
__all__ = ["fake"]

POLL = STRAYS[0][0]
#: (fields sent, fields of the usual message left out, what the first answer contains)
ODD: list[tuple[dict[str, Any], tuple[str, ...], str]] = [
    ({**POLL, "text": None}, (), "Chúng tôi chưa đọc được cuộc thăm dò"),
    ({"text": "xin chào"}, ("from",), "Ông/Bà"),
    ({"dice": {"emoji": "🎲", "value": 4}}, ("from",), "Chúng tôi chưa đọc được biểu tượng"),
    ({"photo": None, "document": None, "text": None, "dice": {"emoji": "🎲", "value": 4}}, (),
     "Chúng tôi chưa đọc được biểu tượng"),
]  # fmt: skip


@pytest.fixture(params=["polling", "webhook"])
def bot(request: pytest.FixtureRequest, fake: FakeTelegram, tmp_path: Path) -> Iterator[BotProcess]:
    port = free_port() if request.param == "webhook" else None
    process = BotProcess(fake, tmp_path, webhook_port=port)
    process.start()
    yield process
    process.stop()


def _sent(
    fake: FakeTelegram, bot: BotProcess, chat: int, fields: Any, without: Collection[str]
) -> None:
    update = fake.user_sends_message(chat, fields, without=without)
    if bot.webhook:
        assert fake.post_update_to(bot.webhook_url, update, secret=bot.secret) == 200
    fake.wait_for(lambda f: update not in f.pending_update_ids(), what="the update confirmed")


def test_every_private_message_is_answered(fake: FakeTelegram, bot: BotProcess) -> None:
    for n, (fields, without, answer) in enumerate(ODD):
        chat = 7400 + n
        _sent(fake, bot, chat, fields, without)
        [first, *_] = fake.wait_for_messages(chat, 1)
        assert answer in (first.text or ""), (fields, texts(fake, chat))


def test_an_update_without_a_chat_is_recorded_and_confirmed(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    _sent(fake, bot, 7410, {"text": "xin chào"}, ("chat",))
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        rows = conn.execute("SELECT channel, stage FROM failed_events").fetchall()
    assert rows == [("telegram", "parse")]
    assert fake.messages(7410) == []
