"""Every outcome a flow builds says which state the conversation is in afterwards.

``Outcome.state`` may be ``None`` ("unchanged"), and the engine and the dispatcher read it as
the state before the event (``outcome.state or before``). No flow relies on that today: each
``Outcome(…)`` in ``conversations/`` names its state. docs/testing.md counts on it when it
names ``conversations.engine.x_handle__mutmut_23`` harmless (``staff_typed.remember`` given
no earlier state differs only for an outcome without one); a flow that starts leaving the
state unset fails here, and that mutant must then be killed by a test instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "conversations"
#: ``Outcome(replies, changes, state, …)``: the state's position.
_STATE_ARG = 2


def _stateless_outcomes(source: str) -> list[int]:
    """Line numbers of ``Outcome(…)`` calls that give no state, or give ``state=None``."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _named(node.func) == "Outcome"):
            continue
        if any(k.arg is None for k in node.keywords):
            continue  # **kwargs: cannot tell, and none is used today
        state = next((k.value for k in node.keywords if k.arg == "state"), None)
        if state is None and len(node.args) > _STATE_ARG:
            state = node.args[_STATE_ARG]
        if state is None or (isinstance(state, ast.Constant) and state.value is None):
            lines.append(node.lineno)
    return lines


def _named(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("Outcome((r,), state=s)", []),
        ("Outcome((r,), (), s)", []),
        ("effects.Outcome((r,), changes=c, state=new, ack='close')", []),
        ("Outcome((r,))", [1]),
        ("Outcome((r,), changes=c)", [1]),
        ("x = 1\nOutcome((r,), state=None)", [2]),
        ("effects.Outcome((r,), (), None)", [1]),
    ],
)
def test_the_scan_finds_an_outcome_without_its_state(source: str, found: list[int]) -> None:
    assert _stateless_outcomes(source) == found


def test_every_outcome_in_the_flows_names_its_state() -> None:
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 20
    seen = sum(p.read_text(encoding="utf-8").count("Outcome(") for p in files)
    assert seen > 100
    missing = {
        str(p.relative_to(ROOT)): lines
        for p in files
        if (lines := _stateless_outcomes(p.read_text(encoding="utf-8")))
    }
    assert missing == {}
