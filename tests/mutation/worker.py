"""Runs one module's mutants, each against the collected tests that reach its function, in a
fork of one warm process.

Started by ``python -m tests.mutation`` inside ``mutants/`` (so that the packages imported are
mutmut's copies, with their trampolines). pytest collects the module's lists once, in this
process; its ``pytest_runtestloop`` is replaced by :class:`ForkServer`, which runs no test
itself but forks:

1. one *stats* fork runs every collected test once with ``MUTANT_UNDER_TEST=stats`` and notes,
   per test, which mutated functions it reached and how long it took (mutmut's trampoline
   calls ``record_trampoline_hit`` for each). Every test must pass there, and one must reach
   the module: otherwise no outcome below would mean anything;
2. each mutant is a fork that sets ``MUTANT_UNDER_TEST`` (the trampoline reads it at every
   call) and runs, fastest first and stopping at the first failure, the ``first`` tests that
   reach its function; a survivor not named equivalent then the ``then`` tests that reach
   it (cut by ``then_k``; on PostgreSQL too with ``postgres``). No interpreter start,
   import or collection per mutant, and no test that cannot reach the mutant;
3. a kill counts only if that same selection, in that order, passes with no mutant (run once
   per selection): otherwise the mutant runs the whole stage list in file order;
4. a survivor not named equivalent runs the whole of both lists in file order, as a check
   that the selection missed nothing (a function reached only from a fixture another test
   set up, say).

Writes one JSON line per mutant to ``--results``: its name, pytest's outcome (0 passed, 1
failed, ``null`` for a timeout), the seconds it took, the tests run and the stage that
decided it (``first``, ``then``, ``whole``, ``unreached``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

#: pytest's arguments for the collection: in file order, in this process (an xdist worker
#: would import the packages afresh), no cache.
PYTEST_ARGS = ("-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0")
#: No PostgreSQL run unless asked: the SQLite run of a storage test judges most mutants at
#: half the cost; a conflict target's column name is only checked by PostgreSQL.
SQLITE_ONLY = ("-m", "not faults and not e2e and not browser and not postgres")
BOTH_DATABASES = ("-m", "not faults and not e2e and not browser")
#: The stats fork runs every test once; it may take far longer than one mutant.
STATS_TIMEOUT = 3600.0


@dataclass(frozen=True, slots=True)
class Job:
    """What one worker measures: the module's dotted name, its mutants, which of them the
    docs name equivalent (they skip the whole-list check), and the stage lists' files."""

    module: str
    names: tuple[str, ...]
    named: frozenset[str]
    first: tuple[str, ...]
    then: tuple[str, ...]
    then_k: str
    postgres: bool
    workers: int
    timeout: float


@dataclass(slots=True)
class Row:
    """One mutant's outcome, as written to the results file."""

    name: str
    exit: int | None
    seconds: float
    tests: int
    stage: str

    def as_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "exit": self.exit,
                "seconds": round(self.seconds, 2),
                "tests": self.tests,
                "stage": self.stage,
            }
        )


def function_of(mutant: str) -> str:
    """``conversations.workdays.x_add__mutmut_3`` → ``conversations.workdays.x_add``: the key
    mutmut's trampoline records a call under."""
    return mutant.rpartition("__mutmut_")[0]


def _passes(item: pytest.Item, following: pytest.Item | None) -> bool:
    """Runs one item's setup, call and teardown as pytest's runner does, but stops at the
    first exception without drawing its report: a failure's report (its traceback with the
    source) costs about 0.2 s, more than most mutants' whole run. Passing phases still get
    theirs (``tmp_path`` reads it at teardown). A skip is no failure; the suite has no
    ``xfail``."""
    from _pytest.runner import CallInfo

    hooks = item.ihook

    def phase(when: Literal["setup", "call", "teardown"], run: Callable[[], object]) -> str:
        """``passed``, ``skipped`` or ``failed``; a report only for the first two."""
        call = CallInfo.from_call(run, when=when, reraise=())
        if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
            return "failed"
        hooks.pytest_runtest_makereport(item=item, call=call)
        return "passed" if call.excinfo is None else "skipped"

    setup = phase("setup", lambda: hooks.pytest_runtest_setup(item=item))
    if setup == "failed":
        return False
    if (
        setup == "passed"
        and phase("call", lambda: hooks.pytest_runtest_call(item=item)) == "failed"
    ):
        return False
    teardown = phase(
        "teardown", lambda: hooks.pytest_runtest_teardown(item=item, nextitem=following)
    )
    return teardown != "failed"


