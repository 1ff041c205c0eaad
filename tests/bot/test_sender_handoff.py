"""An event's replies handed straight to the sender leave once, whichever comes first: the
sender's own pass over the table, or the hand-over after the event's commit (issue 11: two
webhook processes, no process killed, one chat got a reply twice. The event's transaction
had leased the chat to this process's sender and committed; before the dispatcher handed the
rows over, the sender's pass claimed the chat, its own, read the rows and started sending
them; the hand-over then queued the same rows behind that chain)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.runtime import sender as sender_module
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.handoff import Leased, hand_over, lease_replies, unreserve_all
from bot.runtime.sender import OutboxSender
from conversations import Command, InboundEvent
from storage import WriteSet, flush, write_transaction
from storage.outbound import EditMessage, TextMessage
from storage.queries.dialogue import load_conversations
from storage.queries.outbox import OutboxRow, pending_for_chats
from tests.bot.test_sender import NOW, Channel, Clock, _queue, _rows
from tests.support.clock import SequentialIds

Reply = tuple[str, str]  # (chat, text); text "edit:…" is an edit of message 1


def _writes(replies: Sequence[Reply]) -> WriteSet:
    ws = WriteSet()
    for chat, text in replies:
        if text.startswith("edit:"):
            message: TextMessage | EditMessage = EditMessage("1", text, ())
        else:
            message = TextMessage(text, (), "k")
        ws.enqueue("telegram", chat, message, NOW)
    return ws


async def _event(
    engine: AsyncEngine, sender: OutboxSender, replies: Sequence[Reply], *, fail: bool = False
) -> tuple[list[Leased], WriteSet]:
    """What the dispatcher does for one event: its replies leased to ``sender`` and written in
    one transaction (which fails after the lease if ``fail``); not handed over yet."""
    leased: list[Leased] = []
    ws = _writes(replies)
    try:
        async with write_transaction(engine) as conn:
            await load_conversations(conn, {("telegram", chat) for chat, _ in replies}, NOW)
            await lease_replies(conn, {"telegram": sender}, ws.outbox, NOW, leased)
            await flush(conn, ws)
            if fail:
                raise RuntimeError("the event's transaction fails")
    except RuntimeError:
        unreserve_all(leased)
    return leased, ws


async def _finish(sender: OutboxSender) -> None:
    for _ in range(3):
        await sender.drain_once()


REPLIES: list[list[Reply]] = [
    [("7001", "câu hỏi 2")],
    [("7001", "edit:đã chọn: Có"), ("7001", "câu hỏi 3")],  # a press: the edit, the next question
    [("7001", "câu hỏi 4"), ("7002", "chào")],
]


@pytest.mark.parametrize("replies", REPLIES)
async def test_a_pass_between_the_commit_and_the_hand_over_sends_nothing_twice(
    engine: AsyncEngine, replies: list[Reply]
) -> None:
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    leased, ws = await _event(engine, sender, replies)
    assert leased  # the chats went to this sender
    await sender.step()  # the sender's pass runs before the dispatcher hands the rows over
    hand_over(leased, ws.outbox)
    await _finish(sender)
    assert channel.sent == replies  # each once, in order
    assert {status for _, status, _, _ in await _rows(engine)} == {"sent"}


@pytest.mark.parametrize("replies", REPLIES)
async def test_a_hand_over_while_a_pass_reads_sends_nothing_twice(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, replies: list[Reply]
) -> None:
    """The rows reach the sender by hand-over while its pass, which claimed the chats before
    they were reserved, is still reading them: the pass leaves them to the hand-over."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    leased, ws = await _event(engine, sender, replies)
    unreserve_all(leased)  # as if the pass had claimed the chats before the event leased them

    async def read(
        conn: AsyncConnection, channel_name: str, chats: Sequence[str], now: datetime, **kw: int
    ) -> dict[str, list[OutboxRow]]:
        rows = await pending_for_chats(conn, channel_name, chats, now, **kw)
        leased[0].taker.reserve(list(leased[0].budgets))
        hand_over(leased, ws.outbox)  # meanwhile, the event's hand-over
        return rows

    monkeypatch.setattr(sender_module, "pending_for_chats", read)
    await sender.step()
    monkeypatch.undo()
    await _finish(sender)
    assert channel.sent == replies
    assert {status for _, status, _, _ in await _rows(engine)} == {"sent"}


async def test_a_failed_event_leaves_its_chats_to_the_pass(engine: AsyncEngine) -> None:
    """An event's transaction that fails after leasing its chats ends their reservation:
    the chats' later messages, queued in the table, are sent by the sender's pass."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    await _event(engine, sender, [("7001", "mất"), ("7002", "mất")], fail=True)
    await _queue(engine, [("7001", "sau đó"), ("7002", "sau đó")])
    await _finish(sender)
    assert sorted(channel.sent) == [("7001", "sau đó"), ("7002", "sau đó")]
    assert {status for _, status, _, _ in await _rows(engine)} == {"sent"}


async def test_a_handed_over_event_is_sent_once_without_a_pass(engine: AsyncEngine) -> None:
    """The ordinary fast path, for comparison: handed over at once, sent once."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    replies = REPLIES[1]
    leased, ws = await _event(engine, sender, replies)
    hand_over(leased, ws.outbox)
    await _finish(sender)
    assert channel.sent == replies


async def test_a_failure_after_the_commit_still_hands_the_replies_over(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something fails between the event's commit and the hand-over: the replies were
    committed and their chat leased and reserved; they are still handed over (and sent once),
    and no reservation is left to keep the sender's pass away from the chat."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=Clock(), new_id=SequentialIds())
    dispatcher.hand_off(sender)
    record_sent = sender.record_sent
    failed = False

    async def failing_record(conn: AsyncConnection) -> Callable[[bool], None]:
        settle = await record_sent(conn)

        def after(committed: bool) -> None:
            nonlocal failed
            settle(committed)
            if committed and not failed:
                failed = True
                raise RuntimeError("a failure after the commit")

        return after

    monkeypatch.setattr(sender, "record_sent", failing_record)
    await dispatcher.process([InboundEvent("e1", "telegram", "7001", Command("trogiup"))])
    assert failed
    await _finish(sender)
    await dispatcher.close()
    assert channel.sent, "the replies were never sent"
    assert len(set(channel.sent)) == len(channel.sent)  # each once
    assert {chat for chat, _ in channel.sent} == {"7001"}
    assert "Hướng dẫn" in channel.sent[0][1]
    assert sender.hands.reserved == {}
