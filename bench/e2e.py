"""End to end, side by side: the durable bot against a conventional in-memory PTB bot.

Both run as their own process against the project's fake Bot API (tests/support/fake_telegram.py)
over HTTP, long polling: ``python -m bot`` (SQLite, durable commits) and ``bench/ptb_survey.py``
(python-telegram-bot's ``ConversationHandler``, state in memory). The same citizens do the same
thing to both: ``/khaosat``, then press consent and the first eight questions' buttons (ten
actions each). A round trip runs, on the fake server's clock, from the moment the citizen's
action exists to the arrival of the bot's next question (the message offering the next button).

Loads:

* ``steady``: 20 citizens, 200 actions, one in flight at a time, at most 20 a second;
* ``burst``: 100 citizens x 10 actions, closed loop (each citizen acts again as soon as the
  next question arrives), all at once.

Variants: ``ptb-mem``; ``durable`` with its send limits raised out of the way (what the code
costs); ``durable-default`` with Telegram's limits as the bot ships (burst only: what the limits
allow); with ``--before DIR`` the same two again from another checkout (an older commit: before
and after, measured in one run). Runs are interleaved (A/B/A/B, ``--rounds`` of each), each on
a fresh process, database and fake server. Printed, per load and variant: median and p99
round trip, events/s, the bot process's CPU per event, and for ours the SQL statements,
transactions (writes) and hand-offs to the SQLite thread per event (counted in the process by
bench/counting/sitecustomize.py); then one line per load with the ratios to ``ptb-mem``::

    steady durable/ptb-mem: median 1.10x, p99 1.30x, cpu 1.8x
    burst durable/ptb-mem: events/s 1.05x, p99 0.90x, cpu 1.7x

Run from the repository root: ``python bench/e2e.py`` (about a minute per round).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.bot_process import ROOT, BotProcess
from tests.support.fake_telegram import Call, FakeTelegram

#: What a citizen presses, in order; the reply to an action is the message offering the next.
PRESSES = [
    "consent:yes",
    "info:done",
    "trips:1",
    "timing:ontime",
    "1.1:4",
    "1.2:4",
    "1.3:4",
    "1.4:4",
    "2.1:4",
    "2.2:4",
]
ACTIONS = ["/khaosat", *PRESSES[:-1]]
HERE = Path(__file__).resolve().parent
STEADY_USERS = 20
STEADY_PACE_S = 0.05
BURST_USERS = 100
REPLY_TIMEOUT_S = 60.0
COUNTED = ("statements", "transactions", "writes", "hops")
RAISED = {"TELEGRAM_MAX_PER_SECOND": "1000", "TELEGRAM_MAX_PER_CHAT_PER_SECOND": "100"}
DEFAULTS = {"TELEGRAM_MAX_PER_SECOND": "30", "TELEGRAM_MAX_PER_CHAT_PER_SECOND": "1"}


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    root: Path
    command: tuple[str, ...]
    env: dict[str, str]
    loads: tuple[str, ...]
    counted: bool = True


@dataclass(slots=True)
class Result:
    trips: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    events: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class Citizen:
    """One chat: which action comes next, and when the last one was made."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self.step = 0
        self.acted_at = 0.0

    def act(self, fake: FakeTelegram) -> None:
        action = ACTIONS[self.step]
        if action.startswith("/"):
            update = fake.user_sends_command(self.chat_id, action)
        else:
            update = fake.user_presses(self.chat_id, self._offering(fake, action), action)
        self.acted_at = fake.update(update).created_at

    def _offering(self, fake: FakeTelegram, data: str) -> int:
        for message in reversed(fake.messages(self.chat_id)):
            if any(cb == data for _, cb in fake.keyboard(message)):
                return message.message_id
        raise RuntimeError(f"no message offers {data} to {self.chat_id}")

    def answered_by(self, call: Call) -> bool:
        """Whether ``call`` is the next question this citizen waits for."""
        if call.method != "sendMessage" or call.status != 200 or call.chat_id != self.chat_id:
            return False
        markup = call.params.get("reply_markup")
        text = markup if isinstance(markup, str) else json.dumps(markup)
        return f'"{PRESSES[self.step]}"' in text


