"""What a mutation run reads: the modules and their test lists from pyproject.toml, the named
equivalent mutants from docs/testing.md, and how a module's outcome is scored."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Outcome = Literal["killed", "timeout", "survived", "equivalent"]


@dataclass(frozen=True, slots=True)
class ModulePlan:
    """One module: its path (``storage/queries/aggregates.py``), its exact tests (every
    mutant runs them) and the wider list (only the survivors of ``first`` run it);
    ``then_k``: a pytest ``-k`` expression that cuts ``then`` (the transcripts that reach the
    module, out of all); ``postgres``: the survivors run ``then`` on PostgreSQL too (a
    conflict target's column names, which SQLite's upsert does not check)."""

    path: str
    first: tuple[str, ...]
    then: tuple[str, ...] = ()
    postgres: bool = False
    then_k: str = ""

    @property
    def dotted(self) -> str:
        """``storage.queries.aggregates``: the prefix of its mutants' names."""
        return self.path.removesuffix(".py").replace("/", ".")


def load_plans(pyproject: Path) -> list[ModulePlan]:
    """Every module of ``[tool.mutmut] only_mutate``, with its lists from
    ``[tool.mutation.modules."<path>"]``.

    Raises ``ValueError`` for a mutated module without a ``first`` list, or a list for a
    module that is not mutated: either is a slip that would leave a module unmeasured."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    mutated: list[str] = data["tool"]["mutmut"]["only_mutate"]
    lists: Mapping[str, Mapping[str, list[str] | bool | str]] = (
        data["tool"].get("mutation", {}).get("modules", {})
    )
    unknown = sorted(set(lists) - set(mutated))
    if unknown:
        raise ValueError(f"[tool.mutation.modules] names modules not mutated: {unknown}")
    plans = []
    for path in mutated:
        entry = lists.get(path, {})
        first, then = entry.get("first"), entry.get("then", [])
        if not isinstance(first, list) or not first or not isinstance(then, list):
            raise ValueError(f"{path}: no `first` test list in [tool.mutation.modules]")
        postgres = entry.get("postgres", False) is True
        then_k = entry.get("then_k", "")
        if not isinstance(then_k, str):
            raise ValueError(f"{path}: `then_k` is a pytest -k expression")
        plans.append(ModulePlan(path, tuple(first), tuple(then), postgres, then_k))
    return plans


_TOKEN = re.compile(r"`([\w.ǁ]+__mutmut_\d+|_\d+|[a-z_]+(?:\.[a-z_]+)+)`|(…)")


def named_equivalents(docs: str) -> set[str]:
    """The mutant names listed under "Equivalent mutants" in docs/testing.md.

    An entry names a mutant in full (`` `jobs.reminders.x_remind_due__mutmut_1` ``), then
    more of the same function by number only (`` `_5` ``), and a run of them as
    `` `_35` … `_42` ``; another function of the same module by its own name only
    (`` `x__command__mutmut_24` ``); a module named alone (`` `conversations.flows.survey` ``)
    gives the module of the function names that follow it."""
    start = docs.find("### Equivalent mutants")
    if start < 0:
        return set()
    end = docs.find("\n## ", start)
    section = docs[start : end if end >= 0 else len(docs)]
    names: set[str] = set()
    stem = ""
    last = -1
    pending_range = False
    for match in _TOKEN.finditer(section):
        token, ellipsis = match.groups()
        if ellipsis:
            pending_range = bool(stem) and last >= 0
            continue
        if "__mutmut_" not in token and not token.startswith("_"):
            # A module named alone (`conversations.flows.survey`): its functions follow.
            stem, last, pending_range = f"{token}.", -1, False
            continue
        if token.startswith("_"):
            if not stem or last < 0:
                continue
            number = int(token[1:])
        else:
            function, _, digits = token.rpartition("__mutmut_")
            if "." not in function and stem:  # another function of the module just named
                function = f"{stem.rpartition('.')[0]}.{function}"
            stem, number = function, int(digits)
        if pending_range and number > last:
            names.update(f"{stem}__mutmut_{n}" for n in range(last + 1, number))
        pending_range = False
        names.add(f"{stem}__mutmut_{number}")
        last = number
    return names


@dataclass(slots=True)
class ModuleScore:
    """A module's outcomes: killed (and of those, timed out), survivors named equivalent,
    survivors not named. ``score``: killed of all; ``score_named``: killed of all but the
    named equivalents (the figure the goal of 90 % is read against, docs/testing.md)."""

    path: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def count(self, *kinds: Outcome) -> int:
        return sum(1 for o in self.outcomes.values() if o in kinds)

    @property
    def killed(self) -> int:
        return self.count("killed", "timeout")

    @property
    def score(self) -> float:
        return 100.0 * self.killed / len(self.outcomes) if self.outcomes else 100.0

    @property
    def score_named(self) -> float:
        judged = len(self.outcomes) - self.count("equivalent")
        return 100.0 * self.killed / judged if judged else 100.0

    def unexplained(self) -> list[str]:
        return sorted(n for n, o in self.outcomes.items() if o == "survived")


def report_lines(scores: Iterable[ModuleScore]) -> list[str]:
    """One line per module, then every survivor that no test kills and docs do not name."""
    lines = [
        "module | mutants | killed | timeouts | named equivalents | not explained | score | "
        "score without named"
    ]
    rest: list[str] = []
    for s in scores:
        lines.append(
            f"{s.path} | {len(s.outcomes)} | {s.killed} | {s.count('timeout')} | "
            f"{s.count('equivalent')} | {s.count('survived')} | {s.score:.1f} % | "
            f"{s.score_named:.1f} %"
        )
        rest.extend(f"  survived: {name}" for name in s.unexplained())
    return lines + rest