def _run_items(items: Sequence[pytest.Item], note: Path | None = None) -> int:
    """In a fork: the items in this order, stopping at the first failure; 1 if one failed,
    and then the failing item's position written to ``note``."""
    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        if not _passes(item, following):
            if note is not None:
                note.write_text(str(index), encoding="utf-8")
            return 1
    return 0


def _forked(mutant: str, body: Callable[[], int]) -> int:
    """Fork; the child sets the mutant, silences its output, runs ``body`` and exits with its
    code (99 for whatever it raised); the parent gets the pid."""
    pid = os.fork()
    if pid:
        return pid
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.environ["MUTANT_UNDER_TEST"] = mutant
    try:
        code = body()
    except BaseException:
        code = 99
    os._exit(code)


@dataclass(slots=True)
class Pool:
    """At most ``workers`` forks at once, each killed after ``timeout`` seconds."""

    workers: int
    timeout: float
    running: dict[int, tuple[str, float, Callable[[int | None, float], None]]] = field(
        default_factory=dict
    )

    def submit(
        self, mutant: str, body: Callable[[], int], done: Callable[[int | None, float], None]
    ) -> None:
        while len(self.running) >= self.workers:
            self._reap()
        pid = _forked(mutant, body)
        self.running[pid] = (mutant, time.monotonic(), done)

    def drain(self) -> None:
        while self.running:
            self._reap()

    def _reap(self) -> None:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            _, began, done = self.running.pop(pid)
            done(os.waitstatus_to_exitcode(status), time.monotonic() - began)
            return
        now = time.monotonic()
        for pid, (_, began, done) in list(self.running.items()):
            if now - began > self.timeout:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                self.running.pop(pid)
                done(None, now - began)
        time.sleep(0.005)


@dataclass(slots=True)
class Stats:
    """Per test index: the mutated functions it reached and its seconds (the stats fork)."""

    reached: dict[str, list[int]]
    seconds: list[float]
    failed: list[str]


def _collect_stats(items: Sequence[pytest.Item], timeout: float) -> Stats:
    """Every item once under ``MUTANT_UNDER_TEST=stats``, in a fork (so no fixture of this
    process is ever set up); the record of calls read back from a file."""
    import mutmut.mutation.trampoline as trampoline

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stats.json"

        def body() -> int:
            hits: set[str] = set()
            # The trampoline calls the name it imported: replace it there.
            trampoline.record_trampoline_hit = lambda name, caller=None: hits.add(name)  # type: ignore[attr-defined]
            reached: dict[str, list[int]] = defaultdict(list)
            seconds: list[float] = []
            failed: list[str] = []
            for index, item in enumerate(items):
                hits.clear()
                began = time.perf_counter()
                following = items[index + 1] if index + 1 < len(items) else None
                passed = _passes(item, following)
                seconds.append(time.perf_counter() - began)
                if not passed:
                    failed.append(item.nodeid)
                for name in hits:
                    reached[name].append(index)
            out.write_text(
                json.dumps({"reached": reached, "seconds": seconds, "failed": failed}),
                encoding="utf-8",
            )
            return 0

        outcome: list[int | None] = []
        pool = Pool(1, timeout)
        pool.submit("stats", body, lambda code, _seconds: outcome.append(code))
        pool.drain()
        if outcome != [0] or not out.is_file():
            said = "timed out" if outcome == [None] else f"ended with exit {outcome[0]}"
            return Stats(
                {}, [], [f"the run of every test under stats {said} (limit {timeout:.0f} s)"]
            )
        data = json.loads(out.read_text(encoding="utf-8"))
    return Stats(data["reached"], data["seconds"], data["failed"])


