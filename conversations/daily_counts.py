"""A chat's counts for its local day that no task switch can reset: wrong short receipt codes
(``receipt_codes``) and wrong phone numbers in tracking-code lookups (``tracking``).

They are limits against guessing, so they must outlive whatever the chat does between two
guesses. They used to live in the conversation's ``data``, which every flow replaces when it
starts (a complaint, a survey, a supplement): starting a complaint and cancelling it reset
them. Now they are a part of the state of their own, ``ConversationState.daily``: flows change
``data``, never ``daily``, and ``dataclasses.replace`` carries it through every start, cancel,
expiry and "forget me" unchanged. It is stored in the conversation's row (one per chat), in
its JSON under :data:`STORED_KEY`, so it costs no extra query or table, and lives as long as
the chat does. It holds two numbers and a date, nothing about the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

#: Where the counts sit in the conversation row's JSON, beside the flow's ``data``.
STORED_KEY = "_daily"
#: Wrong short receipt codes sent today.
WRONG_CODES = "wrong_codes"
#: Wrong phone numbers given in tracking-code lookups today.
LOOKUP_MISSES = "lookup_misses"
_NAMES = (WRONG_CODES, LOOKUP_MISSES)


@dataclass(frozen=True, slots=True)
class DailyCounts:
    """Counts for the local day ``day`` (ISO date; "" when nothing was counted yet)."""

    day: str = ""
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def today(self, today: date, name: str) -> int:
        """How many ``name`` this chat has on ``today`` (0 once the day is over)."""
        if self.day != today.isoformat():
            return 0
        return self.counts.get(name, 0)

    def plus_one(self, today: date, name: str) -> DailyCounts:
        """These counts with one more ``name`` on ``today`` (another day's counts dropped)."""
        kept = self.counts if self.day == today.isoformat() else {}
        return DailyCounts(
            today.isoformat(), MappingProxyType({**kept, name: kept.get(name, 0) + 1})
        )

    def dump(self) -> dict[str, object]:
        return {"day": self.day, **self.counts}

    @classmethod
    def load(cls, raw: object) -> DailyCounts:
        if not isinstance(raw, dict) or not isinstance(raw.get("day"), str):
            return cls()
        counts = {k: v for k in _NAMES if isinstance(v := raw.get(k), int) and v > 0}
        return cls(raw["day"], MappingProxyType(counts))


def split_stored(stored: Mapping[str, object]) -> tuple[dict[str, object], DailyCounts]:
    """A conversation row's JSON as the flow's ``data`` and the chat's daily counts."""
    data = {k: v for k, v in stored.items() if k != STORED_KEY}
    return data, DailyCounts.load(stored.get(STORED_KEY))


def joined(data: Mapping[str, object], daily: DailyCounts) -> dict[str, object]:
    """The JSON a conversation row stores: ``data``, and the daily counts when there are any."""
    stored = {k: v for k, v in data.items() if k != STORED_KEY}
    if daily.counts:
        stored[STORED_KEY] = daily.dump()
    return stored
