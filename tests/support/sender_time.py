"""The sender's time, the test's: a clock only the test moves and an ``asyncio`` that writes
down every wait (``tests/bot/test_sender_loop.py``, ``test_sender_serve.py``; the fixtures
that put them in the sender module are in ``tests/bot/conftest.py``)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.send_budget import Limits
from bot.runtime.sender import OutboxSender
from tests.bot.test_sender import Channel, Clock

START = 1000.0


class Moment:
    """The sender's ``time``: ``monotonic()`` and ``time()`` read ``now``, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


class Waits:
    """The sender's ``asyncio``: the real one, but each ``wait``'s timeout and each ``sleep``
    are written down, and a sleep moves the test's clock instead of waiting."""

    def __init__(self, moment: Moment) -> None:
        self.moment = moment
        self.timeouts: list[float | None] = []
        self.sleeps: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def wait(self, fs: Any, **options: Any) -> Any:
        self.timeouts.append(options.get("timeout"))
        return await asyncio.wait(fs, **options)

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.moment.now += delay
        await asyncio.sleep(0)


def bare_sender(chats: int = 100, channel: Channel | None = None) -> OutboxSender:
    """A sender whose database is never reached: the test stands in for what would."""
    return OutboxSender(
        cast(AsyncEngine, None), channel or Channel(), Clock(), Limits(), chats=chats
    )
