"""What the sender sent is recorded by the next event's transaction, which is written anyway
(``OutboxSender.record_sent``, issue 18's fast path; issue 17's mutants of
``bot.runtime.sender``): once that transaction commits the rows are "sent" and out of the
sender's hands; if it fails, they stay in its hands and its next pass records them, and none
is sent a second time. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import TransientSendError
from bot.runtime.handoff import hand_over
from bot.runtime.sender import OutboxSender
from storage import write_transaction
from storage.outbound import Outbound, TextMessage
from tests.bot.test_sender import Channel, Clock, _queue, _rows
from tests.bot.test_sender_handoff import _event

MESSAGES = [("1", "a"), ("2", "b"), ("1", "c")]


async def _sent_not_recorded(engine: AsyncEngine) -> tuple[OutboxSender, Channel]:
    """A sender whose chains sent every queued message and ended, nothing recorded yet."""
    await _queue(engine, MESSAGES)
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    await sender.step()  # starts a chain per chat
    await asyncio.wait(list(sender.hands.active.values()))
    assert sorted(channel.sent) == sorted(MESSAGES)
    assert [r[1] for r in await _rows(engine)] == ["pending"] * 3
    assert sender.known("1")
    assert sender.known("2")
    return sender, channel


async def test_the_events_transaction_records_what_was_sent(engine: AsyncEngine) -> None:
    sender, channel = await _sent_not_recorded(engine)
    async with write_transaction(engine) as conn:
        settle = await sender.record_sent(conn)
    settle(True)
    assert [r[1] for r in await _rows(engine)] == ["sent"] * 3
    assert sender.sent == 3
    assert sender.known("1") == set()
    assert sender.known("2") == set()
    # Nothing is left to record, and nothing goes again.
    async with write_transaction(engine) as conn:
        again = await sender.record_sent(conn)
    again(True)
    await sender.drain_once()
    assert len(channel.sent) == 3
    assert sender.sent == 3


async def test_a_failed_events_transaction_leaves_the_record_to_the_sender(
    engine: AsyncEngine,
) -> None:
    sender, channel = await _sent_not_recorded(engine)
    settles = []
    with contextlib.suppress(RuntimeError):
        async with write_transaction(engine) as conn:
            settles.append(await sender.record_sent(conn))
            raise RuntimeError("the event's transaction fails after the record")
    [settle] = settles
    settle(False)
    assert [r[1] for r in await _rows(engine)] == ["pending"] * 3
    assert sender.known("1")  # still in its hands: no pass of its own sends them again
    await sender.drain_once()
    assert [r[1] for r in await _rows(engine)] == ["sent"] * 3
    assert len(channel.sent) == 3
    assert sender.sent == 3


async def test_a_record_that_fails_inside_the_transaction_keeps_them(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, channel = await _sent_not_recorded(engine)

    async def refused(_conn: AsyncConnection, *_: object) -> None:
        raise RuntimeError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(sender.recorder, "_record", refused)
        with pytest.raises(RuntimeError):
            async with write_transaction(engine) as conn:
                await sender.record_sent(conn)
    assert sender.known("1")
    await sender.drain_once()
    assert [r[1] for r in await _rows(engine)] == ["sent"] * 3
    assert len(channel.sent) == 3


async def test_handed_over_replies_leave_without_any_pass_over_the_table(
    engine: AsyncEngine,
) -> None:
    """The fast path itself: the event's replies go out from the hand-over, each new message
    spending one of the bot's overall tokens, which the sender takes from the shared budget
    itself; no pass over the table runs."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock())
    replies = [("7001", "câu hỏi 2"), ("7002", "chào"), ("7001", "câu hỏi 3")]
    leased, ws = await _event(engine, sender, replies)
    hand_over(leased, ws.outbox)
    await asyncio.wait(list(sender.hands.active.values()))
    assert sorted(channel.sent) == sorted(replies)
    assert [text for chat, text in channel.sent if chat == "7001"] == ["câu hỏi 2", "câu hỏi 3"]


