"""Load benchmark: 1,000 citizens answering the survey through the real bot processes.

A fake Bot API (tests/support/fake_telegram.py) plays Telegram; ``python -m bot`` runs in
webhook mode, once on SQLite (one process) and on PostgreSQL with two processes sharing the
database, updates spread over them in turn as a reverse proxy would. Each citizen sends
``/khaosat`` and presses the survey's buttons (23 events by default), thinking 2-20 s before
each answer, that time divided by ``--factor`` (10 by default: 0.2-2 s) so a run takes
minutes, not hours; most citizens arrive spread over ``--window`` seconds, and a burst of 200
start at the same moment. The bot's overall send limit is raised to 1,000/s (the fake has no
flood control; at Telegram's 30/s the sending alone would take 13 minutes). The latency is
from the citizen's update at the fake server to the bot's reply at the fake server. Prints:

    postgres x2: 1000 citizens, 23000 events, 0 lost, 0 doubled, p50 12.0 ms, p99 80.0 ms

Then, with Telegram's real limit of 30 messages/s, 1,000 bulk messages (notices to as many
chats) are queued at once while 100 citizens answer at their natural pace (2-20 s):

    bulk (postgres x2, 30 msg/s): 1000 bulk messages beside 100 citizens: ...

Lost: an answer never sent (a citizen waits 60 s, then gives up; the answers given up on get
another 60 s before they count as lost). Doubled: a message sent twice to a chat.
PostgreSQL from TEST_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test).
Run from the repository root: ``python bench/load.py`` (``--quick`` for a short try).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
os.environ.setdefault("PTB_TIMEDELTA", "true")

import httpx

from storage import WriteSet, flush, open_engine, write_transaction
from storage.outbound import TextMessage
from storage.queries.dialogue import load_conversations
from tests.e2e.test_telegram_api import SURVEY
from tests.support.bot_process import BotProcess, free_port
from tests.support.db import postgres_database
from tests.support.fake_telegram import Call, FakeTelegram

REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
FIRST_CHAT = 70_000_000
BULK_CHAT = 80_000_000
BURST = 200
ANSWER_TIMEOUT_S = 60.0
THINK_S = (2.0, 20.0)


@dataclass
class Tally:
    """What one run saw: events taken, steps never answered, latencies in seconds."""

    events: int = 0
    lost: int = 0  # steps whose citizen gave up: never taken, or not answered in time
    late: list[tuple[int, int]] = field(default_factory=list)  # (chat, replies before)
    replies: Counter[int] = field(default_factory=Counter)

    def unanswered(self) -> int:
        """Of the steps not answered in time, those never answered at all."""
        return sum(1 for chat, before in self.late if self.replies[chat] <= before)


class Load:
    """Drives citizens over the fake Bot API and the bot's webhook URLs (in turn)."""

    def __init__(
        self, fake: FakeTelegram, processes: list[BotProcess], steps: list[str], factor: float
    ) -> None:
        self.fake = fake
        self.processes = processes
        self.steps = steps
        self.factor = factor
        self.tally = Tally()
        self.rng = random.Random(11)
        self.turn = 0
        self.loop = asyncio.get_running_loop()
        self.woken: dict[int, asyncio.Event] = {}
        self.pool = ThreadPoolExecutor(64)
        fake.listen(self._heard)

    def _heard(self, call: Call) -> None:  # on the fake server's thread
        chat = call.chat_id
        if call.status == 200 and call.method in REPLY_METHODS and chat is not None:
            self.tally.replies[chat] += 1
            event = self.woken.get(chat)
            if event is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(event.set)

    def _newest(self, chat: int, data: str) -> int | None:
        for message in reversed(self.fake.messages(chat)):
            if any(cb == data for _, cb in self.fake.keyboard(message)):
                return message.message_id
        return None

    async def _post(self, update: int) -> bool:
        """Delivers like Telegram: to one process, again a second later until taken."""
        for _ in range(10):
            process = self.processes[self.turn % len(self.processes)]
            self.turn += 1
            try:
                status = await self.loop.run_in_executor(
                    self.pool, self.fake.post_update_to, process.webhook_url, update, process.secret
                )
            except httpx.TransportError:
                # A kept-alive connection the server closed meanwhile: not delivered, so
                # delivered again a second later, as Telegram does.
                status = 0
            if status == 200:
                self.tally.events += 1
                return True
            await asyncio.sleep(1.0)
        return False

    async def citizen(self, chat: int, start_s: float) -> None:
        await asyncio.sleep(start_s)
        woken = self.woken[chat] = asyncio.Event()
        for index, step in enumerate(self.steps):
            if index:
                await asyncio.sleep(self.rng.uniform(*THINK_S) / self.factor)
            before = self.tally.replies[chat]
            woken.clear()
            if step.startswith("/"):
                update = self.fake.user_sends_command(chat, step)
            else:
                message = self._newest(chat, step)
                if message is None:
                    self.tally.lost += len(self.steps) - index
                    return
                update = self.fake.user_presses(chat, message, step)
            following = self.steps[index + 1] if index + 1 < len(self.steps) else None
            if not await self._post(update):
                self.tally.lost += len(self.steps) - index
                return
            if not await self._answered(chat, before, following):
                # The citizen gives up; whether the answer came at all is counted at the end.
                self.tally.late.append((chat, before))
                self.tally.lost += len(self.steps) - index - 1
                return

    async def _answered(self, chat: int, before: int, following: str | None) -> bool:
        woken = self.woken[chat]
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.tally.replies[chat] > before and (
                following is None or self._newest(chat, following) is not None
            ):
                return True
            woken.clear()
            try:
                await asyncio.wait_for(woken.wait(), timeout=deadline - time.monotonic())
            except TimeoutError:
                break
        return False

    def close(self) -> None:
        self.woken.clear()  # late replies (bulk, edits) wake nothing once the run is over
        self.pool.shutdown(wait=True)


