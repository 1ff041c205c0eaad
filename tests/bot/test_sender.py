"""The outbox sender on a real database, with a scripted channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import ChatBlocked, PermanentSendError, RateLimited, TransientSendError
from bot.runtime.sender import Limits, OutboxSender, TokenBucket
from storage import WriteSet, flush, write_transaction
from storage.queries.dialogue import load_conversations
from storage.queries.outbox import OutboxRow
from storage.schema import contacts, outbox

NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


async def _queue(engine: AsyncEngine, messages: list[tuple[str, str]]) -> None:
    async with write_transaction(engine) as conn:
        await load_conversations(conn, {("telegram", chat) for chat, _ in messages}, NOW)
        ws = WriteSet()
        for chat, text in messages:
            ws.enqueue("telegram", chat, {"key": "k", "text": text, "choices": []}, NOW)
        await flush(conn, ws)


class Channel:
    """Records sends; ``script`` may raise for a given row."""

    def __init__(self, script: Callable[[OutboxRow, int], None] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.calls = 0
        self.script = script

    async def send(self, row: OutboxRow) -> None:
        self.calls += 1
        if self.script is not None:
            self.script(row, self.calls)
        self.sent.append((row.chat_id, str(row.payload["text"])))


async def _rows(engine: AsyncEngine) -> list[tuple[str, str, str | None, int]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(
                outbox.c.chat_id, outbox.c.status, outbox.c.last_error, outbox.c.attempts
            ).order_by(outbox.c.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in result]


def _sender(engine: AsyncEngine, channel: Channel, **limits: float) -> OutboxSender:
    return OutboxSender(engine, "telegram", channel.send, clock, Limits(**limits))


async def test_sends_in_order_and_forgets_the_text(engine: AsyncEngine) -> None:
    await _queue(engine, [("1", "a"), ("2", "b"), ("1", "c")])
    channel = Channel()
    await _sender(engine, channel).drain(5)
    assert channel.sent == [("1", "a"), ("2", "b"), ("1", "c")]
    assert [r[1] for r in await _rows(engine)] == ["sent"] * 3
    async with engine.connect() as conn:
        payloads = (await conn.execute(select(outbox.c.payload))).scalars().all()
    assert set(payloads) == {None}


async def test_blocked_chat_is_stopped_and_its_queue_dropped(engine: AsyncEngine) -> None:
    def script(row: OutboxRow, _n: int) -> None:
        if row.chat_id == "bad":
            raise ChatBlocked("Forbidden: bot was blocked by the user")

    await _queue(engine, [("bad", "a"), ("good", "b"), ("bad", "c")])
    channel = Channel(script)
    await _sender(engine, channel).drain(5)
    assert channel.sent == [("good", "b")]
    assert [(r[0], r[1]) for r in await _rows(engine)] == [
        ("bad", "dead"), ("good", "sent"), ("bad", "dead"),
    ]  # fmt: skip
    async with engine.connect() as conn:
        rows = await conn.execute(select(contacts.c.external_id, contacts.c.stopped))
        stopped = {str(r[0]): bool(r[1]) for r in rows}
    assert stopped == {"bad": True, "good": False}


async def test_rate_limited_waits_and_retries(engine: AsyncEngine) -> None:
    def script(_row: OutboxRow, n: int) -> None:
        if n == 1:
            raise RateLimited(0.2)

    await _queue(engine, [("1", "a")])
    channel = Channel(script)
    sender = _sender(engine, channel)
    await sender.drain_once()
    assert channel.sent == []
    assert (await _rows(engine))[0][1:] == ("pending", "RateLimited", 1)
    assert await sender.drain_once() > 0  # still paused
    sender._paused_until = 0  # the pause is over
    # not_before is in the future for the row; the clock is fixed, so move the row's time.
    async with write_transaction(engine) as conn:
        await conn.execute(outbox.update().values(not_before=None))
    await sender.drain(2)
    assert channel.sent == [("1", "a")]


async def test_transient_errors_back_off_then_succeed(engine: AsyncEngine) -> None:
    def script(_row: OutboxRow, n: int) -> None:
        if n <= 2:
            raise TransientSendError("Bad Gateway")

    await _queue(engine, [("1", "a")])
    channel = Channel(script)
    sender = _sender(engine, channel)
    for _ in range(2):
        await sender.drain_once()
        async with write_transaction(engine) as conn:
            await conn.execute(outbox.update().values(not_before=None))
    await sender.drain(2)
    assert channel.sent == [("1", "a")]
    assert (await _rows(engine))[0][1:] == ("sent", "TransientSendError", 3)


async def test_bad_request_is_not_retried(engine: AsyncEngine) -> None:
    def script(_row: OutboxRow, _n: int) -> None:
        raise PermanentSendError("Bad Request: chat not found")

    await _queue(engine, [("1", "a")])
    channel = Channel(script)
    await _sender(engine, channel).drain(2)
    assert channel.calls == 1
    assert (await _rows(engine))[0][1] == "dead"


async def test_per_chat_burst_then_one_per_second(engine: AsyncEngine) -> None:
    await _queue(engine, [("1", str(i)) for i in range(5)] + [("2", "x")])
    channel = Channel()
    sender = _sender(engine, channel, per_chat_per_second=1, chat_burst=3)
    await sender.drain(0.5)  # half a second: the burst of 3 for chat 1, and chat 2
    assert channel.sent == [("1", "0"), ("2", "x"), ("1", "1"), ("1", "2")]


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=1, burst=3, stamp=100.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait(100.0) == 1.0
    assert bucket.take(101.0)
    assert not bucket.take(101.0)
    assert bucket.wait(101.5) == 0.5
