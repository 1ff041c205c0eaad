"""Report periods: what "7d", "thang", "quy" … mean on a given local day, and digest periods."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from .normalise import clean, fold

DigestKind = Literal["daily", "weekly", "monthly", "halfyear", "yearly"]
DIGEST_KINDS: tuple[DigestKind, ...] = ("daily", "weekly", "monthly", "halfyear", "yearly")
_DATE = r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})"
_RANGE = re.compile(rf"^{_DATE}\s*(?:\.\.|–|-{{1,2}}|đến|den|to)\s*{_DATE}$")
MAX_RANGE_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (for trends)."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(text: str, today: date) -> Period | None:
    """``/baocao`` and ``/xuatdulieu`` periods (one day ``30/11/2026`` too); without one, the
    last 30 days including today. None if unreadable."""
    word = clean(text).lower()
    folded = fold(text).replace(" ", "")
    if folded in ("tuan", "week", "thang", "month", "quy", "quarter", "nam", "year"):
        word = folded
    elif folded in ("6thang", "halfyear", "6thangdaunam"):
        word = "6thang"
    if word in ("", "30d", "30"):
        return Period(today - timedelta(days=29), today)
    if word in ("7d", "7", "tuan", "tuần", "week"):
        return Period(today - timedelta(days=6), today)
    if word in ("thang", "tháng", "month"):
        return Period(_month_start(today), today)
    if word in ("quy", "quý", "quarter"):
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(first, today)
    if word in ("6thang", "6tháng", "6 tháng", "halfyear"):
        return Period(date(today.year, 1 if today.month <= 6 else 7, 1), today)
    if word in ("nam", "năm", "year"):
        return Period(date(today.year, 1, 1), today)
    match = _RANGE.match(word)
    if match is None:
        day = parse_date(word)  # one day, as the command line reads --from and --to
        return None if day is None else Period(day, day)
    start, end = parse_date(match.group(1)), parse_date(match.group(2))
    if start is None or end is None or end < start or (end - start).days > MAX_RANGE_DAYS:
        return None
    return Period(start, end)


def parse_date(text: str) -> date | None:
    """A day as people here write it, ``30/11/2026`` (day first), or ISO ``2026-11-30``;
    None when it is neither or no such day."""
    found = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})|(\d{4})-(\d{1,2})-(\d{1,2})", clean(text))
    if found is None:
        return None
    day, month, year = (
        found.group(1, 2, 3) if found.group(1) else tuple(reversed(found.group(4, 5, 6)))
    )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def last_complete(kind: DigestKind, today: date) -> Period:
    """The most recent whole period of a digest kind that has ended before ``today``."""
    if kind == "daily":
        day = today - timedelta(days=1)
        return Period(day, day)
    if kind == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        return Period(this_monday - timedelta(days=7), this_monday - timedelta(days=1))
    if kind == "monthly":
        first = _month_start(today)
        return Period(_add_months(first, -1), first - timedelta(days=1))
    if kind == "halfyear":
        first = date(today.year, 1 if today.month <= 6 else 7, 1)
        return Period(_add_months(first, -6), first - timedelta(days=1))
    first = date(today.year, 1, 1)
    return Period(date(today.year - 1, 1, 1), first - timedelta(days=1))


def whole(kind: DigestKind, start: date) -> Period:
    """The whole digest period of ``kind`` that starts on ``start``."""
    if kind == "daily":
        return Period(start, start)
    if kind == "weekly":
        return Period(start, start + timedelta(days=6))
    months = {"monthly": 1, "halfyear": 6, "yearly": 12}[kind]
    return Period(start, _add_months(start, months) - timedelta(days=1))


def current(kind: DigestKind, today: date) -> Period:
    """The period in progress (``/bantin`` shows the current week so far)."""
    if kind == "daily":
        return Period(today, today)
    if kind == "weekly":
        return Period(today - timedelta(days=today.weekday()), today)
    if kind == "monthly":
        return Period(_month_start(today), today)
    if kind == "halfyear":
        return Period(date(today.year, 1 if today.month <= 6 else 7, 1), today)
    return Period(date(today.year, 1, 1), today)
