"""Runs mutants against one list of test files, each in a fork of one warm process.

Started by ``python -m tests.mutation`` inside ``mutants/`` (so that the packages imported are
mutmut's copies, with their trampolines). The process imports the tests and collects them
once; each mutant is then a ``fork`` that sets ``MUTANT_UNDER_TEST`` (the trampoline reads it
at every call) and runs ``pytest -x`` on the list: no interpreter start, no import, per
mutant. Writes one JSON line per mutant to ``--results``: its name, pytest's exit code
(``null`` for a timeout) and the seconds it took.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

#: pytest's arguments for every run: stop at the first failure, in file order, in this
#: process (an xdist worker would import the packages afresh), no cache.
PYTEST_ARGS = ("-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0")
#: No PostgreSQL run unless asked: the SQLite run of a storage test judges most mutants at
#: half the cost; a conflict target's column name is only checked by PostgreSQL.
SQLITE_ONLY = ("-m", "not faults and not e2e and not browser and not postgres")
BOTH_DATABASES = ("-m", "not faults and not e2e and not browser")


def _child(name: str, files: Sequence[str]) -> None:
    """In the fork: run the tests with ``name`` switched on; never returns."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.environ["MUTANT_UNDER_TEST"] = name
    try:
        code = int(pytest.main([*PYTEST_ARGS, *_databases(), *files]))
    except BaseException:  # whatever the mutant raised, the run failed
        code = 99
    os._exit(code)


def _databases() -> tuple[str, ...]:
    return BOTH_DATABASES if os.environ.get("TEST_POSTGRES_URL") else SQLITE_ONLY


def run_all(
    names: Sequence[str], files: Sequence[str], workers: int, timeout: float
) -> dict[str, tuple[int | None, float]]:
    """Each name's (exit code or None for a timeout, seconds), ``workers`` forks at a time."""
    todo = list(reversed(names))
    running: dict[int, tuple[str, float]] = {}
    done: dict[str, tuple[int | None, float]] = {}
    while todo or running:
        while todo and len(running) < workers:
            name = todo.pop()
            pid = os.fork()
            if pid == 0:
                _child(name, files)
            running[pid] = (name, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            name, began = running.pop(pid)
            done[name] = (os.waitstatus_to_exitcode(status), time.monotonic() - began)
            continue
        now = time.monotonic()
        for pid, (name, began) in list(running.items()):
            if now - began > timeout:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                running.pop(pid)
                done[name] = (None, now - began)
        time.sleep(0.02)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation.worker")
    parser.add_argument("--names", type=Path, required=True, help="one mutant name a line")
    parser.add_argument("--results", type=Path, required=True, help="JSON lines appended")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="the storage tests' PostgreSQL runs too (TEST_POSTGRES_URL must be set)",
    )
    parser.add_argument("-k", dest="keyword", default="", help="pytest's -k, to cut the list")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    names = [n for n in args.names.read_text(encoding="utf-8").split() if n]
    files: list[str] = [*(("-k", args.keyword) if args.keyword else ()), *args.files]
    if not args.postgres:
        os.environ.pop("TEST_POSTGRES_URL", None)
    elif not os.environ.get("TEST_POSTGRES_URL"):
        print("--postgres needs TEST_POSTGRES_URL", file=sys.stderr)
        return 2
    # Warm: import and collect every test once, here, before the forks.
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main([*PYTEST_ARGS, *_databases(), "--collect-only", *files])
    # The tests must pass with no mutant, and fail when every mutated function fails
    # (mutmut's "fail"): otherwise no outcome below would mean anything.
    checks = run_all(["", "fail"], files, 2, args.timeout)
    if checks[""][0] != 0:
        print(f"the tests fail without any mutant (exit {checks[''][0]}): {files}", file=sys.stderr)
        return 2
    if checks["fail"][0] == 0:
        print(f"the tests never reach a mutated function: {files}", file=sys.stderr)
        return 3
    results = run_all(names, files, args.workers, args.timeout)
    with args.results.open("a", encoding="utf-8") as out:
        for name in names:
            code, seconds = results[name]
            out.write(json.dumps({"name": name, "exit": code, "seconds": round(seconds, 2)}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
