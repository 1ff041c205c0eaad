"""Issue 10, anonymity in logs: the log at INFO (the default) has no line per event, and no
line names a chat beside an event or a message. Such lines in a row, one chat's, were its survey's route
(how many steps, how many messages: "late" brings one more question, "no feedback" skips
four), and a complaint's exact ``created_at`` picked out its person's pseudonym among them.

Surveys down different routes and a complaint go through the dispatcher, then their replies
through the sender over a channel that fails now and then (retries, dead messages); the log
keeps counts and timings for the operator, never a chat beside them."""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import PermanentSendError, TransientSendError
from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Inbound, InboundEvent, Text
from storage import read_transaction, write_transaction
from storage.schema import complaints, outbox
from tests.bot.test_sender import Channel, _sender
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

CHATS = ["7001", "7002", "7003", "7004"]
COMPLAINT: list[Inbound] = [
    Command("phananh"),
    Choice("c.cat:capphep"),
    Text("Hồ sơ chờ lâu quá hạn"),
    Choice("c.files:done"),
    Choice("c.who:anon"),
    Choice("c.addr:skip"),
    Choice("c.confirm:send"),
]
PSEUDONYM = re.compile(r"\bchat=(\S+)")


async def _complain(dispatcher: Dispatcher, chat: str) -> None:
    for n, payload in enumerate(COMPLAINT):
        event = InboundEvent(f"c{chat}-{n}", "telegram", chat, payload)
        (handled,) = await dispatcher.process([event])
        assert isinstance(handled, Handled)


def _script(chat: str, _text: str, n: int) -> None:
    if chat == CHATS[-1]:
        raise PermanentSendError("Bad Request: chat not found")
    if n % 3 == 0:
        raise TransientSendError("Bad Gateway")


async def test_no_info_line_ties_a_chat_to_its_events(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = SequentialClock(start=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    steps = {}
    for n, chat in enumerate(CHATS):
        steps[chat] = await complete_survey(dispatcher, chat, random.Random(n), channel="telegram")
    await _complain(dispatcher, CHATS[0])
    await dispatcher.close()
    assert len(set(steps.values())) > 1  # the routes differ: a count would tell them apart
    channel = Channel(_script)
    sender = _sender(engine, channel)
    for _ in range(40):
        await sender.drain_once()
        async with write_transaction(engine) as conn:
            await conn.execute(update(outbox).values(not_before=None))
            waiting = await conn.execute(select(outbox.c.id).where(outbox.c.status == "pending"))
            if not waiting.first():
                break
    async with read_transaction(engine) as conn:
        filed = (await conn.execute(select(complaints.c.created_at))).scalar_one()
    assert filed is not None

    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    kinds = Counter(line.split()[0] for line in lines)
    # Each event counted and timed for whoever troubleshoots at DEBUG; none at INFO, where a
    # lone citizen's lines in a row, even with no chat, would trace their survey's route.
    handled = [line for line in debug if line.startswith("event=handled")]
    assert len(handled) == sum(steps.values()) + len(COMPLAINT)
    assert all(re.search(r"\bms=\d", line) for line in handled)
    assert not any(PSEUDONYM.search(line) for line in handled)
    assert kinds["event=handled"] == 0
    # Each failure still said at INFO.
    assert kinds["event=send_retry"] > 0
    assert kinds["event=send_dead"] > 0
    # But no chat beside them: a pseudonym with the lines of its events (or of its messages)
    # would be the route of its survey, and the complaint's exact time would name it.
    named = [line for line in lines if PSEUDONYM.search(line)]
    assert named == []
