"""Issue 10, anonymity by construction, while sends fail: a citizen answers a survey by
pressing the buttons of messages already delivered, but nothing the bot queues leaves (the
Bot API answers 502, or no sender runs). Each press queues an edit showing the chosen answer
under its question ("→ 4"), and the submit an edit of the summary with its per-group
averages; all stay pending under the chat id. Once the survey ended, no row of any table
may hold that chat next to an answer, an average, or the comment: the survey's messages
leave the outbox in the transaction that ends it, and the summary pressed becomes a line
without the answers. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Inbound, InboundEvent, Message, Origin, Text
from storage import read_transaction
from storage.metadata import metadata
from storage.schema import outbox, survey_responses
from tests.support.clock import SequentialClock

START = datetime(2026, 3, 9, 2, 17, 41, tzinfo=UTC)
CHAT = "5150001"
OTHER = "5150002"
COMMENT = "Phòng chờ nóng, thiếu ghế cho người già"
#: What no row naming the chat may hold once the survey ended: the echo of a chosen answer,
#: a summary line's average, the comment typed.
ANSWER_MARKS = ("→", "trung bình", "Tóm tắt", COMMENT)


class FailingChat:
    """One chat whose messages are never sent: each press names the message it was on."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.n = 0
        self.last: Message | None = None
        self.pressed: set[str] = set()

    def event(self, payload: Inbound, origin: Origin | None = None) -> InboundEvent:
        self.n += 1
        return InboundEvent(f"e{self.n}", "telegram", CHAT, payload, origin=origin)

    async def run(self, *events: InboundEvent) -> list[Message]:
        """The events in one batch (one transaction); the last message with buttons is kept
        as what the citizen sees next."""
        handled = await self.dispatcher.process(list(events))
        messages = [m for h in handled if isinstance(h, Handled) for m in h.messages]
        assert len(handled) == len(events)
        assert all(isinstance(h, Handled) for h in handled)
        asked = [m for m in messages if m.choices]
        if asked:
            self.last = asked[-1]
        return messages

    def press(self, choice_id: str) -> InboundEvent:
        """A press on the message last shown, as Telegram reports it (its text, the label)."""
        assert self.last is not None
        label = dict(self.last.choices).get(choice_id)
        origin = Origin(f"m{self.n}", self.last.text, label)
        return self.event(Choice(choice_id), origin)

    def next_press(self) -> InboundEvent:
        """An answer to the question shown: 4 on a scale, the first option of a list (then
        "done" on a multiple choice), the comment typed."""
        assert self.last is not None
        ids = [i for i, _ in self.last.choices]
        step = ids[0].partition(":")[0]
        if self.last.key == "survey.question" and ids[0].endswith(":back"):
            return self.event(Text(COMMENT))  # a text question: only back and skip
        for wanted in (f"{step}:4", f"{step}:yes"):
            if wanted in ids:
                return self.press(wanted)
        if self.last.key == "survey.question.multi" and step in self.pressed:
            return self.press(f"{step}:done")
        self.pressed.add(step)
        answers = [i for i in ids if not i.endswith((":back", ":skip", ":done"))]
        return self.press(answers[0])

    async def to_summary(self) -> None:
        await self.run(self.event(Command("khaosat")))
        await self.run(self.press("consent:yes"))
        for _ in range(200):
            assert self.last is not None
            if self.last.key == "survey.summary":
                return
            await self.run(self.next_press())
        raise AssertionError("no summary")


async def _submit_pressed(chat: FailingChat) -> None:
    await chat.run(chat.press("summary:submit"))


async def _submit_typed(chat: FailingChat) -> None:
    await chat.run(chat.event(Text("gửi phiếu")))


async def _back_and_submit_in_one_batch(chat: FailingChat) -> None:
    """ "Back" on the summary, an answer to the last question again, and the submit on the
    summary shown before, all in one batch: the echoes queued by the batch go too."""
    back = chat.press("summary:back")
    summary = chat.last
    await chat.run(back)  # the last question again, answered below in the same batch
    answer = chat.next_press()
    chat.last = summary
    await chat.run(answer, chat.press("summary:submit"))


ENDINGS = {
    "pressed": _submit_pressed,
    "typed": _submit_typed,
    "one-batch": _back_and_submit_in_one_batch,
}


async def _every_row(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(table, row as text) for every row of every table."""
    rows: list[tuple[str, str]] = []
    async with read_transaction(engine) as conn:
        for table in metadata.sorted_tables:
            found = await conn.execute(select(table))
            rows += [(table.name, repr(tuple(r))) for r in found]
    return rows


async def _pending(engine: AsyncEngine) -> list[tuple[str, Any]]:
    async with read_transaction(engine) as conn:
        found = await conn.execute(
            select(outbox.c.chat_id, outbox.c.payload).where(outbox.c.status == "pending")
        )
        return [(str(chat), payload) for chat, payload in found]


@pytest.mark.parametrize("ending", ENDINGS)
async def test_nothing_queued_to_the_chat_keeps_its_answers_once_the_survey_ended(
    engine: AsyncEngine, ending: str
) -> None:
    settings = DispatchSettings(survey_ttl=timedelta(days=7), survey_mark_key=b"k" * 32)
    dispatcher = Dispatcher(engine, settings, clock=SequentialClock(start=START))
    chat = FailingChat(dispatcher)
    # Another chat's message, queued before and never sent either: it stays.
    await dispatcher.process([InboundEvent("o1", "telegram", OTHER, Command("trogiup"))])
    others = [p for c, p in await _pending(engine) if c == OTHER]
    assert others
    await chat.to_summary()
    # Before the end the echoes and the summary are queued, as a sender that fails finds them.
    queued = repr([p for c, p in await _pending(engine) if c == CHAT])
    assert "→" in queued
    assert "trung bình" in queued
    await ENDINGS[ending](chat)
    await dispatcher.close()

    async with read_transaction(engine) as conn:
        ended = list((await conn.execute(select(survey_responses.c.status))).scalars())
    assert ended == ["completed"]  # the answers are kept, without the chat
    linked = [
        (table, row)
        for table, row in await _every_row(engine)
        if CHAT in row and any(mark in row for mark in ANSWER_MARKS)
    ]
    assert linked == []
    # What is still queued to the chat is the ending's own, which says nothing of the answers.
    keys = [p["key"] for c, p in await _pending(engine) if c == CHAT]
    assert "survey.thanks" in keys
    assert not {k for k in keys if k.startswith("survey.")} - {
        "survey.thanks",
        "survey.summary.sent",
    }
    assert [p for c, p in await _pending(engine) if c == OTHER] == others


async def test_a_survey_deleted_in_progress_leaves_no_queued_answer(engine: AsyncEngine) -> None:
    """/xoadulieu in the middle of a survey deletes its answers: the survey's messages still
    queued to the chat (the answers shown on its questions, the summary) go with them."""
    dispatcher = Dispatcher(engine, DispatchSettings(survey_mark_key=b"k" * 32))
    chat = FailingChat(dispatcher)
    await chat.to_summary()
    await chat.run(chat.event(Command("xoadulieu")))
    await chat.run(chat.press("forget:yes"))
    await dispatcher.close()
    async with read_transaction(engine) as conn:
        assert list(await conn.execute(select(survey_responses.c.id))) == []
    rows = [row for _, row in await _every_row(engine) if CHAT in row]
    # The one answer still shown is the one to the deletion question itself.
    rows = [row for row in rows if "muốn xóa dữ liệu" not in row]
    assert [row for row in rows if any(mark in row for mark in ANSWER_MARKS)] == []
