"""A chat's daily counts as its conversation row stores them: what goes in comes back the same,
another day's counts are dropped, and a damaged or foreign value counts nothing."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

import pytest

from conversations.daily_counts import (
    LOOKUP_MISSES,
    STORED_KEY,
    WRONG_CODES,
    DailyCounts,
    joined,
    split_stored,
)

DAY = date(2026, 6, 2)
DATA = {"rid": 5, "step": "1.1"}


def counted(*names: str, on: date = DAY, start: DailyCounts | None = None) -> DailyCounts:
    counts = start or DailyCounts()
    for name in names:
        counts = counts.plus_one(on, name)
    return counts


@pytest.mark.parametrize(
    ("names", "wrong_codes", "lookup_misses"),
    [
        ((), 0, 0),
        ((WRONG_CODES,), 1, 0),  # a single one is kept too
        ((LOOKUP_MISSES,), 0, 1),
        ((WRONG_CODES, WRONG_CODES, LOOKUP_MISSES), 2, 1),
    ],
    ids=["none", "one-code", "one-miss", "both"],
)
def test_counts_come_back_from_the_stored_row_as_they_went_in(
    names: tuple[str, ...], wrong_codes: int, lookup_misses: int
) -> None:
    stored = joined(DATA, counted(*names))
    data, back = split_stored(stored)
    assert data == DATA  # the flow's data, without the counts
    assert (back.today(DAY, WRONG_CODES), back.today(DAY, LOOKUP_MISSES)) == (
        wrong_codes,
        lookup_misses,
    )
    assert (STORED_KEY in stored) == bool(names)  # nothing counted: nothing stored


def test_the_counts_of_a_stored_row_count_on() -> None:
    """Each event loads the row, adds one and stores it again: the count grows by one."""
    stored: dict[str, object] = dict(DATA)
    for n in range(1, 4):
        _, daily = split_stored(stored)
        stored = joined(DATA, daily.plus_one(DAY, WRONG_CODES))
        assert split_stored(stored)[1].today(DAY, WRONG_CODES) == n


def test_a_stale_count_in_the_flows_data_is_not_stored_twice() -> None:
    stored = joined({**DATA, STORED_KEY: {"day": "2020-01-01", WRONG_CODES: 9}}, DailyCounts())
    assert stored == DATA


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "2026-06-02",
        {WRONG_CODES: 3},  # no day
        {"day": 20260602, WRONG_CODES: 3},
        {"day": "2026-06-02", WRONG_CODES: "3", LOOKUP_MISSES: None},
        {"day": "2026-06-02", WRONG_CODES: -4, LOOKUP_MISSES: 0},
        {"day": "2026-06-02", "other": 7},
    ],
    ids=["none", "text", "no-day", "day-not-text", "not-numbers", "not-positive", "unknown"],
)
def test_a_damaged_stored_value_counts_nothing(raw: object) -> None:
    data, daily = split_stored({**DATA, STORED_KEY: raw})
    assert data == DATA
    assert (daily.today(DAY, WRONG_CODES), daily.today(DAY, LOOKUP_MISSES)) == (0, 0)
    assert STORED_KEY not in joined(data, daily)


@pytest.mark.parametrize(
    ("yesterday", "today", "expected"),
    [
        ((WRONG_CODES,) * 9, (WRONG_CODES,), (1, 0)),
        ((LOOKUP_MISSES,) * 4, (WRONG_CODES,), (1, 0)),
        ((), (WRONG_CODES, LOOKUP_MISSES), (1, 1)),
    ],
    ids=["codes", "misses", "nothing-before"],
)
def test_a_new_day_counts_from_zero(
    yesterday: tuple[str, ...], today: tuple[str, ...], expected: tuple[int, int]
) -> None:
    before = counted(*yesterday, on=date(2026, 6, 1))
    assert before.today(DAY, WRONG_CODES) == 0  # yesterday's are over
    after = counted(*today, start=before)
    assert (after.today(DAY, WRONG_CODES), after.today(DAY, LOOKUP_MISSES)) == expected
    assert split_stored(joined(DATA, after))[1] == after


def test_one_count_is_not_the_other() -> None:
    daily = DailyCounts("2026-06-02", MappingProxyType({WRONG_CODES: 4}))
    assert daily.today(DAY, LOOKUP_MISSES) == 0
    assert daily.plus_one(DAY, LOOKUP_MISSES).today(DAY, WRONG_CODES) == 4
