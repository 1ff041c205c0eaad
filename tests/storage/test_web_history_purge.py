"""Issue 10, point 4, web chat: the page history (questions and each "→ answer" echo, kept a
day under the visitor's chat id for a reload) goes when the visitor's survey ends, and a late
edit of a message gone is not stored again. What comes after (the closing thanks) still reaches
the open page: its id is above every id the page has shown, even when the rows deleted were
the newest of the table (SQLite gave their ids again, below the page's cursor, and the page
never showed the thanks). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import WriteSet, flush, read_transaction, write_transaction
from storage.queries.dialogue import load_conversations
from storage.queries.web import append_message, messages_after
from storage.schema import contacts, web_messages

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def _kept(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with read_transaction(engine) as conn:
        rows = await conn.execute(
            select(web_messages.c.chat_id, web_messages.c.payload).order_by(web_messages.c.id)
        )
        return [(r[0], str(r[1].get("text"))) for r in rows]


async def test_an_ended_survey_takes_the_visitors_page_history_with_it(
    engine: AsyncEngine,
) -> None:
    async with write_transaction(engine) as conn:
        await load_conversations(conn, {("web", "w-mine"), ("web", "w-other")}, NOW)
        asked = await append_message(conn, "w-mine", {"kind": "text", "text": "Câu 1.1"}, NOW)
        other = await append_message(conn, "w-other", {"kind": "text", "text": "Câu 1.1"}, NOW)
        # The newest rows of the table are the visitor's: the page's cursor is the last one.
        cursor = await append_message(
            conn, "w-mine", {"kind": "edit", "target": asked, "text": "Câu 1.1 → 2"}, NOW
        )
        mine = (
            await conn.execute(select(contacts.c.id).where(contacts.c.external_id == "w-mine"))
        ).scalar_one()
    ended = WriteSet()
    ended.consents_to_empty.add((int(mine), "survey"))
    async with write_transaction(engine) as conn:
        await flush(conn, ended)
    assert await _kept(engine) == [("w-other", "Câu 1.1")]
    async with write_transaction(engine) as conn:
        # The last answer's echo, sent after the survey ended: its message is gone.
        late = {"kind": "edit", "target": asked, "text": "Câu 1.1 → 5"}
        assert await append_message(conn, "w-mine", late, NOW) == 0
        # An edit never reaches another visitor's message either.
        theirs = {"kind": "edit", "target": other, "text": "x"}
        assert await append_message(conn, "w-mine", theirs, NOW) == 0
        thanks = await append_message(conn, "w-mine", {"kind": "text", "text": "Cảm ơn"}, NOW)
    assert thanks > cursor
    async with read_transaction(engine) as conn:
        shown = await messages_after(conn, "w-mine", cursor)
    assert [(m.id, m.body["text"]) for m in shown] == [(thanks, "Cảm ơn")]
    assert await _kept(engine) == [("w-other", "Câu 1.1"), ("w-mine", "Cảm ơn")]
