"""A notice with buttons delivered normally (no window, no re-send) is the question the
reporter's chat answers by typing, on any channel (re-tester #2, found on Zalo: "5" typed
for a rating request opened the language picker). Through the dispatcher and the database,
on SQLite and PostgreSQL: the question is kept with the reporter's conversation when staff
queue the notice, read (and cleared) by the chat's next event, and not written into the row
of a chat in the middle of a task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Inbound, InboundEvent, Text
from storage import read_transaction
from storage.queries.outbox import pending
from storage.schema import complaints, contacts, conversations
from tests.support.clock import SequentialClock, SequentialIds

STAFF = "staff-1"
CITIZEN = "citizen-1"
SETTINGS = DispatchSettings(survey_ttl=timedelta(days=7), admin_chats=(("telegram", STAFF),))
COMPLAINT: list[Inbound] = [
    Command("phananh"),
    Choice("c.cat:capphep"),
    Text("Hồ sơ chờ lâu quá hạn"),
    Choice("c.files:done"),
    Choice("c.who:anon"),
    Choice("c.addr:skip"),
    Choice("c.confirm:send"),
]


class Chats:
    def __init__(self, engine: AsyncEngine, clock: SequentialClock) -> None:
        self.engine = engine
        self.clock = clock
        self.dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=SequentialIds())
        self.n = 0

    async def say(self, chat: str, *payloads: Inbound) -> list[list[str]]:
        """Each payload from ``chat`` in a batch of its own: the keys of its replies."""
        said = []
        for payload in payloads:
            self.n += 1
            event = InboundEvent(f"e{self.n}", "telegram", chat, payload, admin=chat == STAFF)
            [done] = await self.dispatcher.process([event])
            assert isinstance(done, Handled)
            said.append([m.key for m in done.messages])
        return said

    async def filed(self) -> str:
        await self.say(CITIZEN, *COMPLAINT)
        async with read_transaction(self.engine) as conn:
            queued = await pending(conn, "telegram", self.clock(), chat_id=STAFF, limit=100)
        texts = [getattr(q.message, "text", "") for q in queued]
        [code] = {w.strip(".,:") for t in texts for w in t.split() if w.startswith("PA-")}
        return code

    async def question(self) -> str | None:
        async with read_transaction(self.engine) as conn:
            found = await conn.execute(
                select(conversations.c.notice_question)
                .join(contacts, contacts.c.id == conversations.c.contact_id)
                .where(contacts.c.external_id == CITIZEN)
            )
            question = found.scalar_one()
            return None if question is None else str(question)

    async def rating(self, code: str) -> int | None:
        async with read_transaction(self.engine) as conn:
            found = await conn.execute(select(complaints.c.rating).where(complaints.c.code == code))
            rating = found.scalar_one()
            return None if rating is None else int(rating)


@pytest.mark.parametrize("typed", ["5", " 5 ", "Rất hài lòng", "rat hai long"])
async def test_a_rating_request_delivered_is_answered_by_typing(
    engine: AsyncEngine, clock: SequentialClock, typed: str
) -> None:
    chats = Chats(engine, clock)
    code = await chats.filed()
    await chats.say(STAFF, Choice(f"case:{code}:answer"), Text("Đã xử lý xong."))
    assert await chats.question() == f"rate:{code}"
    assert await chats.say(CITIZEN, Text(typed)) == [["rating.thanks", "menu.again"]]
    assert await chats.rating(code) == 5
    assert await chats.question() is None  # read by that event
    # Answered: the menu is the question now, its 5 the language again.
    assert await chats.say(CITIZEN, Text("5")) == [["language.ask"]]
    await chats.dispatcher.close()


async def test_a_request_for_more_delivered_is_answered_by_typing_its_number(
    engine: AsyncEngine, clock: SequentialClock
) -> None:
    chats = Chats(engine, clock)
    code = await chats.filed()
    await chats.say(STAFF, Choice(f"case:{code}:ask"), Text("Xin gửi ảnh hiện trường."))
    assert await chats.question() == f"supp:{code}"
    assert await chats.say(CITIZEN, Text("1")) == [["supplement.ask"]]
    await chats.dispatcher.close()


async def test_a_chat_in_a_task_keeps_its_own_question(
    engine: AsyncEngine, clock: SequentialClock
) -> None:
    """The reporter is looking a code up when the rating request is queued: their row is not
    written by the officer's event, and what they type answers their own task."""
    chats = Chats(engine, clock)
    code = await chats.filed()
    await chats.say(CITIZEN, Command("tracuu"))
    await chats.say(STAFF, Choice(f"case:{code}:answer"), Text("Đã xử lý xong."))
    assert await chats.question() is None
    [keys] = await chats.say(CITIZEN, Text("5"))
    assert "rating.thanks" not in keys, keys
    assert await chats.rating(code) is None
    await chats.dispatcher.close()
