"""One chat's chain (issue 17: the mutants of ``bot.runtime.sender``'s ``_serve`` and
``take``): each new message spends one of the chat's budget and one of the bot's overall,
asked for only when the chain's own are used up; an edit spends neither; the chain stops
where a budget is spent, at its deadline, or while a 429 pauses the process, and what it did
not send goes back to the table (the chat's pass takes it, in order).

The chains are handed over (``take``) to a sender whose database is never reached: the bot's
overall budget is a stand-in (``Overall``), and time is the test's (``Moment``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.runtime.sender as sender_module
from bot.errors import RateLimited, TransientSendError
from bot.runtime.send_budget import Limits
from bot.runtime.send_record import Chain
from bot.runtime.sender import CHAIN_BUDGET_S, OutboxSender
from storage.outbound import EditMessage, Outbound, TextMessage
from storage.queries.leases import Budget
from storage.queries.outbox import OutboxRow, pending_for_chats
from tests.bot.test_sender import Channel, Clock, _queue
from tests.support.sender_time import START, Moment, bare_sender


@dataclass
class Overall:
    """The bot's overall budget: ``tokens`` left; the rows it was asked for, by id."""

    tokens: int
    asked: list[int] = field(default_factory=list)

    async def allow(self, row: OutboxRow) -> bool:
        self.asked.append(row.id)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _rows(chat: str, kinds: str, first: int = 1) -> list[OutboxRow]:
    """``kinds``: one letter a row, ``t`` a new message, ``e`` an edit."""
    rows = []
    for n, kind in enumerate(kinds, start=first):
        message = TextMessage(f"m{n}", (), "k") if kind == "t" else EditMessage("9", f"m{n}", ())
        rows.append(OutboxRow(n, "telegram", chat, message, 0))
    return rows


async def _hand_over(
    sender: OutboxSender, chat: str, rows: list[OutboxRow], tokens: float
) -> Chain:
    """Hands ``rows`` over to the sender (the chat's budget holds ``tokens``) and waits for
    the chain that sends them."""
    sender.take(rows, {chat: Budget(tokens, START)})
    return await sender.hands.active[chat]


@pytest.fixture
def channel() -> Channel:
    return Channel()


@pytest.fixture
def sender(channel: Channel) -> OutboxSender:
    return bare_sender(channel=channel)


def _overall(monkeypatch: pytest.MonkeyPatch, sender: OutboxSender, tokens: int) -> Overall:
    bot = Overall(tokens)
    monkeypatch.setattr(sender._allowance, "allow", bot.allow)
    return bot


@pytest.mark.parametrize(
    ("kinds", "chat_tokens", "elapsed", "overall", "sent", "asked", "held", "left"),
    [
        # Both budgets allow: one overall token asked for each new message, as it goes.
        ("tt", 3.0, 0.0, 5, 2, [1, 2], 2, 1.0),
        # The chat's budget holds one: the second message waits (its overall token, taken
        # already, is given back with the chain's others).
        ("tt", 1.0, 0.0, 5, 1, [1, 2], 2, 0.0),
        # Less than one is none; it refills at one a second.
        ("tt", 0.5, 0.0, 5, 0, [1], 1, 0.5),
        ("tt", 0.5, 0.5, 5, 1, [1, 2], 2, 0.0),
        # The bot's overall budget holds one: the second waits.
        ("tt", 3.0, 0.0, 1, 1, [1, 2], 1, 2.0),
        # An edit spends neither budget.
        ("et", 3.0, 0.0, 5, 2, [2], 1, 2.0),
        ("ee", 0.0, 0.0, 0, 2, [], 0, 0.0),
    ],
    ids=[
        "both-allow",
        "chat-holds-one",
        "chat-holds-half",
        "chat-refilled",
        "overall-holds-one",
        "edit",
        "edits",
    ],
)
async def test_each_new_message_spends_one_of_each_budget(
    monkeypatch: pytest.MonkeyPatch,
    moment: Moment,
    channel: Channel,
    sender: OutboxSender,
    kinds: str,
    chat_tokens: float,
    elapsed: float,
    overall: int,
    sent: int,
    asked: list[int],
    held: int,
    left: float,
) -> None:
    bot = _overall(monkeypatch, sender, overall)
    rows = _rows("1", kinds)
    sender.take(rows, {"1": Budget(chat_tokens, START - elapsed)})
    chain = await sender.hands.active["1"]
    assert channel.sent == [("1", f"m{n}") for n in range(1, sent + 1)]
    assert bot.asked == asked
    # Overall tokens the chain holds and those it used (the rest is given back).
    assert (chain.tokens, chain.used) == (
        held,
        sum(1 for r in chain.sent if kinds[r.id - 1] == "t"),
    )
    assert chain.budget.tokens == left
    assert (chain.sent, chain.left, chain.failed) == (rows[:sent], rows[sent:], None)
    assert sender.hands.finished == [chain]
    assert sender.hands.unrecorded == rows[:sent]
    assert ("1" in sender.hands.stalled) == (sent < len(kinds))


