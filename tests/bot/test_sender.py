"""The outbox sender on a real database, with a scripted channel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import (
    ChatBlocked,
    Paused,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unsupported,
)
from bot.runtime.replies import Capabilities
from bot.runtime.send_budget import Limits
from bot.runtime.send_record import MAX_ATTEMPTS
from bot.runtime.sender import OutboxSender
from storage import WriteSet, flush, write_transaction
from storage.outbound import EditMessage, ImageMessage, Outbound, TextMessage
from storage.queries.dialogue import load_conversations
from storage.queries.leases import Budget
from storage.schema import contacts, outbox, outbox_blobs

NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves (a retry becomes due when the test says so)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


clock = Clock()


async def _queue(engine: AsyncEngine, messages: list[tuple[str, str]]) -> None:
    async with write_transaction(engine) as conn:
        await load_conversations(conn, {("telegram", chat) for chat, _ in messages}, NOW)
        ws = WriteSet()
        for chat, text in messages:
            ws.enqueue("telegram", chat, TextMessage(text, (), "k"), NOW)
        await flush(conn, ws)


Script = Callable[[str, str, int], None]


class Channel:
    """Records sends; ``script(chat_id, text, call number)`` may raise."""

    name = "telegram"
    capabilities = Capabilities(frozenset({"text", "edit"}), max_text=4096)

    def __init__(self, script: Script | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.calls = 0
        self.script = script

    async def send(self, chat_id: str, message: Outbound) -> None:
        await asyncio.sleep(0)  # a real send yields: other chats go meanwhile
        assert isinstance(message, TextMessage | EditMessage)
        self.calls += 1
        if self.script is not None:
            self.script(chat_id, message.text, self.calls)
        self.sent.append((chat_id, message.text))


async def _rows(engine: AsyncEngine) -> list[tuple[str, str, str | None, int]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(
                outbox.c.chat_id, outbox.c.status, outbox.c.last_error, outbox.c.attempts
            ).order_by(outbox.c.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in result]


def _sender(engine: AsyncEngine, channel: Channel, **limits: float) -> OutboxSender:
    return OutboxSender(engine, channel, clock, Limits(**limits))


async def test_sends_in_order_and_forgets_the_text(engine: AsyncEngine) -> None:
    await _queue(engine, [("1", "a"), ("2", "b"), ("1", "c")])
    channel = Channel()
    await _sender(engine, channel).drain(5)
    assert sorted(channel.sent) == [("1", "a"), ("1", "c"), ("2", "b")]
    assert [text for chat, text in channel.sent if chat == "1"] == ["a", "c"]
    assert [r[1] for r in await _rows(engine)] == ["sent"] * 3
    async with engine.connect() as conn:
        payloads = (await conn.execute(select(outbox.c.payload))).scalars().all()
    assert set(payloads) == {None}


async def test_blocked_chat_is_stopped_and_its_queue_dropped(engine: AsyncEngine) -> None:
    def script(chat_id: str, _text: str, _n: int) -> None:
        if chat_id == "bad":
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
    def script(_chat: str, _text: str, n: int) -> None:
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


@pytest.mark.parametrize("pauses", [1, 3, MAX_ATTEMPTS + 2])
async def test_a_paused_channel_spends_no_attempt(engine: AsyncEngine, pauses: int) -> None:
    """Paused (a refused Zalo token refresh, tried again a minute later) keeps the message
    pending, its attempts untouched, however long the pause lasts; a plain rate limit
    still counts one attempt."""

    def script(_chat: str, _text: str, n: int) -> None:
        if n <= pauses:
            raise Paused(0.05, "zalo token refresh failed (zalo invalid_grant)")

    await _queue(engine, [("1", "a")])
    channel = Channel(script)
    sender = _sender(engine, channel)
    for n in range(1, pauses + 1):
        while channel.calls < n:
            await sender.drain_once()
            await asyncio.sleep(0.05)  # the channel's shared pause (real time)
        assert (await _rows(engine))[0][1:] == ("pending", "Paused", 0)
        sender._paused_until = 0
        async with write_transaction(engine) as conn:
            await conn.execute(outbox.update().values(not_before=None))
    await sender.drain(2)
    assert channel.sent == [("1", "a")]
    assert (await _rows(engine))[0][1] == "sent"


async def test_transient_errors_back_off_then_succeed(engine: AsyncEngine) -> None:
    def script(_chat: str, _text: str, n: int) -> None:
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
    def script(_chat: str, _text: str, _n: int) -> None:
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


def test_budget_refills_at_its_rate_up_to_its_burst() -> None:
    budget = Budget(tokens=0.0, stamp=100.0)
    budget.refill(101.5, rate=1, burst=3)
    assert budget.tokens == 1.5
    budget.refill(110.0, rate=1, burst=3)
    assert budget.tokens == 3  # never more than the burst
    budget.tokens = -2  # a 429's pause
    budget.refill(109.0, rate=1, burst=3)  # a clock that went back adds nothing
    assert budget.tokens == -2
    budget.refill(112.5, rate=1, burst=3)
    assert budget.tokens == 0.5


@pytest.mark.parametrize(
    "failure",
    [TransientSendError("Bad Gateway"), RateLimited(0.2)],
    ids=["502", "429"],
)
async def test_a_message_waiting_for_a_retry_is_never_overtaken(
    engine: AsyncEngine, failure: Exception
) -> None:
    """The first of several messages to a chat fails: none of the later ones leaves before
    it, in the same pass or later, while another chat's messages go on."""

    def script(chat: str, text: str, _n: int) -> None:
        if (chat, text) == ("1", "help") and not failed:
            failed.append(text)
            raise failure

    failed: list[str] = []
    await _queue(engine, [("1", "help"), ("1", "menu"), ("2", "x"), ("1", "last")])
    channel = Channel(script)
    sender = _sender(engine, channel)
    clock.now = NOW
    try:
        await sender.drain_once()
        sender._paused_until = 0  # a 429 pauses the whole bot; the test moves past it
        await sender.drain_once()
        assert [m for m in channel.sent if m[0] == "1"] == []
        assert ("2", "x") in channel.sent or isinstance(failure, RateLimited)
        clock.now = NOW + timedelta(seconds=5)  # the retry is due
        sender._paused_until = 0
        await sender.drain(2)
    finally:
        clock.now = NOW
    assert [text for chat, text in channel.sent if chat == "1"] == ["help", "menu", "last"]
    assert ("2", "x") in channel.sent
    assert {r[1] for r in await _rows(engine)} == {"sent"}


