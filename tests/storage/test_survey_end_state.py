"""Issue 10, anonymity by construction: the conversation row a survey leaves is the same
whichever way it ended (with a receipt or without; submitted by button or typed, declined,
cancelled, expired), so no chat's row tells which anonymous response is its own, or whether it
had a receipt. The one-survey-per-period rule still holds, from a record kept outside the
conversation (``survey_marks``): a keyed hash of chat and period, with no time and no chat id,
written for every submitted survey and for no other ending. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Inbound, InboundEvent, Text
from jobs.expiry import expire_due
from storage import read_transaction, write_transaction
from storage.queries.outbox import mark_sent, scrub_sent
from storage.queries.surveys import create_receipt
from storage.queries.web import append_message
from storage.schema import (
    contacts,
    conversations,
    outbox,
    processed_events,
    survey_marks,
    web_messages,
)
from tests.storage.test_dossier_anonymity import CHAT
from tests.support.clock import SequentialClock

START = datetime(2026, 3, 9, 2, 17, 41, tzinfo=UTC)
KEY = b"k" * 32
SETTINGS = DispatchSettings(survey_ttl=timedelta(days=7), survey_mark_key=KEY)


class Chat:
    def __init__(self, dispatcher: Dispatcher, deliver: bool = False) -> None:
        self.dispatcher = dispatcher
        self.n = 0
        #: Mark what each event queued as sent at once, as a sender would.
        self.deliver = deliver
        self.sent: set[int] = set()

    async def send(self, *payloads: Inbound) -> list[str]:
        keys: list[str] = []
        for payload in payloads:
            self.n += 1
            (handled,) = await self.dispatcher.process(
                [InboundEvent(f"e{self.n}", "telegram", CHAT, payload)]
            )
            assert isinstance(handled, Handled)
            keys = [m.key for m in handled.messages]
            if self.deliver:
                await self._deliver()
        return keys

    async def _deliver(self) -> None:
        engine = self.dispatcher.engine
        async with write_transaction(engine) as conn:
            pending = await conn.execute(select(outbox.c.id).where(outbox.c.status == "pending"))
            ids = [int(i) for i in pending.scalars()]
            await mark_sent(conn, ids, START + timedelta(minutes=5))
        self.sent |= set(ids)
        await scrub_sent(engine)

    async def to_summary(self) -> None:
        for _ in range(200):
            if "survey.summary" in await self.send(Text("bỏ qua")):
                return
        raise AssertionError("no summary")


async def _open(chat: Chat, receipt: bool) -> None:
    await chat.send(Command("start", "tok-mine") if receipt else Command("khaosat"))


async def _submitted(chat: Chat, receipt: bool) -> None:
    await _open(chat, receipt)
    await chat.send(Choice("consent:yes"))
    await chat.to_summary()
    assert "survey.thanks" in await chat.send(Choice("summary:submit"))


async def _typed(chat: Chat, receipt: bool) -> None:
    await _open(chat, receipt)
    await chat.send(Choice("consent:yes"))
    await chat.to_summary()
    assert "survey.thanks" in await chat.send(Text("gửi phiếu"))


async def _declined(chat: Chat, receipt: bool) -> None:
    await _open(chat, receipt)
    assert "survey.declined" in await chat.send(Choice("consent:no"))


async def _cancelled(chat: Chat, receipt: bool) -> None:
    await _open(chat, receipt)
    await chat.send(Choice("consent:yes"), Choice("1.1:4"))
    assert "cancel.survey" in await chat.send(Command("huy"))


async def _expired(chat: Chat, receipt: bool) -> None:
    await _open(chat, receipt)
    await chat.send(Choice("consent:yes"), Choice("1.1:4"))


ENDINGS: dict[str, Callable[[Chat, bool], Awaitable[None]]] = {
    "submitted": _submitted,
    "typed": _typed,
    "declined": _declined,
    "cancelled": _cancelled,
    "expired": _expired,
}


async def _ended(engine: AsyncEngine, ending: str, receipt: bool) -> tuple[Any, list[Any]]:
    """The chat's conversation row after the survey ended that way, and the marks."""
    async with write_transaction(engine) as conn:
        await create_receipt(conn, "tok-mine", "1.009972", START)
    clock = SequentialClock(start=START)
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=lambda: 7_373_737)
    await ENDINGS[ending](Chat(dispatcher), receipt)
    if ending == "expired":
        clock.advance(timedelta(days=8))
        assert await expire_due(dispatcher) == 1
    await dispatcher.close()
    async with read_transaction(engine) as conn:
        row = (
            await conn.execute(
                select(
                    conversations.c.flow,
                    conversations.c.step,
                    conversations.c.state,
                    conversations.c.expires_at,
                    conversations.c.remind_at,
                )
            )
        ).one()
        marks = list((await conn.execute(select(survey_marks))).mappings())
    return tuple(row), marks