async def test_a_chain_stops_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch, moment: Moment, sender: OutboxSender, channel: Channel
) -> None:
    """A chain sends for at most ``CHAIN_BUDGET_S`` (its chat's lease runs longer): here each
    send takes half of it, so the third message, due at the deadline, goes back to the
    table; the chain is recorded, the chat's pass takes it."""

    def slow(_chat: str, _text: str, _n: int) -> None:
        moment.now += CHAIN_BUDGET_S / 2

    channel.script = slow
    rows = _rows("1", "eee")
    chain = await _hand_over(sender, "1", rows, 3.0)
    assert (channel.sent, chain.left) == ([("1", "m1"), ("1", "m2")], rows[2:])
    assert sender.hands.finished == [chain]
    assert sender.hands.stalled == {"1"}
    assert sender.known("1") == {1, 2}  # sent, not recorded yet; the third is the table's
    assert sender._woken


async def test_a_429_pauses_every_chain_until_its_end(
    moment: Moment, sender: OutboxSender, channel: Channel
) -> None:
    """A 429 pauses the whole process for its ``retry_after``: a chain that starts meanwhile
    sends nothing and gives its rows back to the table; one that starts at the pause's end
    sends."""

    def limited(chat: str, _text: str, _n: int) -> None:
        if chat == "1":
            raise RateLimited(0.5)

    channel.script = limited
    first = _rows("1", "ee")
    chain = await _hand_over(sender, "1", first, 3.0)
    assert chain.failed is not None
    assert chain.failed[0] is first[0]
    assert isinstance(chain.failed[1], RateLimited)
    assert (chain.sent, chain.left) == ([], first)
    moment.now += 0.25
    during = _rows("2", "e", first=3)
    chain = await _hand_over(sender, "2", during, 3.0)
    assert (channel.sent, chain.sent, chain.left, chain.failed) == ([], [], during, None)
    assert sender.known("2") == set()
    moment.now += 0.25
    after = _rows("3", "e", first=4)
    chain = await _hand_over(sender, "3", after, 3.0)
    assert (channel.sent, chain.left) == ([("3", "m4")], [])
    assert sender.hands.stalled == {"1", "2"}
    assert len(sender.hands.finished) == 3


# --- take: what is handed over, to which chain ---------------------------------------------


