"""Cutting a long text for several messages: counted as Telegram counts, never mid-character."""

from __future__ import annotations

import pytest

from conversations.paging import _cut, units

FAMILY = "👨\u200d👩\u200d👧"  # one visible emoji of five code points, eight UTF-16 units


@pytest.mark.parametrize(
    ("text", "count"),
    [("😡" * 2000, 4000), ("Hồ sơ", 5), ("Ho\u0302\u0300 so\u031b", 8), (FAMILY, 8)],
)
def test_units_are_utf16_code_units(text: str, count: int) -> None:
    assert units(text) == count == len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("text", "room", "start", "rest"),
    [
        ("😡😡😡", 5, "😡😡", "😡"),  # an emoji is two units: never half of one
        ("👍🏽👍🏽", 5, "👍🏽", "👍🏽"),  # a skin tone stays with its hand
        ("x" + FAMILY, 4, "x", FAMILY),  # a joined emoji stays whole
        ("ca\u0301 ca\u0301", 2, "c", "a\u0301 ca\u0301"),  # a letter keeps its accent
        ("Hồ sơ quá hạn trả", 12, "Hồ sơ quá", "hạn trả"),  # at a space when there is one
        ("abcdefghij", 4, "abcd", "efghij"),  # no space: at the limit
    ],
)
def test_cut(text: str, room: int, start: str, rest: str) -> None:
    assert _cut(text, room) == (start, rest)
    assert units(start) <= room