class ForkServer:
    """The pytest plugin: takes the collected items and, instead of pytest's loop, runs the
    job's mutants as the module docstring says."""

    def __init__(self, job: Job, results: Path) -> None:
        self.job = job
        self.results = results
        self.error = ""
        #: Seconds of each part (stats, first, then, whole), and counts: for the report.
        self.timings: dict[str, float] = {}

    def _stage_items(self, session: pytest.Session) -> tuple[list[int], list[int]]:
        """The indices of ``session.items`` in the ``first`` stage and in the ``then`` stage."""
        from _pytest.mark import KeywordMatcher
        from _pytest.mark.expression import Expression

        firsts = {str(Path(f)) for f in self.job.first}
        keyword = Expression.compile(self.job.then_k) if self.job.then_k else None
        first: list[int] = []
        then: list[int] = []
        for index, item in enumerate(session.items):
            path = str(Path(item.nodeid.split("::", 1)[0]))
            if path in firsts:
                # An exact test's PostgreSQL run joins the wider stage: it judges what SQLite
                # cannot (a row lock, a conflict target), at twice the cost of its SQLite run.
                if item.get_closest_marker("postgres") is None:
                    first.append(index)
                else:
                    then.append(index)
            elif keyword is None or keyword.evaluate(KeywordMatcher.from_item(item)):
                then.append(index)
        return first, then

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        os.environ["MUTANT_UNDER_TEST"] = ""
        job = self.job
        items = list(session.items)
        first, then = self._stage_items(session)
        kept = sorted(set(first) | set(then))
        began = time.monotonic()
        stats = _collect_stats([items[i] for i in kept], STATS_TIMEOUT)
        self.timings["stats"] = time.monotonic() - began
        if stats.failed:
            self.error = f"the tests fail without any mutant: {stats.failed[:5]}"
            return True
        # Back from positions in `kept` to positions in `items`.
        reached = {f: [kept[i] for i in idx] for f, idx in stats.reached.items()}
        seconds = {kept[i]: s for i, s in enumerate(stats.seconds)}
        if not any(f.startswith(job.module + ".") for f in reached):
            self.error = f"the tests never reach {job.module}"
            return True

        #: Per function, the tests that killed one of its mutants, the latest first: the next
        #: mutant of the function tries them before the others (most die to the same test).
        killers: dict[str, list[int]] = defaultdict(list)
        notes = Path(tempfile.mkdtemp(prefix="mutation-"))
        serial = itertools.count()

        def selection(mutant: str, stage: list[int]) -> tuple[int, ...]:
            """The stage's tests that reach the mutant's function: its killers so far, then
            the rest fastest first."""
            function = function_of(mutant)
            chosen = set(reached.get(function, ())) & set(stage)
            known = [i for i in killers[function] if i in chosen]
            rest = sorted(chosen - set(known), key=lambda i: (seconds.get(i, 0.0), i))
            return (*known, *rest)

        rows: dict[str, Row] = {}
        baselines: dict[tuple[int, ...], int | None] = {}
        pool = Pool(job.workers, job.timeout)

        def run(
            mutant: str, chosen: Sequence[int], done: Callable[[int | None, float], None]
        ) -> Path:
            note = notes / str(next(serial))
            pool.submit(mutant, lambda: _run_items([items[i] for i in chosen], note), done)
            return note

        def baseline(chosen: tuple[int, ...]) -> int | None:
            """These tests in this order with no mutant (once each): a kill by them counts
            only if this is 0."""
            if chosen not in baselines:
                verdict: list[int | None] = []
                own = Pool(1, job.timeout)
                own.submit(
                    "",
                    lambda: _run_items([items[i] for i in chosen]),
                    lambda c, _s: verdict.append(c),
                )
                own.drain()
                baselines[chosen] = verdict[0]
            return baselines[chosen]

        def stage(names: Sequence[str], indices: list[int], label: str) -> list[str]:
            """Runs each mutant on its selection of ``indices``; returns the survivors."""
            survivors: list[str] = []
            #: A killed mutant and the tests up to the one that failed (all, if unknown).
            unsure: dict[str, tuple[int, ...]] = {}

            def judged(
                mutant: str, chosen: tuple[int, ...]
            ) -> tuple[Callable[[int | None, float], None], list[Path]]:
                note: list[Path] = []

                def done(code: int | None, took: float) -> None:
                    rows[mutant] = Row(mutant, code, took, len(chosen), label)
                    if code == 0:
                        survivors.append(mutant)
                    elif code is not None:
                        upto = chosen
                        if note and note[0].is_file():
                            failed = int(note[0].read_text(encoding="utf-8"))
                            upto = chosen[: failed + 1]
                            mine = killers[function_of(mutant)]
                            if chosen[failed] in mine:
                                mine.remove(chosen[failed])
                            mine.insert(0, chosen[failed])
                        unsure[mutant] = upto

                return done, note

            for mutant in names:
                chosen = selection(mutant, indices)
                if not chosen:
                    survivors.append(mutant)
                    rows.setdefault(mutant, Row(mutant, 0, 0.0, 0, "unreached"))
                    continue
                done, note = judged(mutant, chosen)
                note.append(run(mutant, chosen, done))
            pool.drain()
            # A kill by tests that fail by themselves, in that order, is no kill: the whole
            # stage list, in file order, decides.
            again = [m for m, upto in unsure.items() if baseline(upto) != 0]
            for mutant in again:
                done, note = judged(mutant, tuple(indices))
                note.append(run(mutant, indices, done))
            pool.drain()
            return [m for m in names if m in survivors and rows[m].exit == 0]

        began = time.monotonic()
        left = stage(job.names, first, "first")
        self.timings["first"] = time.monotonic() - began
        # A named equivalent has been looked at: no test can tell it from the original.
        left = [m for m in left if m not in job.named]
        if then:
            began = time.monotonic()
            left = stage(left, then, "then")
            self.timings["then"] = time.monotonic() - began
        began = time.monotonic()
        whole = tuple(kept)
        for mutant in left:

            def done(code: int | None, took: float, mutant: str = mutant) -> None:
                rows[mutant] = Row(mutant, code, took, len(whole), "whole")

            run(mutant, whole, done)
        pool.drain()
        self.timings["whole"] = time.monotonic() - began
        shutil.rmtree(notes, ignore_errors=True)
        self.timings["baselines"] = len(baselines)
        self.timings["tests"] = len(kept)
        with self.results.open("a", encoding="utf-8") as out:
            for name in job.names:
                out.write(rows[name].as_json() + "\n")
        return True