async def test_a_hand_over_serves_each_chat_whatever_the_others_are(
    monkeypatch: pytest.MonkeyPatch, moment: Moment, sender: OutboxSender, channel: Channel
) -> None:
    """One hand-over, four chats: one whose chain left rows behind (its rows wait in the
    table behind those), one whose rows are in hand already, one with a chain running (its
    rows queue behind it), one new: each is dealt with, none stops the others."""
    gate = asyncio.Event()

    async def send_after_gate(chat_id: str, message: Outbound) -> None:
        if chat_id == "running":
            await gate.wait()
        await Channel.send(channel, chat_id, message)

    monkeypatch.setattr(channel, "send", send_after_gate)
    sender.hands.stalled.add("stalled")
    held = _rows("held", "e", first=10)
    sender.take(held, {"held": Budget(3, START)})
    running = _rows("running", "e", first=20)
    sender.take(running, {"running": Budget(3, START)})
    await asyncio.sleep(0)
    await asyncio.wait([sender.hands.active["held"]])
    behind = _rows("running", "ee", first=21)
    new = _rows("new", "e", first=30)
    sender.take(
        [*_rows("stalled", "e", first=40), *held, *behind, *new],
        {chat: Budget(3, START) for chat in ("stalled", "held", "running", "new")},
    )
    await asyncio.wait([sender.hands.active["new"]])
    gate.set()
    chain = await sender.hands.active["running"]
    assert [r.id for r in chain.sent] == [20, 21, 22]
    assert sorted(channel.sent) == sorted(
        [
            ("held", "m10"),
            ("new", "m30"),
            ("running", "m20"),
            ("running", "m21"),
            ("running", "m22"),
        ]
    )
    assert "stalled" not in sender.hands.active
    assert sender._woken


async def test_a_chat_handed_over_again_keeps_the_budget_its_chain_spent(
    monkeypatch: pytest.MonkeyPatch, moment: Moment, sender: OutboxSender, channel: Channel
) -> None:
    """Until its chain is recorded, a chat's budget is the one in hand (its chain spent it),
    not the one its new lease read from the table before that was written."""
    _overall(monkeypatch, sender, 10)
    await _hand_over(sender, "1", _rows("1", "tt"), 2.0)
    chain = await _hand_over(sender, "1", _rows("1", "t", first=3), 3.0)
    assert channel.sent == [("1", "m1"), ("1", "m2")]
    assert chain.budget.tokens == 0.0
    assert [r.id for r in chain.left] == [3]


async def test_rows_queued_behind_a_chain_that_stops_go_back_with_its_own(
    monkeypatch: pytest.MonkeyPatch, moment: Moment, sender: OutboxSender, channel: Channel
) -> None:
    """Rows handed over behind a running chain that then stops (a 429 here) go back to the
    table with the chain's own, in order, and out of the sender's hands: the chat's pass
    takes them all."""
    gate = asyncio.Event()

    async def limited_after_gate(chat_id: str, message: Outbound) -> None:
        await gate.wait()
        raise RateLimited(0.5)

    monkeypatch.setattr(channel, "send", limited_after_gate)
    first = _rows("1", "e")
    sender.take(first, {"1": Budget(3, START)})
    await asyncio.sleep(0)
    behind = _rows("1", "ee", first=2)
    sender.take(behind, {"1": Budget(3, START)})
    assert sender.known("1") == {1, 2, 3}
    gate.set()
    chain = await sender.hands.active["1"]
    assert (chain.sent, chain.left) == ([], [*first, *behind])
    assert sender.hands.queued == {}
    assert sender.known("1") == set()
    assert sender.hands.stalled == {"1"}


# --- a pass over the table: what it claims and starts ---------------------------------------


async def test_a_pass_claims_at_most_its_count_of_chats(
    engine: AsyncEngine, moment: Moment
) -> None:
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock(), Limits(), chats=1)
    await _queue(engine, [("1", "a"), ("2", "b")])
    await sender.drain_once()
    assert len(channel.sent) == 1
    await sender.drain_once()
    assert sorted(channel.sent) == [("1", "a"), ("2", "b")]


