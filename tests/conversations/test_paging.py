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


@pytest.mark.parametrize("notes", [(None, None), ("", None), (None, "Đã xong")])
def test_no_history_line_is_dropped_when_the_card_is_split(
    notes: tuple[str | None, str | None],
) -> None:
    """A card split by a long description keeps every history line, notes or not (lines
    without a note were silently dropped when they fell at a part's end)."""
    from datetime import UTC, date, datetime

    from conversations import ComplaintFacts, Env, default_catalog
    from conversations.context import CaseNote
    from conversations.flows.cards import staff_card

    catalog = default_catalog()
    category = next(k for k in catalog.messages["vi"] if k.startswith("category.")).split(".")[1]
    description = " ".join(f"[{n:02d}]<&>" + "😡" * 42 for n in range(40))
    steps = [("new", notes[0]), ("in_progress", notes[1]), ("resolved", "Đã giải quyết")]
    history = tuple(
        CaseNote(datetime(2026, 11, 30, h, tzinfo=UTC), status, note, "staff:1", True)
        for h, (status, note) in enumerate(steps)
    )
    case = ComplaintFacts(
        code="PA-2026-000001", category=category, status="resolved", description=description,
        source="chat", anonymous=False, name="A", phone="0912345678", language="vi",
        created_at=datetime(2026, 11, 30, tzinfo=UTC), due_on=date(2026, 12, 10), owned=False,
        reachable=True, history=history,
    )  # fmt: skip
    env = Env(now=datetime(2026, 11, 30, 5, tzinfo=UTC), new_id=lambda: 1)
    parts = [catalog.render(p, "vi").text for p in staff_card(case, env)]
    assert len(parts) > 1
    shown = "\n".join(parts)
    for hour in ("07:00", "08:00", "09:00"):
        assert f"30/11 {hour} — " in shown
    assert all(units(p) <= 2000 for p in parts)
