"""The mutation worker judges each mutant as the docs say: on the tests that reach it, a kill
only if those tests pass without it, a survivor checked on the whole list, a named
equivalent not checked again. Run on a module laid out by hand as mutmut lays one out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutation.worker import Pool, function_of

ROOT = Path(__file__).resolve().parents[2]

#: A module as mutmut writes it: each function a trampoline over its original and mutants.
CALC = """
from mutmut.mutation.trampoline import wrap_in_trampoline as _mutmut_mutated, MutantDict

mutants_x_double__mutmut: MutantDict = {}
mutants_x_never__mutmut: MutantDict = {}


@_mutmut_mutated(mutants_x_double__mutmut)
def double(n):
    return n * 2


def x_double__mutmut_orig(n):
    return n * 2


def x_double__mutmut_1(n):  # caught: 3 + 2 is not 6
    return n + 2


def x_double__mutmut_2(n):  # no test tells it apart, not named: checked on the whole list
    return 2 * n


def x_double__mutmut_3(n):  # the same, named equivalent: not checked again
    return n << 1


@_mutmut_mutated(mutants_x_never__mutmut)
def never(n):
    return n


def x_never__mutmut_orig(n):
    return n


def x_never__mutmut_1(n):  # no test calls never(): no test can catch it
    return -n


mutants_x_double__mutmut["_mutmut_orig"] = x_double__mutmut_orig
mutants_x_double__mutmut["x_double__mutmut_1"] = x_double__mutmut_1
mutants_x_double__mutmut["x_double__mutmut_2"] = x_double__mutmut_2
mutants_x_double__mutmut["x_double__mutmut_3"] = x_double__mutmut_3
mutants_x_never__mutmut["_mutmut_orig"] = x_never__mutmut_orig
mutants_x_never__mutmut["x_never__mutmut_1"] = x_never__mutmut_1
"""

#: test_b passes only after test_a, which calls nothing mutated: run alone (its selection),
#: it fails with or without a mutant, so that failure must not count as a kill.
TESTS = """
from calc import double

STATE = {}


def test_a_sets_the_stage():
    STATE["ready"] = True


def test_b_needs_the_stage():
    assert STATE.get("ready")
    assert double(3) == 6


def test_c_doubles():
    assert double(3) == 6
"""


def _worker(
    tmp_path: Path, names: list[str], named: list[str], tests: str = TESTS
) -> subprocess.CompletedProcess[str]:
    """The worker run on ``calc.py`` and ``tests`` laid out in ``tmp_path``."""
    (tmp_path / "calc.py").write_text(CALC, encoding="utf-8")
    (tmp_path / "test_calc.py").write_text(tests, encoding="utf-8")
    job = {
        "module": "calc",
        "names": names,
        "named": named,
        "first": ["test_calc.py"],
        "then": [],
        "then_k": "",
        "postgres": False,
        "workers": 2,
        "timeout": 60,
    }
    (tmp_path / "job.json").write_text(json.dumps(job), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TEST_POSTGRES_URL", None)
    env.pop("MUTANT_UNDER_TEST", None)
    return subprocess.run(
        [sys.executable, "-m", "tests.mutation.worker", "--job", "job.json", "--results", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _run(tmp_path: Path, names: list[str], named: list[str]) -> dict[str, dict[str, object]]:
    done = _worker(tmp_path, names, named)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (tmp_path / "out").read_text().splitlines()]
    return {row["name"]: row for row in rows}


def test_each_mutant_is_judged_by_the_tests_that_reach_it(tmp_path: Path) -> None:
    names = [f"calc.x_double__mutmut_{n}" for n in (1, 2, 3)] + ["calc.x_never__mutmut_1"]
    rows = _run(tmp_path, names, named=["calc.x_double__mutmut_3"])
    assert list(rows) == names
    caught = rows["calc.x_double__mutmut_1"]
    assert caught["exit"] == 1
    # Not a survivor, the unnamed equivalent is run on all three tests in file order, where
    # test_b passes: its lone failure in the selection was the order's, not the mutant's.
    assert rows["calc.x_double__mutmut_2"] | {"seconds": 0} == {
        "name": "calc.x_double__mutmut_2",
        "exit": 0,
        "seconds": 0,
        "tests": 3,
        "stage": "whole",
    }
    # Named, it is not checked on the whole list; its selection (test_b and test_c, which
    # reach double()) failed alone, so it ran the first list in file order: three tests.
    named = rows["calc.x_double__mutmut_3"]
    assert (named["exit"], named["stage"], named["tests"]) == (0, "first", 3)
    never = rows["calc.x_never__mutmut_1"]
    assert (never["exit"], never["stage"]) == (0, "whole")


def test_a_kill_by_tests_that_fail_anyway_is_no_kill(tmp_path: Path) -> None:
    # With only test_b and test_c reaching double(), an equivalent that fails test_b (run
    # alone, it always fails) would count as killed without the check of its selection.
    rows = _run(tmp_path, ["calc.x_double__mutmut_3"], named=[])
    assert rows["calc.x_double__mutmut_3"]["exit"] == 0


def test_lists_that_fail_without_any_mutant_are_refused(tmp_path: Path) -> None:
    failing = TESTS + "\n\ndef test_d():\n    assert False\n"
    done = _worker(tmp_path, ["calc.x_double__mutmut_1"], [], tests=failing)
    assert done.returncode == 2
    assert "the tests fail without any mutant" in done.stderr
    assert "test_d" in done.stderr


@pytest.mark.parametrize(
    ("mutant", "function"),
    [
        ("conversations.workdays.x_due_date__mutmut_3", "conversations.workdays.x_due_date"),
        (
            "conversations.workdays.xǁWorkCalendarǁadd_workdays__mutmut_12",
            "conversations.workdays.xǁWorkCalendarǁadd_workdays",
        ),
        ("jobs.x_a__mutmut_b__mutmut_1", "jobs.x_a__mutmut_b"),
    ],
)
def test_a_mutant_is_recorded_under_its_function(mutant: str, function: str) -> None:
    assert function_of(mutant) == function


def test_the_pool_reports_exit_codes_and_kills_what_runs_too_long() -> None:
    outcomes: dict[str, int | None] = {}
    pool = Pool(workers=2, timeout=1.0)

    def keep(name: str):  # type: ignore[no-untyped-def]
        return lambda code, _seconds: outcomes.__setitem__(name, code)

    pool.submit("", lambda: 0, keep("passes"))
    pool.submit("", lambda: 1, keep("fails"))
    pool.submit("", lambda: 1 // 0, keep("raises"))
    pool.submit("", lambda: __import__("time").sleep(30) or 0, keep("hangs"))
    pool.drain()
    assert outcomes == {"passes": 0, "fails": 1, "raises": 99, "hangs": None}
