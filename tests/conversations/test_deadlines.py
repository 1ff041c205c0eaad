"""Which deadlines an open case missed: forward and accept while it is new, resolve while open."""

from __future__ import annotations

from datetime import date

import pytest

from conversations.deadlines import missed_deadlines

FORWARD, ACCEPT, RESOLVE = date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 4)


@pytest.mark.parametrize(
    ("status", "today", "forwarded_to", "expected"),
    [
        ("new", date(2026, 11, 20), None, []),  # the last day is still on time
        ("new", date(2026, 11, 21), None, ["forward"]),
        ("new", date(2026, 11, 30), None, ["forward", "accept"]),
        ("new", date(2026, 12, 5), None, ["forward", "accept", "resolve"]),
        ("new", date(2026, 11, 30), "UBND phường", ["accept"]),  # forwarded: not due any more
        ("in_progress", date(2026, 11, 30), None, []),  # taken: the sender was told
        ("waiting_citizen", date(2026, 12, 5), None, ["resolve"]),
        ("resolved", date(2026, 12, 5), None, []),
        ("out_of_scope", date(2026, 12, 5), "UBND phường", []),
    ],
    ids=[
        "on-the-day",
        "forward",
        "forward-accept",
        "all-three",
        "forwarded",
        "taken",
        "waiting",
        "closed",
        "forwarded-closed",
    ],
)
def test_missed_deadlines(
    status: str, today: date, forwarded_to: str | None, expected: list[str]
) -> None:
    found = missed_deadlines(
        status=status,
        today=today,
        due_on=RESOLVE,
        accept_due_on=ACCEPT,
        forward_due_on=FORWARD,
        forwarded_to=forwarded_to,
    )
    assert [m.kind for m in found] == expected


def test_a_case_without_the_law_deadlines_counts_only_the_day_to_resolve() -> None:
    found = missed_deadlines(status="new", today=date(2026, 12, 5), due_on=RESOLVE)
    assert [(m.kind, m.due) for m in found] == [("resolve", RESOLVE)]