def follow(
    fake: FakeTelegram, citizens: list[Citizen], on_reply: Callable[[Citizen, Call], None]
) -> Callable[[float], None]:
    """A waiter that hands each awaited next question to ``on_reply`` as calls arrive."""
    by_chat = {c.chat_id: c for c in citizens}
    seen = len(fake.calls)

    def wait(timeout: float) -> None:
        nonlocal seen
        new = fake.calls_after(seen, timeout)
        if not new:
            raise TimeoutError(fake.describe(f"no call from the bot in {timeout} s"))
        seen += len(new)
        for call in new:
            citizen = by_chat.get(call.chat_id or 0)
            if citizen is not None and citizen.answered_by(call):
                on_reply(citizen, call)

    return wait


def steady(fake: FakeTelegram, first: int, users: int = STEADY_USERS) -> tuple[list[float], float]:
    citizens = [Citizen(first + n) for n in range(users)]
    trips: list[float] = []
    waiting: list[Citizen] = []

    def replied(citizen: Citizen, call: Call) -> None:
        trips.append(call.at - citizen.acted_at)
        citizen.step += 1
        waiting.remove(citizen)

    wait = follow(fake, citizens, replied)
    started = time.monotonic()
    for _ in ACTIONS:
        for citizen in citizens:
            began = time.monotonic()
            waiting.append(citizen)
            citizen.act(fake)
            while waiting:
                wait(REPLY_TIMEOUT_S)
            time.sleep(max(0.0, STEADY_PACE_S - (time.monotonic() - began)))
    return trips, len(trips) / (time.monotonic() - started)


def burst(fake: FakeTelegram, first: int) -> tuple[list[float], float]:
    citizens = [Citizen(first + n) for n in range(BURST_USERS)]
    trips: list[float] = []
    last = 0.0

    def replied(citizen: Citizen, call: Call) -> None:
        nonlocal last
        trips.append(call.at - citizen.acted_at)
        last = call.at
        citizen.step += 1
        if citizen.step < len(ACTIONS):
            citizen.act(fake)

    wait = follow(fake, citizens, replied)
    started = time.monotonic()
    for citizen in citizens:
        citizen.act(fake)
    expected = len(citizens) * len(ACTIONS)
    while len(trips) < expected:
        wait(REPLY_TIMEOUT_S)
    return trips, len(trips) / (last - started)


LOADS: dict[str, Callable[[FakeTelegram, int], tuple[list[float], float]]] = {
    "steady": steady,
    "burst": burst,
}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counts(process: BotProcess, path: Path) -> dict[str, int]:
    """The process's counters now (it writes them on SIGUSR1)."""
    assert process.proc is not None
    path.unlink(missing_ok=True)
    process.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not write its counts")
        time.sleep(0.01)
    found: dict[str, int] = json.loads(path.read_text())
    return found


