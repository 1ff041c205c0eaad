"""``/hoso`` filters: every spelling a person types names the same list."""

from __future__ import annotations

import pytest

from conversations.flows.staff import list_filter


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("cua-toi", "mine"),
        ("Của tôi", "mine"),
        ("CUA_TOI", "mine"),
        ("  cuatoi ", "mine"),
        ("mine", "mine"),
        ("chua-nhan", "unassigned"),
        ("chưa nhận", "unassigned"),
        ("unassigned", "unassigned"),
        ("qua-han", "overdue"),
        ("Quá hạn", "overdue"),
        ("overdue", "overdue"),
        ("PA-2026-000001", None),
        ("cua", None),
        ("", None),
        ("x" * 10_000, None),
    ],
)
def test_filter_spellings(arg: str, expected: str | None) -> None:
    assert list_filter(arg) == expected