def _databases(postgres: bool) -> tuple[str, ...]:
    return BOTH_DATABASES if postgres else SQLITE_ONLY


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation.worker")
    parser.add_argument("--job", type=Path, required=True, help="the job, as JSON")
    parser.add_argument("--results", type=Path, required=True, help="JSON lines appended")
    args = parser.parse_args(argv)
    raw = json.loads(args.job.read_text(encoding="utf-8"))
    job = Job(
        module=raw["module"],
        names=tuple(raw["names"]),
        named=frozenset(raw["named"]),
        first=tuple(raw["first"]),
        then=tuple(raw["then"]),
        then_k=raw["then_k"],
        postgres=bool(raw["postgres"]),
        workers=int(raw["workers"]),
        timeout=float(raw["timeout"]),
    )
    if not job.postgres:
        os.environ.pop("TEST_POSTGRES_URL", None)
    elif not os.environ.get("TEST_POSTGRES_URL"):
        print("postgres needs TEST_POSTGRES_URL", file=sys.stderr)
        return 2
    files = list(dict.fromkeys([*job.first, *job.then]))
    server = ForkServer(job, args.results)
    # What the tests call while they are imported and collected (a module's constant, a
    # parametrize list) runs here, before any fork, with no mutant: a mutant there can only
    # be caught by a test that calls it again. Those functions are named in the report.
    import mutmut.mutation.trampoline as trampoline

    at_import: set[str] = set()
    trampoline.record_trampoline_hit = lambda name, caller=None: at_import.add(name)  # type: ignore[attr-defined]
    os.environ["MUTANT_UNDER_TEST"] = "stats"
    with contextlib.redirect_stdout(io.StringIO()):
        code = pytest.main([*PYTEST_ARGS, *_databases(job.postgres), *files], plugins=[server])
    mine = sorted(f for f in at_import if f.startswith(job.module + "."))
    if mine:
        print(f"  called while the tests are collected (no mutant there): {mine}", file=sys.stderr)
    if server.error:
        print(f"{server.error}: {files}", file=sys.stderr)
        return 2
    print("  " + ", ".join(f"{k} {v:.0f}" for k, v in server.timings.items()), file=sys.stderr)
    if code not in (0, pytest.ExitCode.OK):
        print(f"pytest could not collect the tests (exit {int(code)}): {files}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
