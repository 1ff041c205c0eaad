"""The sender's loop in time (issue 17: the mutants of ``bot.runtime.sender``'s ``run``,
``_sleep``, ``drain``, ``_settle`` and of ``step``'s answer to "how soon do I look again"):
when it looks at the table, when it only records, how long it sleeps and what wakes it, how a
drain keeps to its deadline, and what shutdown waits for.

Time is the test's: the sender module's ``time`` reads a clock only the test moves
(``Moment``), and its ``asyncio`` writes down every timeout it waits with and every sleep
(``Waits``; a sleep moves the test's clock instead of waiting). No assert reads the wall
clock; a guard only stops a wait that would never end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.runtime.sender as sender_module
from bot.errors import RateLimited
from bot.runtime.send_budget import Limits
from bot.runtime.sender import COOLDOWN_S, IDLE_WAKE_S, OutboxSender
from storage import write_transaction
from storage.outbound import TextMessage
from storage.queries.leases import Budget
from storage.queries.outbox import OutboxRow
from storage.schema import outbox
from tests.bot.test_sender import NOW, Channel, Clock, _queue
from tests.support.sender_time import START, Moment, Waits, bare_sender

#: A short real wait, exact in binary (so sums of it compare exactly).
TICK = 1 / 64
#: Stops a wait that would never end (a mutant's); never reached by the sender as it is.
GUARD_S = 5.0


@contextlib.contextmanager
def _hanging_chain(sender: OutboxSender, chat: str = "1") -> Iterator[asyncio.Task[Any]]:
    """A chat whose send never ends, in the sender's hands while the block runs."""
    task: asyncio.Task[Any] = asyncio.create_task(asyncio.Event().wait())
    sender.hands.active[chat] = task
    try:
        yield task
    finally:
        task.cancel()


def _row(chat: str, id_: int) -> OutboxRow:
    return OutboxRow(id_, "telegram", chat, TextMessage(f"m{id_}", (), "k"), 0)


# --- run: when it looks, when it only records, how long it sleeps -------------------------


@dataclass
class Loop:
    """Stands in for what ``run`` calls: its step answers ``steps`` in turn (an exception is
    raised; 0 means chains started, so the sender stays woken, as the real step leaves it), a
    sleep moves the clock by its delay and runs ``during[n]`` inside the n-th sleep; each call
    is written to ``trace``. Every record fails, as a database that is away does."""

    sender: OutboxSender
    moment: Moment
    stop: asyncio.Event
    steps: list[float | Exception]
    during: dict[int, Callable[[OutboxSender], None]] = field(default_factory=dict)
    freed: int | Exception = 0
    trace: list[str] = field(default_factory=list)

    async def start(self) -> int:
        self.trace.append("start")
        if isinstance(self.freed, Exception):
            raise self.freed
        return self.freed

    async def take(self) -> None:
        self.trace.append("allowance")

    async def step(self) -> float:
        self.trace.append("step")
        answer = self.steps.pop(0)
        if not self.steps:
            self.stop.set()
        self.sender._looked_at = self.moment.now
        self.sender._woken = answer == 0
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def record(self) -> None:
        self.trace.append("record")
        raise RuntimeError("the database is away")

    async def sleep(self, stop: asyncio.Event, delay: float) -> None:
        assert stop is self.stop
        assert len(self.trace) < 100, "the loop never looks or never ends"
        await asyncio.sleep(0)
        self.trace.append(f"sleep {delay}")
        action = self.during.get(sum(1 for t in self.trace if t.startswith("sleep")))
        if action is not None:
            action(self.sender)
        self.moment.now += delay


async def _run(
    moment: Moment,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[float | Exception],
    during: dict[int, Callable[[OutboxSender], None]] | None = None,
    freed: int | Exception = 0,
) -> list[str]:
    sender = bare_sender()
    loop = Loop(sender, moment, asyncio.Event(), steps, during or {}, freed)
    monkeypatch.setattr(sender, "start", loop.start)
    monkeypatch.setattr(sender._allowance, "take", loop.take)
    monkeypatch.setattr(sender, "step", loop.step)
    monkeypatch.setattr(sender, "_record_finished", loop.record)
    monkeypatch.setattr(sender, "_sleep", loop.sleep)
    await asyncio.wait_for(sender.run(loop.stop), GUARD_S)
    return loop.trace


