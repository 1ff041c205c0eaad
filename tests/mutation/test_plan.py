"""The mutation run's plan: its lists in pyproject.toml are whole and point at real files; the
equivalents named in docs/testing.md are read as written there; a module is scored right."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutation.plan import (
    ModulePlan,
    ModuleScore,
    load_plans,
    named_equivalents,
    report_lines,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_mutated_module_has_tests_that_exist() -> None:
    plans = load_plans(ROOT / "pyproject.toml")
    assert len(plans) >= 27
    for plan in plans:
        for listed in (*plan.first, *plan.then):
            assert (ROOT / listed).is_file(), (plan.path, listed)
        assert not set(plan.first) & set(plan.then), plan.path
        assert (ROOT / plan.path).is_file()


@pytest.mark.parametrize(
    ("tables", "error"),
    [
        ('[tool.mutation.modules."a.py"]\nfirst = []\n', "a.py: no `first`"),
        ("", "a.py: no `first`"),
        (
            '[tool.mutation.modules."a.py"]\nfirst = ["t.py"]\n'
            '[tool.mutation.modules."b.py"]\nfirst = ["t.py"]\n',
            "not mutated: ['b.py']",
        ),
        ('[tool.mutation.modules."a.py"]\nfirst = ["t.py"]\nthen = "u.py"\n', "a.py: no"),
    ],
)
def test_a_module_without_its_list_or_a_list_without_its_module_is_refused(
    tmp_path: Path, tables: str, error: str
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.mutmut]\nonly_mutate = ["a.py"]\n' + tables, encoding="utf-8")
    with pytest.raises(ValueError, match=error.replace("[", r"\[").replace("]", r"\]")):
        load_plans(pyproject)


def test_a_plan_reads_both_lists_and_postgres(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.mutmut]\nonly_mutate = ["storage/q.py", "jobs/r.py"]\n'
        '[tool.mutation.modules."storage/q.py"]\nfirst = ["a.py"]\nthen = ["b.py", "c.py"]\n'
        "postgres = true\n"
        '[tool.mutation.modules."jobs/r.py"]\nfirst = ["d.py"]\n',
        encoding="utf-8",
    )
    assert load_plans(pyproject) == [
        ModulePlan("storage/q.py", ("a.py",), ("b.py", "c.py"), postgres=True),
        ModulePlan("jobs/r.py", ("d.py",)),
    ]
    assert ModulePlan("storage/queries/aggregates.py", ("a.py",)).dotted == (
        "storage.queries.aggregates"
    )


DOCS = """\
## Scores
- `jobs.reminders.x_remind_due__mutmut_3` is not in the section below.

### Equivalent mutants (harmless, named so that nobody looks at them again)

- `jobs.reminders.x_remind_due__mutmut_1`: the default batch size.
- `jobs.reminders.x_remind_due__mutmut_35` … `_38` (4): the log line.
- `conversations.flows.staff_room.x_handle__mutmut_3`, `_5`, `_26`, and
  `x__command__mutmut_24`, `_26`: `state=state` made `None`.
- `bot.runtime.sender.xǁOutboxSenderǁ__init____mutmut_1`, `_2`: a pass's size.
- a line with `code` and `_x` in backticks names nothing.

## Another part
- `jobs.digests.x_digest_reply__mutmut_9`
"""


def test_named_equivalents_are_read_as_the_docs_write_them() -> None:
    assert named_equivalents(DOCS) == {
        "jobs.reminders.x_remind_due__mutmut_1",
        "jobs.reminders.x_remind_due__mutmut_35",
        "jobs.reminders.x_remind_due__mutmut_36",
        "jobs.reminders.x_remind_due__mutmut_37",
        "jobs.reminders.x_remind_due__mutmut_38",
        "conversations.flows.staff_room.x_handle__mutmut_3",
        "conversations.flows.staff_room.x_handle__mutmut_5",
        "conversations.flows.staff_room.x_handle__mutmut_26",
        "conversations.flows.staff_room.x__command__mutmut_24",
        "conversations.flows.staff_room.x__command__mutmut_26",
        "bot.runtime.sender.xǁOutboxSenderǁ__init____mutmut_1",
        "bot.runtime.sender.xǁOutboxSenderǁ__init____mutmut_2",
    }
    assert named_equivalents("no such section") == set()


def test_the_docs_name_only_mutants_of_mutated_modules() -> None:
    """A name the run could never meet (a typo, a module no longer mutated) is a stale
    entry: each full name in the docs belongs to a module of ``only_mutate``."""
    modules = {p.dotted for p in load_plans(ROOT / "pyproject.toml")}
    named = named_equivalents((ROOT / "docs" / "testing.md").read_text(encoding="utf-8"))
    assert len(named) > 100
    assert {n.rsplit(".", 1)[0] for n in named} <= modules


def test_a_module_is_scored_against_all_and_against_all_but_the_named() -> None:
    score = ModuleScore("m.py")
    score.outcomes.update(
        {"a": "killed", "b": "killed", "c": "timeout", "d": "equivalent", "e": "survived"}
    )
    assert (score.killed, score.score, score.score_named) == (3, 60.0, 75.0)
    assert score.unexplained() == ["e"]
    assert report_lines([score])[1:] == [
        "m.py | 5 | 3 | 1 | 1 | 1 | 60.0 % | 75.0 %",
        "  survived: e",
    ]
    assert ModuleScore("empty.py").score == 100.0


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--workers", "0"], "--workers: at least 1, not 0"),
        (["--workers", "x"], "--workers: a whole number, not 'x'"),
        (["--timeout", "-1"], "--timeout: a number of seconds above 0, not -1"),
        (["--timeout", "nan"], "--timeout: a number of seconds above 0, not nan"),
        (["--timeout", "abc"], "--timeout: a number of seconds, not 'abc'"),
        (["no-such-module", "--no-generate"], "no mutated module matches ['no-such-module']"),
    ],
)
def test_a_wrong_argument_is_said_before_any_work(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.mutation.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


def test_a_module_named_alone_gives_the_module_of_the_functions_after_it() -> None:
    docs = (
        "### Equivalent mutants\n\n"
        "- `conversations.command_routing.x__switched__mutmut_30`: one.\n"
        "- `conversations.flows.survey`: three, `x__apply__mutmut_4`, `_19`, and\n"
        "  `x__back__mutmut_3`; `prompt` reads `env` at consent only.\n"
    )
    assert named_equivalents(docs) == {
        "conversations.command_routing.x__switched__mutmut_30",
        "conversations.flows.survey.x__apply__mutmut_4",
        "conversations.flows.survey.x__apply__mutmut_19",
        "conversations.flows.survey.x__back__mutmut_3",
    }