async def test_one_busy_chat_does_not_hold_up_the_others(engine: AsyncEngine) -> None:
    """150 messages queued for one chat ahead of another chat's one: the other still leaves
    in the first pass (chats are served side by side, not the N oldest rows)."""
    await _queue(engine, [("busy", str(i)) for i in range(150)] + [("other", "hello")])
    channel = Channel()
    sender = _sender(engine, channel, per_chat_per_second=1, chat_burst=3)
    await sender.drain_once()
    assert ("other", "hello") in channel.sent
    assert [t for c, t in channel.sent if c == "busy"] == ["0", "1", "2"]


async def test_a_chart_goes_as_words_where_pictures_cannot(engine: AsyncEngine) -> None:
    """A channel without images gets the chart's summary, and the row ends sent, not dead."""
    async with write_transaction(engine) as conn:
        await load_conversations(conn, {("telegram", "staff")}, NOW)
        ws = WriteSet()
        ws.enqueue("telegram", "staff", ImageMessage(b"\x89PNG...", "c.png", "", "Biểu đồ"), NOW)
        await flush(conn, ws)
    channel = Channel()
    await _sender(engine, channel).drain(2)
    assert channel.sent == [("staff", "Biểu đồ")]
    assert [r[1] for r in await _rows(engine)] == ["sent"]
    async with engine.connect() as conn:
        assert (await conn.execute(select(outbox_blobs.c.id))).all() == []


async def test_answers_go_before_bulk_and_bulk_leaves_half_the_budget(
    engine: AsyncEngine,
) -> None:
    """30 digests queued to 30 staff chats, then one citizen's reply: the reply leaves in the
    first pass, and bulk takes no more than half of the overall budget."""
    async with write_transaction(engine) as conn:
        chats = {("telegram", f"staff-{i}") for i in range(30)} | {("telegram", "citizen")}
        await load_conversations(conn, chats, NOW)
        ws = WriteSet()
        for i in range(30):
            ws.enqueue("telegram", f"staff-{i}", TextMessage(f"digest {i}"), NOW, bulk=True)
        ws.enqueue("telegram", "citizen", TextMessage("next question"), NOW)
        await flush(conn, ws)
    channel = Channel()
    sender = _sender(engine, channel, per_second=10)
    await sender.drain_once()
    assert ("citizen", "next question") in channel.sent
    bulk = [m for m in channel.sent if m[0].startswith("staff-")]
    assert len(bulk) <= 5  # the budget is 10; bulk keeps half of it for answers


async def test_content_the_channel_refuses_is_said_in_words_not_dead(
    engine: AsyncEngine,
) -> None:
    """A channel that takes images refuses this one (Zalo: over its size, an upload refused):
    the chart's summary goes instead, and the row ends sent."""

    class Picky(Channel):
        capabilities = Capabilities(frozenset({"text", "image"}), max_text=2000)

        async def send(self, chat_id: str, message: Outbound) -> None:
            if isinstance(message, ImageMessage):
                raise Unsupported("image", "zalo -210")
            await super().send(chat_id, message)

    async with write_transaction(engine) as conn:
        await load_conversations(conn, {("telegram", "staff")}, NOW)
        ws = WriteSet()
        ws.enqueue("telegram", "staff", ImageMessage(b"\x89PNG", "c.png", "", "Biểu đồ"), NOW)
        await flush(conn, ws)
    channel = Picky()
    await _sender(engine, channel).drain(2)
    assert channel.sent == [("staff", "Biểu đồ")]
    assert [r[1] for r in await _rows(engine)] == ["sent"]


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ("hangs", "TransientSendError: send timed out"),
        ("crashes", "TransientSendError: ValueError"),
    ],
)
async def test_a_send_that_hangs_or_crashes_is_retried_then_dead_with_its_cause(
    engine: AsyncEngine, failure: str, error: str
) -> None:
    """A send past its timeout, or one that raises what no channel should, is retried like a
    network error; once out of attempts the row is dead and says which it was."""

    class Failing(Channel):
        async def send(self, chat_id: str, message: Outbound) -> None:
            self.calls += 1
            if failure == "hangs":
                await asyncio.sleep(30)
            raise ValueError("a bug in the channel")

    await _queue(engine, [("1", "a")])
    channel = Failing()
    sender = OutboxSender(engine, channel, clock, Limits(), send_timeout_s=0.2)
    await asyncio.wait_for(sender.drain_once(), 10)
    assert (await _rows(engine))[0][1:] == ("pending", "TransientSendError", 1)
    async with write_transaction(engine) as conn:
        await conn.execute(outbox.update().values(not_before=None, attempts=MAX_ATTEMPTS - 1))
    await asyncio.wait_for(sender.drain(2), 10)
    assert (await _rows(engine))[0][1:3] == ("dead", error)
    assert channel.calls == 2