def _doubled(fake: FakeTelegram) -> int:
    """Messages sent to a chat more than once (each question and notice is sent once)."""
    sent = Counter(
        (c.chat_id, str(c.params.get("text")))
        for c in fake.calls_to("sendMessage")
        if c.status == 200
    )
    return sum(n - 1 for n in sent.values() if n > 1)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def _database(kind: str) -> Iterator[str]:
    if kind == "postgres":
        with postgres_database() as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="sipas-load-") as folder:
        yield f"sqlite+aiosqlite:///{folder}/bot.db"


@contextmanager
def _bots(fake: FakeTelegram, url: str, count: int, per_second: int) -> Iterator[list[BotProcess]]:
    with ExitStack() as stack:
        processes: list[BotProcess] = []
        for _ in range(count):
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sipas-bot-")))
            env = {"LOG_LEVEL": "WARNING", "TELEGRAM_MAX_PER_SECOND": str(per_second)}
            process = BotProcess(
                fake, workdir, database_url=url, webhook_port=free_port(), extra_env=env
            )
            process.start(timeout=120)
            stack.callback(process.stop)
            processes.append(process)
        yield processes


@contextmanager
def _setup(
    kind: str, count: int, per_second: int
) -> Iterator[tuple[FakeTelegram, str, list[BotProcess]]]:
    """The fake Bot API, a fresh database, and ``count`` bot processes on it."""
    with (
        FakeTelegram(token="777:LOAD", username="sipas_load_bot") as fake,
        _database(kind) as url,
        _bots(fake, url, count, per_second) as processes,
    ):
        yield fake, url, processes


def run_load(kind: str, count: int, args: argparse.Namespace) -> str:
    steps = ["/khaosat", *SURVEY][: args.steps]
    with _setup(kind, count, per_second=1000) as (fake, _url, processes):

        async def drive() -> Tally:
            load = Load(fake, processes, steps, args.factor)
            rng = random.Random(7)
            spread = args.citizens - min(BURST, args.citizens)
            starts = [rng.uniform(0, args.window) for _ in range(spread)]
            starts += [args.burst_at] * (args.citizens - spread)
            try:
                await asyncio.gather(
                    *(load.citizen(FIRST_CHAT + n, s) for n, s in enumerate(starts))
                )
            finally:
                load.close()
            return load.tally

        tally = asyncio.run(drive())
        if tally.late:
            time.sleep(ANSWER_TIMEOUT_S)  # a last chance for the answers given up on
        times = fake.round_trips(REPLY_METHODS)
        doubled = _doubled(fake)
    line = (
        f"{kind} x{count}: {args.citizens} citizens, {tally.events} events, "
        f"{tally.unanswered()} lost, {doubled} doubled, p50 {statistics.median(times) * 1000:.1f}"
        f" ms, p99 {_percentile(times, 0.99) * 1000:.1f} ms"
    )
    if tally.late or tally.lost:
        line += (
            f" ({len(tally.late)} answers later than {ANSWER_TIMEOUT_S:.0f} s; {tally.lost} steps"
            " not taken by citizens who gave up)"
        )
    return line