class _Held(Channel):
    """Sends at once, but holds the message "b" until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def send(self, chat_id: str, message: Outbound) -> None:
        if isinstance(message, TextMessage) and message.text == "b":
            self.holding.set()
            await self.release.wait()
        await super().send(chat_id, message)


@pytest.mark.parametrize("by", ["pass", "event"])
async def test_what_a_running_chain_sent_is_recorded_before_the_chain_ends(
    engine: AsyncEngine, by: str
) -> None:
    """The window in which a crash sends a message again stays short: a message a chat's
    chain sent is recorded by the next pass, or the next event's transaction, even while the
    chain still waits on the next message, not once the whole chain has ended."""
    await _queue(engine, [("1", "a"), ("1", "b")])
    channel = _Held()
    sender = OutboxSender(engine, channel, Clock())
    await sender.step()
    await channel.holding.wait()  # "a" went; the chain waits on "b"
    if by == "pass":
        await sender.step()
    else:
        async with write_transaction(engine) as conn:
            settle = await sender.record_sent(conn)
        settle(True)
    assert [r[1] for r in await _rows(engine)] == ["sent", "pending"]
    assert sender.sent == 1
    channel.release.set()
    await asyncio.wait(list(sender.hands.active.values()))
    await sender.drain_once()
    assert channel.sent == [("1", "a"), ("1", "b")]
    assert [r[1] for r in await _rows(engine)] == ["sent", "sent"]
    assert sender.sent == 2


async def test_the_count_adds_up_over_records(engine: AsyncEngine) -> None:
    """Recorded by the sender's pass and by events' transactions in turn."""
    sender = OutboxSender(engine, Channel(), Clock())
    for n, chat in enumerate(("1", "2", "3", "4"), start=1):
        await _queue(engine, [(chat, "a")])
        if n % 2:
            await sender.drain_once()
        else:
            await sender.step()
            await asyncio.wait(list(sender.hands.active.values()))
            async with write_transaction(engine) as conn:
                settle = await sender.record_sent(conn)
            settle(True)
        assert sender.sent == n


async def test_an_events_transaction_records_a_chain_that_only_failed(
    engine: AsyncEngine,
) -> None:
    """A chat's chain whose one message failed sent nothing, yet ended: the next event's
    transaction records the failure (the try counted, the kind of error kept), as a pass would."""

    def script(_chat: str, _text: str, _n: int) -> None:
        raise TransientSendError("Bad Gateway")

    await _queue(engine, [("1", "a")])
    sender = OutboxSender(engine, Channel(script), Clock())
    await sender.step()
    await asyncio.wait(list(sender.hands.active.values()))
    async with write_transaction(engine) as conn:
        settle = await sender.record_sent(conn)
    settle(True)
    [(chat, status, error, attempts)] = await _rows(engine)
    assert (chat, status, attempts) == ("1", "pending", 1)
    assert error == "TransientSendError"
    assert sender.sent == 0


async def test_replies_handed_over_behind_a_running_chain_follow_it_in_order(
    engine: AsyncEngine,
) -> None:
    """A chat's chain still sending when the next event's replies are handed over: they go
    behind it, in order, from the same chain; another chat of that event starts its own; no
    pass over the table is needed for either."""
    channel = _Held()
    sender = OutboxSender(engine, channel, Clock())
    leased, ws = await _event(engine, sender, [("1", "a"), ("1", "b")])
    hand_over(leased, ws.outbox)
    await channel.holding.wait()  # "a" went; the chain waits on "b"
    leased, ws = await _event(engine, sender, [("1", "c"), ("2", "d")])
    hand_over(leased, ws.outbox)
    channel.release.set()
    await asyncio.wait(list(sender.hands.active.values()))
    assert [text for chat, text in channel.sent if chat == "1"] == ["a", "b", "c"]
    assert ("2", "d") in channel.sent
    assert len(channel.sent) == 4