@pytest.mark.parametrize("receipt", [False, True], ids=["walk-in", "receipt"])
@pytest.mark.parametrize("ending", ENDINGS)
async def test_every_ending_leaves_the_same_conversation_row(
    engine: AsyncEngine, ending: str, receipt: bool
) -> None:
    row, marks = await _ended(engine, ending, receipt)
    assert row == (None, None, {}, None, None)
    if ending in ("submitted", "typed"):
        # One row, whatever the receipt: a hash naming neither the chat nor a time.
        assert [set(m) for m in marks] == [{"mark", "period"}]
        assert marks[0]["period"] == "2026-03"
        assert CHAT not in marks[0]["mark"]
    else:
        assert marks == []


async def _dispatcher(engine: AsyncEngine, key: bytes = KEY) -> Dispatcher:
    async with write_transaction(engine) as conn:
        await create_receipt(conn, "tok-mine", "1.009972", START)
        await create_receipt(conn, "tok-two", "1.009972", START)
    settings = DispatchSettings(survey_ttl=timedelta(days=7), survey_mark_key=key)
    return Dispatcher(engine, settings, clock=SequentialClock(start=START))


async def test_a_second_survey_without_receipt_is_refused_after_any_submitted_one(
    engine: AsyncEngine,
) -> None:
    chat = Chat(await _dispatcher(engine))
    await _submitted(chat, receipt=True)
    assert await chat.send(Command("khaosat")) == ["survey.open_used", "menu.again"]
    assert await chat.send(Command("start", "tok-two")) != ["survey.open_used", "menu.again"]
    await chat.dispatcher.close()


async def test_a_cancelled_or_declined_survey_does_not_use_the_period(
    engine: AsyncEngine,
) -> None:
    chat = Chat(await _dispatcher(engine))
    await _declined(chat, receipt=False)
    await _cancelled(chat, receipt=False)
    await _submitted(chat, receipt=False)
    assert await chat.send(Command("khaosat")) == ["survey.open_used", "menu.again"]
    await chat.dispatcher.close()


async def test_the_rule_is_kept_per_key(engine: AsyncEngine) -> None:
    """Another key (another deployment, or a restart without RECEIPT_SECRET) finds no mark:
    the marks are not recomputable from the chat id alone."""
    chat = Chat(await _dispatcher(engine))
    await _submitted(chat, receipt=False)
    await chat.dispatcher.close()
    other = Chat(Dispatcher(engine, DispatchSettings(survey_mark_key=b"x" * 32)))
    other.n = 1000
    assert (await other.send(Command("khaosat")))[0] != "survey.open_used"
    await other.dispatcher.close()


async def test_a_second_tap_on_submit_is_answered_without_any_state(engine: AsyncEngine) -> None:
    chat = Chat(await _dispatcher(engine))
    await _submitted(chat, receipt=False)
    assert await chat.send(Choice("summary:submit")) == ["survey.none_to_submit"]
    await chat.dispatcher.close()


async def _outbox_rows(engine: AsyncEngine) -> list[Any]:
    async with read_transaction(engine) as conn:
        return list(await conn.execute(select(outbox.c.id, outbox.c.status, outbox.c.chat_id)))


@pytest.mark.parametrize("ending", ["submitted", "cancelled"])
async def test_the_replies_of_the_ending_leave_the_outbox_once_sent(
    engine: AsyncEngine, ending: str
) -> None:
    """The thanks (and what else the ending batch sent the chat) would keep the second the
    survey ended in ``created_at`` and ``sent_at``: gone once sent, like the survey's earlier
    messages. Another chat's messages stay."""
    chat = Chat(await _dispatcher(engine), deliver=True)
    (other,) = await chat.dispatcher.process(
        [InboundEvent("o1", "telegram", "other-chat", Command("trogiup"))]
    )
    assert isinstance(other, Handled)
    await ENDINGS[ending](chat, False)
    assert len(chat.sent) > 3  # the survey's messages, the ending's replies among them
    assert {(r.chat_id, r.status) for r in await _outbox_rows(engine)} == {("other-chat", "sent")}
    await chat.dispatcher.close()


async def test_a_web_message_keeps_only_the_hour(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await append_message(conn, "w-1", {"kind": "text", "text": "x"}, START)
    async with read_transaction(engine) as conn:
        (at,) = (await conn.execute(select(web_messages.c.created_at))).one()
    assert at == START.replace(minute=0, second=0)


async def test_event_times_and_contact_creations_keep_only_the_hour(engine: AsyncEngine) -> None:
    """``processed_events.processed_at`` and ``contacts.created_at`` keep the hour only: the
    exact second of one would match the other's (a join path from event to chat), and the
    contact's, next to a log's times, would tell which chat wrote when."""
    chat = Chat(await _dispatcher(engine))
    await chat.send(Command("trogiup"))
    await chat.dispatcher.close()
    async with read_transaction(engine) as conn:
        created = set((await conn.execute(select(contacts.c.created_at))).scalars())
        processed = set((await conn.execute(select(processed_events.c.processed_at))).scalars())
    assert processed
    assert created
    for at in created | processed:
        assert (at.minute, at.second, at.microsecond) == (0, 0, 0), at
