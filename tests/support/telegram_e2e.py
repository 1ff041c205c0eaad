"""What the end-to-end tests over the fake Bot API share: the fake server and the real bot
process as fixtures (import them into a test module to use them), and reading what the bot
sent to a chat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bot_process import BotProcess
from tests.support.fake_telegram import FakeTelegram

#: A PNG's signature and binary bytes after it (NUL included): a photo as the API sends it.
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    """The fake Bot API server (PTB reads its timedeltas as such)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token="123456:E2E-token", username="sipas_test_bot") as server:
        yield server


@pytest.fixture
def bot(fake: FakeTelegram, tmp_path: Path) -> Iterator[BotProcess]:
    """``python -m bot`` against :func:`fake`, stopped after the test."""
    process = BotProcess(fake, tmp_path)
    process.start()
    yield process
    process.stop()


def texts(fake: FakeTelegram, chat: int, since: int = 0) -> list[str]:
    """The texts (or captions) the bot sent to ``chat``, after the first ``since``."""
    return [m.text or m.caption or "" for m in fake.messages(chat)[since:]]


def wait_text(fake: FakeTelegram, chat: int, needle: str, since: int = 0) -> int:
    """Waits for a bot message containing ``needle`` after the first ``since``; its index."""
    found = fake.wait_for(
        lambda f: next(
            (since + i for i, t in enumerate(texts(f, chat, since)) if needle in t), None
        ),
        what=needle,
    )
    assert found is not None
    return int(found)
