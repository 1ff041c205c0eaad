"""The shape DESIGN.md promises, checked: jobs/ never imports bot/, and no dialogue knowledge
(a flow name, a global button's id prefix) is spelled outside conversations/."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from conversations.engine import GLOBAL_BUTTONS
from conversations.flows import FLOWS

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = ("bot", "jobs", "storage")


def _modules(package: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def test_jobs_never_import_bot() -> None:
    found = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, tree in _modules("jobs")
        for name in _imports(tree)
        if name == "bot" or name.startswith("bot.")
    ]
    assert found == []


@pytest.mark.parametrize("package", OUTSIDE)
def test_no_flow_name_or_button_prefix_outside_conversations(package: str) -> None:
    prefixes = tuple(f"{p}:" for p in GLOBAL_BUTTONS)
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path, tree in _modules(package)
        for line, text in _strings(tree)
        if text in FLOWS or text.startswith(prefixes)
    ]
    assert found == []


def test_the_check_sees_what_it_looks_for() -> None:
    """The scan itself works: a planted literal is found, a docstring is not."""
    tree = ast.parse('"""survey"""\nflow = "survey"\nbutton = "case:PA-2026-000001:take"\n')
    assert [text for _, text in _strings(tree)] == ["survey", "case:PA-2026-000001:take"]
