"""``python -m tests.mutation [MODULE ...]``: the mutation run of the core (docs/testing.md).

1. mutmut generates the mutants of ``[tool.mutmut] only_mutate`` into ``mutants/`` (only the
   modules changed since the last run are generated again).
2. The tests are copied there as they are now.
3. For each module (all, or those named: a path, a dotted name or a part of either), every
   mutant runs against the tests of its ``first`` list that reach its function; each
   survivor not named equivalent in docs/testing.md then against those of its ``then``
   list, and last against both whole lists (``tests/mutation/worker.py``).
4. One line per module: mutants, killed, timeouts, named equivalents, survivors not
   explained, the score; then each survivor not explained, by name. The outcome of every
   mutant is kept in ``mutants/mutation-report.json``, the worker's row for each (seconds,
   tests run, the stage that decided it) in ``mutants/mutation-rows.jsonl``.

Exit status 0 when every module's run went through (whatever the scores), 2 when a module's
test list fails without any mutant or never reaches it (that module is left out, the others
are measured).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .plan import ModulePlan, ModuleScore, Outcome, load_plans, named_equivalents, report_lines

ROOT = Path(__file__).resolve().parents[2]
WORKDIR = ROOT / "mutants"
#: Every mutant's row from the worker (its seconds, tests run, deciding stage), in WORKDIR.
ROWS = "mutation-rows.jsonl"


class BrokenList(Exception):
    """A test list that fails without any mutant, or never reaches its module: no outcome
    of a mutant run against it would mean anything."""


def generate(workers: int) -> None:
    """mutmut's own generation step (what ``mutmut run`` does before it tests anything),
    without its pass that measures which tests reach which function: the lists in
    pyproject.toml say that here."""
    from mutmut.__main__ import create_mutants, store_lines_covered_by_tests
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    os.chdir(ROOT)
    set_mutant_under_test("mutant_generation")
    WORKDIR.mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    store_lines_covered_by_tests()
    stats = create_mutants(workers)
    print(f"mutants generated: {stats.mutated} files changed, {stats.unmodified} unchanged")


def mutant_names(plan: ModulePlan) -> list[str]:
    """The module's mutants, by number (mutmut's ``.meta`` file beside the mutated copy)."""
    meta = json.loads((WORKDIR / f"{plan.path}.meta").read_text(encoding="utf-8"))
    names: list[str] = list(meta["exit_code_by_key"])
    return sorted(names, key=lambda n: (n.rpartition("__mutmut_")[0], int(n.rpartition("_")[2])))


def run_module(
    plan: ModulePlan, named: set[str], workers: int, timeout: float, recheck: bool
) -> list[dict[str, object]]:
    """The worker's rows for each of the module's mutants (``tests/mutation/worker.py``), run
    in ``mutants/``; with ``plan.postgres`` (and ``TEST_POSTGRES_URL`` set), the storage tests
    of ``then`` on PostgreSQL too. ``recheck``: the named equivalents run the whole lists too.

    Raises :class:`BrokenList` when the lists fail without any mutant or never reach it."""
    names = mutant_names(plan)
    if not names:
        return []
    env = dict(os.environ)
    postgres = plan.postgres and bool(env.get("TEST_POSTGRES_URL"))
    if not postgres:
        env.pop("TEST_POSTGRES_URL", None)
    job = {
        "module": plan.dotted,
        "names": names,
        "named": [] if recheck else sorted(n for n in names if n in named),
        "first": list(plan.first),
        "then": list(plan.then),
        "then_k": plan.then_k,
        "postgres": postgres,
        "workers": workers,
        "timeout": timeout,
    }
    with tempfile.TemporaryDirectory() as tmp:
        job_file, results = Path(tmp) / "job.json", Path(tmp) / "results"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        command = [sys.executable, "-m", "tests.mutation.worker", "--job", str(job_file)]
        command += ["--results", str(results)]
        done = subprocess.run(command, cwd=WORKDIR, env=env, check=False)
        if done.returncode != 0 or not results.is_file():
            raise BrokenList([*plan.first, *plan.then])
        text = results.read_text(encoding="utf-8")
    with (WORKDIR / ROWS).open("a", encoding="utf-8") as kept:
        kept.write(text)
    return [json.loads(line) for line in text.splitlines()]


def measure(
    plan: ModulePlan, named: set[str], workers: int, timeout: float, recheck: bool
) -> ModuleScore:
    """One module's outcomes: killed (a test failed), timeout, equivalent (survived, and
    named in docs/testing.md) or survived."""
    score = ModuleScore(plan.path)
    for row in run_module(plan, named, workers, timeout, recheck):
        name, code = str(row["name"]), row["exit"]
        outcome: Outcome
        if code is None:
            outcome = "timeout"
        elif code != 0:
            outcome = "killed"
        else:
            outcome = "equivalent" if name in named else "survived"
        score.outcomes[name] = outcome
    return score


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"a number of seconds above 0, not {text}")
    return value


def _selected(plans: list[ModulePlan], wanted: Sequence[str]) -> list[ModulePlan]:
    if not wanted:
        return plans
    chosen = [p for p in plans if any(w in p.path or w in p.dotted for w in wanted)]
    if not chosen:
        raise ValueError(f"no mutated module matches {list(wanted)}")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("modules", nargs="*", help="paths or dotted names (parts of them)")
    parser.add_argument(
        "--workers", type=_at_least_one, default=2, help="forks at a time (default 2)"
    )
    parser.add_argument(
        "--timeout", type=_seconds, default=300.0, help="seconds per mutant (default 300)"
    )
    parser.add_argument(
        "--recheck-equivalents",
        action="store_true",
        help="run the named equivalents against the wider list too",
    )
    parser.add_argument("--no-generate", action="store_true", help="use mutants/ as it is")
    args = parser.parse_args(argv)
    try:
        plans = load_plans(ROOT / "pyproject.toml")
    except ValueError as error:
        parser.error(f"pyproject.toml: {error}")
    try:
        plans = _selected(plans, args.modules)
    except ValueError as error:
        parser.error(str(error))
    named = named_equivalents((ROOT / "docs" / "testing.md").read_text(encoding="utf-8"))
    began = time.monotonic()
    if not args.no_generate:
        try:
            generate(args.workers)
        except ImportError:
            parser.error('mutmut is not installed: pip install -e ".[dev]"')
    missing = [p.path for p in plans if not (WORKDIR / f"{p.path}.meta").is_file()]
    if missing:
        parser.error(f"no mutants in {WORKDIR} for {missing}: run without --no-generate")
    shutil.copytree(ROOT / "tests", WORKDIR / "tests", dirs_exist_ok=True)
    (WORKDIR / ROWS).write_text("", encoding="utf-8")
    scores = []
    broken = []
    for plan in plans:
        started = time.monotonic()
        try:
            score = measure(plan, named, args.workers, args.timeout, args.recheck_equivalents)
        except BrokenList as error:
            print(f"{plan.path}: not measured, its test list is broken: {error}", flush=True)
            broken.append(plan.path)
            continue
        scores.append(score)
        print(
            f"{plan.path}: {len(score.outcomes)} mutants, {score.killed} killed, "
            f"{score.score:.1f} %, {time.monotonic() - started:.0f} s",
            flush=True,
        )
    print("\n".join(report_lines(scores)))
    print(f"whole run: {time.monotonic() - began:.0f} s")
    if broken:
        print(f"not measured (a test list fails or misses its module): {broken}")
    (WORKDIR / "mutation-report.json").write_text(
        json.dumps({s.path: s.outcomes for s in scores}, indent=1, sort_keys=True),
        encoding="utf-8",
    )
    return 2 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
