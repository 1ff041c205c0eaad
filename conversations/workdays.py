"""Counts complaint deadlines in working days: Monday–Friday minus the configured holidays."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

HOLIDAYS_FILE = Path(__file__).parent / "data" / "holidays.yaml"

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5  # date.weekday(): Monday is 0, so 5 and 6 are the weekend
#: Every entry names the day in both languages and the legal text that grants it
#: (Labour Code art. 112 or the year's government notice; LAW-2026.md, "Public holidays").
_ENTRY_KEYS = frozenset({"date", "vi", "en", "source"})


class CalendarError(ValueError):
    """The holidays file is malformed (a content error, raised when it is first loaded)."""


def _is_weekend(d: date) -> bool:
    return d.weekday() >= _SATURDAY


@dataclass(frozen=True)
class WorkCalendar:
    """Which days the agency works.

    ``holidays`` are days off; ``extra_workdays`` are days worked although they would otherwise
    be off (a Saturday made up for a swapped weekday). A day in both is a working day: the
    make-up announcement is the later, more specific decision.
    """

    holidays: frozenset[date]
    extra_workdays: frozenset[date] = frozenset()

    def is_workday(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        return not _is_weekend(d) and d not in self.holidays

    def add_workdays(self, start: date, n: int) -> date:
        """The date ``n`` working days after ``start``.

        The day of filing never counts, whatever it is: the first working day after ``start``
        is day 1. ``n == 0`` returns ``start`` unchanged; a negative ``n`` raises ``ValueError``
        (deadlines only run forward, and a negative count is a caller bug).
        """
        if n < 0:
            raise ValueError(f"working days must be >= 0, got {n}")
        d = start
        # Terminates: holidays is finite, so every week past the last holiday has 5 working days.
        while n:
            d += _ONE_DAY
            if self.is_workday(d):
                n -= 1
        return d

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d`` (same as ``add_workdays(d, 1)``)."""
        return self.add_workdays(d, 1)

    def workdays_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``: a signed count.

        ``b > a``: the number of working days in the interval (a, b], so that
        ``workdays_between(d, add_workdays(d, n)) == n``. ``b == a``: 0.
        ``b < a``: minus the working days in (b, a], so the function is antisymmetric
        (``workdays_between(a, b) == -workdays_between(b, a)``); callers wanting "how late"
        clamp at 0 (see ``overdue_days``).
        """
        if b < a:
            return -self.workdays_between(b, a)
        # Count weekdays arithmetically, then correct for the (few) listed days, so long spans
        # cost O(len(holidays)) instead of one step per day.
        first, days = a + _ONE_DAY, (b - a).days
        count = days // 7 * 5
        count += sum(1 for i in range(days % 7) if not _is_weekend(first + timedelta(days=i)))
        count -= sum(
            1
            for h in self.holidays
            if a < h <= b and not _is_weekend(h) and h not in self.extra_workdays
        )
        count += sum(1 for w in self.extra_workdays if a < w <= b and _is_weekend(w))
        return count


def _entry_dates(raw: object, section: str) -> list[date]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CalendarError(f"{section}: expected a list of entries")
    dates: list[date] = []
    for i, entry in enumerate(raw):
        where = f"{section}[{i}]"
        if not isinstance(entry, Mapping) or set(entry) != _ENTRY_KEYS:
            raise CalendarError(f"{where}: expected exactly the keys {sorted(_ENTRY_KEYS)}")
        value = entry["date"]
        # YAML turns an unquoted 2026-02-16 into a date; accept a quoted ISO string too. A
        # datetime (a date subclass) would mean someone typed a time: reject it.
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError as exc:
                raise CalendarError(f"{where}: {value!r} is not a YYYY-MM-DD date") from exc
        if not isinstance(value, date) or isinstance(value, datetime):
            raise CalendarError(f"{where}: {value!r} is not a YYYY-MM-DD date")
        for key in ("vi", "en", "source"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise CalendarError(f"{where}: {key!r} must be a non-empty string")
        dates.append(value)
    if len(set(dates)) != len(dates):
        raise CalendarError(f"{section}: a date is listed twice")
    return dates


def parse_holidays(raw: object) -> tuple[frozenset[date], frozenset[date]]:
    """Validates the holidays file's content; returns ``(holidays, extra_workdays)``."""
    if not isinstance(raw, Mapping) or not set(raw) <= {"holidays", "workdays"}:
        raise CalendarError("expected a mapping with the keys 'holidays' and 'workdays'")
    holidays = _entry_dates(raw.get("holidays"), "holidays")
    workdays = _entry_dates(raw.get("workdays"), "workdays")
    # A listed weekend holiday changes nothing (its compensation day is what counts) and a
    # listed weekday make-up day changes nothing either: both are almost surely a typo'd date.
    if weekend := [d.isoformat() for d in holidays if _is_weekend(d)]:
        raise CalendarError(f"holidays on a weekend (list the compensation day): {weekend}")
    if weekday := [d.isoformat() for d in workdays if not _is_weekend(d)]:
        raise CalendarError(f"make-up workdays must be a Saturday or Sunday: {weekday}")
    if both := sorted(set(holidays) & set(workdays)):
        raise CalendarError(f"dates both holiday and workday: {[d.isoformat() for d in both]}")
    return frozenset(holidays), frozenset(workdays)


@cache
def _file_calendar() -> tuple[frozenset[date], frozenset[date]]:
    """Reads ``data/holidays.yaml`` once per process."""
    with HOLIDAYS_FILE.open(encoding="utf-8") as fh:
        return parse_holidays(yaml.safe_load(fh))


def load_calendar(extra: Iterable[date] = (), removed: Iterable[date] = ()) -> WorkCalendar:
    """The shipped calendar plus ``extra`` days off (PUBLIC_HOLIDAYS) minus ``removed``
    (NOT_HOLIDAYS).

    Removal wins over addition, so an operator can always take a day back out. Removing a date
    only un-lists it as a holiday: a removed Saturday is still a weekend day.
    """
    holidays, workdays = _file_calendar()
    return WorkCalendar(
        holidays=(holidays | frozenset(extra)) - frozenset(removed),
        extra_workdays=workdays,
    )


def due_date(filed_at: datetime, working_days: int, calendar: WorkCalendar, tz: ZoneInfo) -> date:
    """The last day to answer a complaint filed at ``filed_at``.

    The filing moment is converted to the agency's local date first (a message sent at 18:30 UTC
    arrives at 01:30 the next day in Vietnam). Filing on a weekend or holiday counts the same
    way as any day: the first working day after it is day 1.
    """
    if filed_at.tzinfo is None or filed_at.utcoffset() is None:
        # astimezone() would silently read a naive value as the server's local time.
        raise ValueError("filed_at must be timezone-aware")
    return calendar.add_workdays(filed_at.astimezone(tz).date(), working_days)


def overdue_days(due: date, today: date, calendar: WorkCalendar) -> int:
    """Working days past ``due`` up to ``today`` (0 when not overdue).

    The due day itself is still on time; a weekend or holiday after it adds nothing.
    """
    return max(0, calendar.workdays_between(due, today))
