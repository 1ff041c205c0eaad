"""The administrators' commands that take a report period: ``/baocao`` and ``/xuatdulieu``.

One period parser for both (:func:`periods.parse_period`, the same days the command line
reads); an argument that is no period is answered with the bad-period message and its
examples, never read as the default period.
"""

from __future__ import annotations

from datetime import date

from .effects import ConversationState, Outcome, Reply, RequestJob
from .normalise import clean, fold
from .periods import Period, parse_period

#: ``/xuatdulieu đầy đủ``: the export with personal data (folded forms, as word lists).
FULL_WORDS = (["full"], ["day", "du"])


def report(state: ConversationState, arg: str, today: date) -> Outcome:
    """``/baocao [period]``: the report of that period (the last 30 days without one)."""
    period = parse_period(arg, today)
    if period is None:
        return _bad_period(state, "baocao", arg)
    job = RequestJob("report", _dates(period))
    return Outcome((Reply("report.working"),), changes=(job,), state=state)


def export(state: ConversationState, arg: str, today: date) -> Outcome:
    """``/xuatdulieu [đầy đủ] [period]``: the spreadsheet of that period (the year so far
    without one), with personal data when asked."""
    words = clean(arg).split()
    full = next((w for w in FULL_WORDS if [fold(x) for x in words[: len(w)]] == w), None)
    rest = " ".join(words[len(full) :] if full else words)
    period = parse_period(rest, today) if rest else Period(date(today.year, 1, 1), today)
    if period is None:
        return _bad_period(state, "xuatdulieu", arg)
    job = RequestJob("export", (("full", "yes" if full else "no"), *_dates(period)))
    return Outcome((Reply("report.working"),), changes=(job,), state=state)


def _dates(period: Period) -> tuple[tuple[str, str], ...]:
    return (("from", period.start.isoformat()), ("to", period.end.isoformat()))


def _bad_period(state: ConversationState, command: str, arg: str) -> Outcome:
    said = (("command", command), ("typed", arg[:40]))
    return Outcome((Reply("report.input5_bad_period", said),), state=state)