async def _queue_bulk(url: str, count: int) -> None:
    engine = open_engine(url)
    now = datetime.now(UTC)
    try:
        async with write_transaction(engine) as conn:
            chats = {("telegram", str(BULK_CHAT + n)) for n in range(count)}
            await load_conversations(conn, chats, now)
            writes = WriteSet()
            for n in range(count):
                text = f"Thông báo lịch tiếp công dân số {n} / notice {n}"
                writes.enqueue(
                    "telegram", str(BULK_CHAT + n), TextMessage(text, (), "k"), now, bulk=True
                )
            await flush(conn, writes)
    finally:
        await engine.dispose()


def run_bulk(kind: str, count: int, args: argparse.Namespace) -> str:
    steps = ["/khaosat", *SURVEY][: args.bulk_steps]
    with _setup(kind, count, per_second=30) as (fake, url, processes):
        bulk_sent: list[float] = []
        fake.listen(
            lambda c: (
                bulk_sent.append(c.at)
                if c.status == 200 and (c.chat_id or 0) >= BULK_CHAT
                else None
            )
        )

        async def drive() -> float:
            load = Load(fake, processes, steps, factor=1.0)
            rng = random.Random(8)
            citizens = [
                load.citizen(FIRST_CHAT + n, rng.uniform(0, 10)) for n in range(args.bulk_citizens)
            ]
            tasks = [asyncio.ensure_future(c) for c in citizens]
            await asyncio.sleep(5)
            queued = time.monotonic()
            await _queue_bulk(url, args.bulk)
            try:
                await asyncio.gather(*tasks)
                # The bulk sends are counted on the fake's thread: looked at twice a second.
                while len(bulk_sent) < args.bulk and time.monotonic() - queued < 600:  # noqa: ASYNC110
                    await asyncio.sleep(0.5)
            finally:
                load.close()
            return queued

        queued = asyncio.run(drive())
        times = fake.round_trips(REPLY_METHODS)
        drained = (max(bulk_sent) - queued) if len(bulk_sent) >= args.bulk else float("nan")
    return (
        f"bulk ({kind} x{count}, 30 msg/s): {args.bulk} bulk messages beside "
        f"{args.bulk_citizens} citizens: citizens' reply p99 "
        f"{_percentile(times, 0.99) * 1000:.1f} ms (p50 {statistics.median(times) * 1000:.1f} "
        f"ms), {len(bulk_sent)} bulk sent, drained in {drained:.1f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=23, help="events per citizen")
    parser.add_argument("--factor", type=float, default=10.0, help="think time divided by")
    parser.add_argument("--window", type=float, default=120.0, help="arrivals spread, s")
    parser.add_argument("--burst-at", type=float, default=30.0, help="the burst of 200, s")
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--bulk-citizens", type=int, default=100)
    parser.add_argument("--bulk-steps", type=int, default=8)
    parser.add_argument(
        "--only", choices=("sqlite", "postgres", "bulk"), action="append", default=None
    )
    parser.add_argument("--quick", action="store_true", help="100 citizens, 8 steps, 100 bulk")
    args = parser.parse_args()
    if args.quick:
        args.citizens, args.steps, args.window, args.burst_at = 100, 8, 10.0, 3.0
        args.bulk, args.bulk_citizens, args.bulk_steps = 100, 20, 4
    low, high = (s / args.factor for s in THINK_S)
    print(
        f"think time {THINK_S[0]:.0f}-{THINK_S[1]:.0f} s divided by {args.factor:g} "
        f"({low:.1f}-{high:.1f} s); {args.citizens - min(BURST, args.citizens)} citizens "
        f"arriving over {args.window:g} s, {min(BURST, args.citizens)} at once at "
        f"{args.burst_at:g} s; {args.steps} events each",
        flush=True,
    )
    only = args.only or ["sqlite", "postgres", "bulk"]
    if "sqlite" in only:
        print(run_load("sqlite", 1, args), flush=True)
    if "postgres" in only:
        print(run_load("postgres", 2, args), flush=True)
    if "bulk" in only:
        print(run_bulk("postgres", 2, args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