def run_once(variant: Variant, load: str, result: Result) -> None:
    with FakeTelegram(token="4242:BENCH", username="sipas_bench_bot") as fake:
        workdir = Path(tempfile.mkdtemp(prefix=f"e2e-{variant.name}-{load}-"))
        counts_path = workdir / "counts.json"
        env = {"LOG_LEVEL": "WARNING", "WEB_CHAT": "false", **variant.env}
        if variant.counted:
            here = HERE / "counting"
            env["PYTHONPATH"] = f"{here}{os.pathsep}{variant.root}"
            env["BENCH_COUNTS"] = str(counts_path)
        process = BotProcess(
            fake, workdir, extra_env=env, root=variant.root, command=variant.command
        )
        process.start()
        try:
            assert process.proc is not None
            steady(fake, 90_000, users=2)  # warm up: imports, caches, connections
            before = counts(process, counts_path) if variant.counted else {}
            cpu = cpu_seconds(process.proc.pid)
            trips, rate = LOADS[load](fake, 100_000)
            result.cpu_s += cpu_seconds(process.proc.pid) - cpu
            if variant.counted:
                after = counts(process, counts_path)
                for key in COUNTED:
                    result.counts[key] = result.counts.get(key, 0) + after[key] - before[key]
            result.trips.extend(trips)
            result.rates.append(rate)
            result.events += len(trips)
        finally:
            process.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(load: str, name: str, r: Result) -> str:
    line = (
        f"{load} {name}: median {statistics.median(r.trips) * 1000:.1f} ms, "
        f"p99 {percentile(r.trips, 0.99) * 1000:.0f} ms, "
        f"events/s {statistics.median(r.rates):.1f}, cpu {r.cpu_s / r.events * 1000:.2f} ms/event"
    )
    if r.counts:
        per = {k: r.counts[k] / r.events for k in COUNTED}
        line += (
            f"; per event {per['statements']:.1f} statements, {per['transactions']:.1f} "
            f"transactions ({per['writes']:.1f} writes), {per['hops']:.1f} thread hand-offs"
        )
    return line


def ratio(load: str, name: str, ours: Result, base: Result) -> str:
    cpu = (ours.cpu_s / ours.events) / (base.cpu_s / base.events)
    p99 = percentile(ours.trips, 0.99) / percentile(base.trips, 0.99)
    if load == "steady":
        median = statistics.median(ours.trips) / statistics.median(base.trips)
        return f"{load} {name}/ptb-mem: median {median:.2f}x, p99 {p99:.2f}x, cpu {cpu:.2f}x"
    rate = statistics.median(ours.rates) / statistics.median(base.rates)
    return f"{load} {name}/ptb-mem: events/s {rate:.2f}x, p99 {p99:.2f}x, cpu {cpu:.2f}x"


def variants(before: Path | None) -> list[Variant]:
    bot = ("-m", "bot")
    found = [
        Variant("ptb-mem", ROOT, ("-m", "bench.ptb_survey"), {}, ("steady", "burst"), False),
        Variant("durable", ROOT, bot, RAISED, ("steady", "burst")),
        Variant("durable-default", ROOT, bot, DEFAULTS, ("burst",)),
    ]
    if before is not None:
        root = before.resolve()
        found += [
            Variant("durable@before", root, bot, RAISED, ("steady", "burst")),
            Variant("durable-default@before", root, bot, DEFAULTS, ("burst",)),
        ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant and load")
    parser.add_argument("--load", choices=("steady", "burst", "both"), default="both")
    parser.add_argument("--before", type=Path, help="another checkout to run as @before")
    parser.add_argument("--only", nargs="*", help="variant names to run (ptb-mem always)")
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    chosen = [
        v
        for v in variants(args.before)
        if not args.only or v.name in args.only or v.name == "ptb-mem"
    ]
    loads = ("steady", "burst") if args.load == "both" else (args.load,)
    results: dict[tuple[str, str], Result] = {}
    for round_ in range(args.rounds):
        order = chosen if round_ % 2 == 0 else list(reversed(chosen))  # A/B, then B/A
        for load in loads:
            for variant in order:
                if load in variant.loads:
                    run_once(variant, load, results.setdefault((load, variant.name), Result()))
                    print(f"  done: round {round_ + 1} {load} {variant.name}", file=sys.stderr)
    for load in loads:
        for variant in chosen:
            if (load, variant.name) in results:
                print(describe(load, variant.name, results[(load, variant.name)]), flush=True)
        base = results.get((load, "ptb-mem"))
        for variant in chosen:
            ours = results.get((load, variant.name))
            if base is not None and ours is not None and variant.name != "ptb-mem":
                print(ratio(load, variant.name, ours, base), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