async def test_a_chat_is_claimed_again_once_its_own_rate_refilled_a_message(
    engine: AsyncEngine, moment: Moment
) -> None:
    """The chat's budget refills at ``per_chat_per_second`` (here 4 a second, burst 1): a
    quarter of a second after its message, it may send the next."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock(), Limits(per_chat_per_second=4, chat_burst=1))
    await _queue(engine, [("1", "a")])
    await sender.drain_once()
    await _queue(engine, [("1", "b")])
    moment.now += 0.125
    await sender.drain_once()
    assert channel.sent == [("1", "a")]
    moment.now += 0.125
    await sender.drain_once()
    assert channel.sent == [("1", "a"), ("1", "b")]


async def test_a_chat_being_served_is_leased_against_another_process(
    engine: AsyncEngine, moment: Moment
) -> None:
    """While one sender's chain sends to a chat, another process's pass (its own sender)
    leaves the chat alone: its lease runs ``LEASE_S`` from the claim."""
    gate = asyncio.Event()
    first = Channel()

    async def hanging(chat_id: str, message: Outbound) -> None:
        await gate.wait()

    first.send = hanging  # type: ignore[method-assign]
    sender = OutboxSender(engine, first, Clock(), Limits())
    await _queue(engine, [("1", "a")])
    await sender.step()
    assert list(sender.hands.active) == ["1"]
    other_channel = Channel()
    other = OutboxSender(engine, other_channel, Clock(), Limits())
    await other.drain_once()
    assert other_channel.sent == []
    gate.set()
    await asyncio.wait(list(sender.hands.active.values()))


async def test_a_chat_claimed_whose_rows_are_gone_meanwhile_is_served_later(
    engine: AsyncEngine, moment: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat claimed while its due row was taken by another way before the rows were read
    (read as none): its chain ends at once, and a later pass serves it."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock(), Limits())
    await _queue(engine, [("1", "a")])

    async def none_read(*args: Any, **kwargs: Any) -> dict[str, list[OutboxRow]]:
        return {}

    monkeypatch.setattr(sender_module, "pending_for_chats", none_read)
    await sender.drain_once()
    assert (channel.sent, sender.hands.active) == ([], {})
    monkeypatch.setattr(sender_module, "pending_for_chats", pending_for_chats)
    await sender.drain_once()
    assert channel.sent == [("1", "a")]


async def test_a_pass_leaves_alone_the_chats_in_its_hands(
    engine: AsyncEngine, moment: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chats reserved for a hand-over (with rows due or none) and a chat whose chain ended,
    failing, after the pass recorded what had finished: no pass of this sender claims them;
    the failed row waits for its retry, not sent again at once."""
    calls: list[str] = []

    def fails_once(chat: str, text: str, _n: int) -> None:
        calls.append(text)
        if text == "f" and calls.count("f") == 1:
            raise TransientSendError("timeout")

    gate = asyncio.Event()
    channel = Channel(fails_once)
    plain_send = channel.send

    async def gated(chat_id: str, message: Outbound) -> None:
        if chat_id == "failing":
            await gate.wait()
        await plain_send(chat_id, message)

    channel.send = gated  # type: ignore[method-assign]
    sender = OutboxSender(engine, channel, Clock(), Limits())
    await _queue(engine, [("failing", "f")])
    assert await sender.step() == 0.0
    record = sender._record_finished

    async def record_then_fail() -> None:
        # The chain fails right after the record, while the pass claims.
        await record()
        gate.set()
        for _ in range(5):
            await asyncio.sleep(0)

    monkeypatch.setattr(sender, "_record_finished", record_then_fail)
    sender.reserve(["reserved", "no-rows"])
    await _queue(engine, [("reserved", "r"), ("free", "x")])
    await sender.step()
    await asyncio.wait(list(sender.hands.active.values()))
    assert calls == ["f", "x"]


async def test_a_chat_handed_over_while_the_pass_read_it_is_left_to_the_hand_over(
    engine: AsyncEngine, moment: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event's transaction leases a chat to this sender while its pass reads the chat's
    rows: the pass leaves the chat to the hand-over (its overall tokens, granted to the pass,
    are kept for the replies), and serves the chats after it."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock(), Limits())
    await _queue(engine, [("taken", "t"), ("free", "x")])

    async def read_then_reserved(*args: Any, **kwargs: Any) -> dict[str, list[OutboxRow]]:
        found = await pending_for_chats(*args, **kwargs)
        sender.reserve(["taken"])
        return found

    monkeypatch.setattr(sender_module, "pending_for_chats", read_then_reserved)
    sender._allowance.tokens = 2
    await sender.drain_once()
    assert channel.sent == [("free", "x")]
    assert sender._allowance.tokens == 3
