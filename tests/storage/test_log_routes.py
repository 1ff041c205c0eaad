"""Issue 10, anonymity in logs: at no level a line per event or per message, and no line
names a chat beside an event or a message. Such lines in a row, even with no chat, were a lone
citizen's survey's route (how many steps, how many messages: "late" brings one more
question, "no feedback" skips four), and a complaint's exact ``created_at`` picked out its
person's pseudonym among them.

Surveys down different routes and a complaint go through the dispatcher, then their replies
through the sender over a channel that fails now and then (retries, dead messages); the log
keeps one aggregate line for the operator: the events outside surveys counted and timed, the
kinds of failure seen, never a chat."""

from __future__ import annotations

import logging
import random
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import PermanentSendError, TransientSendError
from bot.runtime.activity import ACTIVITY
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


async def test_no_line_counts_a_survey_or_names_a_chat(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ACTIVITY.take()  # what earlier tests of this process tallied
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

    ACTIVITY.flush()
    said = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    # No line per event or per message, at any level: one aggregate line.
    assert [line for line in said if not line.startswith("event=activity")] == [], said
    (line,) = said
    # The complaint's events counted and timed; no survey event counted: with one citizen
    # active alone, the count was their route.
    assert f"events={len(COMPLAINT)} " in line
    assert re.search(r"\bms_p50=\d+\.\d ms_p99=\d+\.\d ms_max=\d+\.\d\b", line), line
    # Each kind of failure said, with its class, not how many times.
    errors = dict(e.split(":") for e in line.split("errors=")[1].split(","))
    assert errors == {"telegram_retry": "TransientSendError", "telegram_dead": "PermanentSendError"}
    assert not PSEUDONYM.search(line)