async def test_run_looks_records_and_sleeps_in_turn(
    moment: Moment, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A look at the table (``step``) at most every ``IDLE_WAKE_S`` unless woken; between
    looks only what finished is recorded (a failed record is no crash), sleeping the rest of
    the interval; a step that says 0 is followed by another at once, one that fails by an
    idle wait; the loop ends at stop, with a last record."""
    caplog.set_level(logging.INFO, logger="bot.sender")
    trace = await _run(moment, monkeypatch, [0.5, 0.0, 0.25, RuntimeError("boom"), 1.0], freed=2)
    assert trace == [
        "start", "allowance",
        "step", "sleep 0.5",  # looked at 1000: the next look is due at 1002
        "record", "sleep 1.5",
        "step",  # at 1002, exactly IDLE_WAKE_S after the last look; it started chains
        "step", "sleep 0.25",  # ... so the next look is at once
        "record", "sleep 1.75",
        "step", f"sleep {IDLE_WAKE_S}",  # the step failed: an idle wait
        "step", "sleep 1.0",  # stopped meanwhile
        "record",
    ]  # fmt: skip
    assert "event=leases_freed channel=telegram count=2" in caplog.text


async def test_run_goes_on_when_freeing_the_chats_of_the_dead_fails(
    moment: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = await _run(moment, monkeypatch, [1.0], freed=RuntimeError("the database is away"))
    assert trace == ["start", "step", "sleep 1.0", "record"]


def _reserve_then_unreserve(sender: OutboxSender) -> None:
    sender.reserve(["1"])
    sender.unreserve(["1"])


def _take_for_a_stalled_chat(sender: OutboxSender) -> None:
    # Its chain left rows behind: the rows handed over wait in the table behind those.
    sender.hands.stalled.add("1")
    sender.take([_row("1", 7)], {"1": Budget(3, 0)})


@pytest.mark.parametrize(
    "during",
    [OutboxSender.wake, _reserve_then_unreserve, _take_for_a_stalled_chat],
    ids=["wake", "unreserve", "take-stalled"],
)
async def test_what_wakes_the_run_makes_it_look_at_once(
    moment: Moment, monkeypatch: pytest.MonkeyPatch, during: Callable[[OutboxSender], None]
) -> None:
    """A commit that queued messages (``wake``), an event whose transaction failed after its
    chats were reserved (``unreserve``), rows handed over for a chat whose chain left rows
    behind (``take``): the next turn looks at the table, not only records."""
    trace = await _run(moment, monkeypatch, [0.5, 0.5, 1.0], during={1: during})
    assert trace == [
        "start", "allowance",
        "step", "sleep 0.5",  # woken during this sleep
        "step", "sleep 0.5",
        "record", "sleep 1.5",
        "step", "sleep 1.0",
        "record",
    ]  # fmt: skip


# --- _sleep: what ends it ------------------------------------------------------------------


Waker = Callable[[OutboxSender, asyncio.Event, asyncio.Future[None]], None]


def _sleep_wakers() -> dict[str, Waker]:
    return {
        "wake": lambda sender, _stop, _chain: sender.wake(),
        "stop": lambda _sender, stop, _chain: stop.set(),
        "chat-finished": lambda _sender, _stop, chain: chain.set_result(None),
    }


@pytest.mark.parametrize("waker", list(_sleep_wakers()))
async def test_a_sleep_ends_at_a_wake_a_stop_or_a_chat_that_finished(
    monkeypatch: pytest.MonkeyPatch, waker: str
) -> None:
    """The idle sleep (here as long as a minute) ends at once when woken, stopped, or when a
    chat it serves finishes (its slot and lease are free); the other chats' sends go on, and
    the sleep leaves no waiter of its own behind."""
    monkeypatch.setattr(sender_module, "IDLE_WAKE_S", 60.0)
    sender = bare_sender()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    finishing: asyncio.Future[None] = loop.create_future()
    sender.hands.active["1"] = cast(asyncio.Task[Any], finishing)
    with _hanging_chain(sender, "2") as other:
        before = asyncio.all_tasks()
        loop.call_soon(_sleep_wakers()[waker], sender, stop, finishing)
        await asyncio.wait_for(sender._sleep(stop, 60.0), GUARD_S)
        await asyncio.sleep(0)
        assert not other.done()
        assert asyncio.all_tasks() == before
    finishing.cancel()


@pytest.mark.parametrize(
    ("idle_wake", "delay", "limit"),
    [(60.0, TICK, TICK), (TICK, 60.0, TICK)],
    ids=["its-delay", "at-most-the-idle-wake"],
)
async def test_a_sleep_lasts_its_delay_at_most_the_idle_wake(
    monkeypatch: pytest.MonkeyPatch, waits: Waits, idle_wake: float, delay: float, limit: float
) -> None:
    monkeypatch.setattr(sender_module, "IDLE_WAKE_S", idle_wake)
    sender = bare_sender()
    with _hanging_chain(sender) as chain:
        before = asyncio.all_tasks()
        await asyncio.wait_for(sender._sleep(asyncio.Event(), delay), GUARD_S)
        assert waits.timeouts == [limit]
        assert not chain.done()
        assert asyncio.all_tasks() == before


# --- drain: its deadline -------------------------------------------------------------------


@dataclass
class Steps:
    """Stands in for ``step`` in a drain: each answer is (seconds, the clock after the step;
    None leaves it); a step more than scripted fails. Records are counted."""

    moment: Moment
    answers: list[tuple[float, float | None]]
    records: int = 0
    then: Callable[[], None] | None = None

    async def step(self) -> float:
        assert self.answers, "a step more than expected"
        delay, after = self.answers.pop(0)
        if after is not None:
            self.moment.now = after
        if self.then is not None:
            self.then()
            self.then = None
        return delay

    async def record(self) -> None:
        self.records += 1


@pytest.mark.parametrize(
    ("deadline", "answers", "sleeps"),
    [
        # Waits between steps while they fit the deadline; one that ends on it exactly fits.
        (1.0, [(0.5, None), (0.5, None)], [0.5, 0.5]),
        # A wait that ends after the deadline is not slept: the drain ends.
        (0.25, [(0.5, None)], []),
        # A wait as long as the idle wake means nothing more is due: the drain ends.
        (10.0, [(IDLE_WAKE_S, None)], []),
        # 0: go on at once, no sleep; the deadline is checked before each step.
        (1.0, [(0.0, None), (0.0, START + 1.0)], []),
    ],
    ids=["fits", "past-the-deadline", "idle", "at-once"],
)
async def test_a_drain_steps_and_sleeps_within_its_deadline(
    moment: Moment,
    waits: Waits,
    monkeypatch: pytest.MonkeyPatch,
    deadline: float,
    answers: list[tuple[float, float | None]],
    sleeps: list[float],
) -> None:
    sender = bare_sender()
    steps = Steps(moment, answers)
    monkeypatch.setattr(sender, "step", steps.step)
    monkeypatch.setattr(sender, "_record_finished", steps.record)
    await asyncio.wait_for(sender.drain(deadline), GUARD_S)
    assert (steps.answers, waits.sleeps, waits.timeouts, steps.records) == ([], sleeps, [], 1)


async def test_a_drain_waits_for_its_chats_until_the_deadline_then_leaves_them(
    moment: Moment, waits: Waits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chats still sending are waited for until the deadline only (not after it), and
    left to their lease at its end: the drain records what finished without waiting."""
    monkeypatch.setattr(sender_module, "SEND_TIMEOUT_S", TICK)
    sender = bare_sender()
    # The first step starts a chat that hangs, a tick before the deadline; the second ends
    # a second after it.
    steps = Steps(moment, [(0.0, START + 1.0 - TICK), (0.0, START + 2.0)])
    with _hanging_chain(sender) as chain:
        sender.hands.active.clear()
        steps.then = lambda: sender.hands.active.__setitem__("1", chain)
        monkeypatch.setattr(sender, "step", steps.step)
        monkeypatch.setattr(sender, "_record_finished", steps.record)
        await asyncio.wait_for(sender.drain(1.0), GUARD_S)
        assert (steps.answers, waits.timeouts, waits.sleeps) == ([], [TICK, 0.0], [])
        assert (steps.records, chain.done()) == (1, False)


# --- _settle: what shutdown waits for ------------------------------------------------------


@pytest.mark.parametrize("finishes", [True, False], ids=["finishes", "hangs"])
async def test_a_stop_waits_for_chats_in_flight_at_most_a_send_timeout(
    moment: Moment, waits: Waits, monkeypatch: pytest.MonkeyPatch, finishes: bool
) -> None:
    """At stop, a chat still sending is waited for (at most ``SEND_TIMEOUT_S``), so what it
    sent is recorded; one that hangs is left to its lease."""
    monkeypatch.setattr(sender_module, "SEND_TIMEOUT_S", TICK if not finishes else GUARD_S * 2)
    sender = bare_sender()
    stop = asyncio.Event()
    gate = asyncio.Event()

    async def chain() -> None:
        await gate.wait()

    task = asyncio.create_task(chain())
    sender.hands.active["1"] = cast(asyncio.Task[Any], task)
    seen: list[bool] = []

    async def step() -> float:
        stop.set()
        if finishes:
            asyncio.get_running_loop().call_soon(gate.set)
        return 0.0

    async def record() -> None:
        seen.append(task.done())

    async def nothing() -> None:
        return None

    monkeypatch.setattr(sender, "start", lambda: asyncio.sleep(0, 0))
    monkeypatch.setattr(sender._allowance, "take", nothing)
    monkeypatch.setattr(sender, "step", step)
    monkeypatch.setattr(sender, "_record_finished", record)
    try:
        await asyncio.wait_for(sender.run(stop), GUARD_S)
        expected = GUARD_S * 2 if finishes else TICK
        assert (waits.timeouts, seen) == ([expected], [finishes])
    finally:
        task.cancel()


# --- step: how soon to look again ----------------------------------------------------------


async def _due_in(engine: AsyncEngine, seconds: float) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(outbox.update().values(not_before=NOW + timedelta(seconds=seconds)))


@pytest.mark.parametrize(
    ("rows", "due_in", "answer"),
    [
        ([], None, IDLE_WAKE_S),  # nothing pending: the idle interval
        ([("1", "a")], 0.5, 0.5),  # a retry due sooner: then
        ([("1", "a")], 10.0, IDLE_WAKE_S),  # a retry due later: the idle interval at most
    ],
    ids=["nothing", "due-soon", "due-later"],
)
async def test_an_idle_look_answers_when_to_look_again(
    engine: AsyncEngine,
    moment: Moment,
    rows: list[tuple[str, str]],
    due_in: float | None,
    answer: float,
) -> None:
    sender = OutboxSender(engine, Channel(), Clock(), Limits())
    assert await sender.step() == COOLDOWN_S  # woken at first: a claim, which finds nothing
    assert sender._looked_at == START  # the next idle look is due IDLE_WAKE_S after it
    await _queue(engine, rows)
    if due_in is not None:
        await _due_in(engine, due_in)
    moment.now += 0.25
    assert await sender.step() == answer
    assert sender._looked_at == moment.now
    # An idle look is no claim: the next, in the same moment, answers the same.
    assert await sender.step() == answer


@pytest.mark.parametrize(
    ("chats", "answer"), [(3, 0.0), (2, IDLE_WAKE_S), (1, IDLE_WAKE_S)], ids=["3", "2", "1"]
)
async def test_a_step_that_started_chats_says_whether_to_go_on_at_once(
    engine: AsyncEngine, moment: Moment, chats: int, answer: float
) -> None:
    """Chats started: on at once while the pass's count of chats (those started, and all in
    hand, which holds them too) is under ``chats``; else a wait, which a chat finishing ends.
    Either way the next step claims again without an idle look first."""
    channel = Channel()
    sender = OutboxSender(engine, channel, Clock(), Limits(), chats=chats)
    await _queue(engine, [("1", "a")])
    assert await sender.step() == answer
    assert list(sender.hands.active) == ["1"]
    await asyncio.wait(list(sender.hands.active.values()))
    assert channel.sent == [("1", "a")]
    await _queue(engine, [("2", "b")])
    await _due_in(engine, 30.0)  # due later: an idle look would not claim it
    assert await sender.step() == COOLDOWN_S  # a claim (which records chat 1 first)
    assert channel.sent == [("1", "a")]


async def test_a_pause_is_waited_out_to_its_end_and_no_longer(
    engine: AsyncEngine, moment: Moment
) -> None:
    """A 429 pauses this process: each step until the pause ends answers the time left, and
    the step at its very end goes on."""

    def script(_chat: str, _text: str, n: int) -> None:
        if n == 1:
            raise RateLimited(0.5)

    sender = OutboxSender(engine, Channel(script), Clock(), Limits())
    await _queue(engine, [("1", "a")])
    await sender.drain_once()
    assert await sender.step() == 0.5
    moment.now += 0.25
    assert await sender.step() == 0.25
    moment.now += 0.25
    # The pause is over; the row's retry is not due by the database's clock yet.
    assert await sender.step() == COOLDOWN_S
