"""A survey that ends in a batch shared with other chats (the dispatcher under load).

When a chat's survey ends, the survey's messages queued to that chat leave the outbox in the
same transaction, those of this very batch before they are written (``WriteSet.end_survey_chat``).
Only that chat's survey messages: another citizen's questions queued in the same batch, and
this chat's own messages outside the survey, must still go out. And a chat that had blocked the
bot (``stopped``) and writes again is reachable again. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, Handled
from conversations import Command, InboundEvent
from storage import WriteSet, flush, read_transaction, write_transaction
from storage.outbound import ImageMessage, TextMessage
from storage.queries.outbox import pending
from storage.schema import contacts, outbox, outbox_blobs
from tests.storage.test_dispatch import SETTINGS, interleaved_walks
from tests.support.clock import SequentialClock, SequentialIds

AT = datetime(2026, 11, 30, 3, tzinfo=UTC)


def _event(n: str, payload: object, user: str) -> InboundEvent:
    return InboundEvent(n, "test", user, payload)  # type: ignore[arg-type]


def test_only_the_ended_chats_survey_messages_leave_the_batch() -> None:
    ws = WriteSet()
    for chat, in_survey in (("a", True), ("b", True), ("a", False), ("b", False), ("a", True)):
        ws.enqueue("telegram", chat, TextMessage(f"{chat}-{in_survey}"), AT, in_survey=in_survey)
    ws.enqueue("zalo", "a", TextMessage("same id, other channel"), AT, in_survey=True)
    # A notice from elsewhere (a job, an officer's action) says nothing of the survey.
    ws.enqueue("telegram", "a", TextMessage("notice"), AT, bulk=True)
    ws.end_survey_chat("telegram", "a")
    left = [(r["channel"], r["chat_id"], r["in_survey"]) for r in ws.outbox]
    assert left == [
        ("telegram", "b", True),
        ("telegram", "a", False),
        ("telegram", "b", False),
        ("zalo", "a", True),
        ("telegram", "a", False),
    ]
    assert ws.ended_chats == {("telegram", "a")}
    # What is queued after the end (the thanks) stays.
    ws.enqueue("telegram", "a", TextMessage("thanks"), AT)
    assert ws.outbox[-1]["chat_id"] == "a"


async def _keys(engine: AsyncEngine, clock: SequentialClock, chat: str) -> list[str]:
    async with read_transaction(engine) as conn:
        queued = await pending(conn, "test", clock(), chat_id=chat)
    return [getattr(r.message, "key", r.message.kind) for r in queued]


async def test_another_chats_questions_in_the_same_batch_still_go_out(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    batch = interleaved_walks("u1", "u2")
    # u1 had the menu before its survey: not a survey message, it stays.
    batch.insert(0, _event("u1-start", Command("start"), "u1"))
    batch.append(_event("u1-stop", Command("huy"), "u1"))
    results = await dispatcher.process(batch)
    assert all(isinstance(r, Handled) and not r.duplicate for r in results)
    # u2 gets every question of its survey; u1 only what the cancellation said.
    assert await _keys(engine, clock, "u2") == [
        "survey.consent",
        "survey.question.multi",
        "survey.question",
        "survey.question",
        "survey.criterion",
        "survey.criterion",
    ]
    kept = await _keys(engine, clock, "u1")
    assert kept[0] == "menu.welcome"
    assert not any(k.startswith("survey.question") or k == "survey.criterion" for k in kept)
    await dispatcher.close()


async def test_a_chat_that_stopped_the_bot_is_reachable_once_it_writes(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    await dispatcher.process(
        [_event("1", Command("start"), "u1"), _event("2", Command("start"), "u2")]
    )
    async with write_transaction(engine) as conn:
        await conn.execute(update(contacts).values(stopped=True))
    await dispatcher.process([_event("3", Command("start"), "u1")])
    async with read_transaction(engine) as conn:
        found = await conn.execute(select(contacts.c.external_id, contacts.c.stopped))
        rows = dict(found.tuples().all())
    assert rows == {"u1": False, "u2": True}
    await dispatcher.close()


async def test_a_survey_ending_deletes_only_its_own_messages_and_their_files(
    engine: AsyncEngine,
) -> None:
    """Stored rows, queued by earlier batches: the ended chat's survey messages go, with any
    bytes they carry; its chart from /ketqua and another chat's survey messages stay, bytes
    included."""
    ws = WriteSet()
    chart = ImageMessage(b"png-a", "ketqua.png")
    ws.enqueue("telegram", "a", chart, AT)  # not said in the survey
    ws.enqueue("telegram", "a", ImageMessage(b"png-a2", "q.png"), AT, in_survey=True)
    ws.enqueue("telegram", "a", TextMessage("question"), AT, in_survey=True)
    ws.enqueue("telegram", "b", ImageMessage(b"png-b", "q.png"), AT, in_survey=True)
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    ws = WriteSet()
    ws.end_survey_chat("telegram", "a")
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    async with read_transaction(engine) as conn:
        rows = (
            await conn.execute(
                select(outbox.c.chat_id, outbox.c.in_survey, outbox_blobs.c.data)
                .join(outbox_blobs, outbox_blobs.c.id == outbox.c.blob_id, isouter=True)
                .order_by(outbox.c.chat_id)
            )
        ).all()
        blobs = (await conn.execute(select(outbox_blobs.c.data))).scalars().all()
    assert [tuple(r) for r in rows] == [("a", False, b"png-a"), ("b", True, b"png-b")]
    assert sorted(blobs) == [b"png-a", b"png-b"]
