"""Which deadlines an open case missed: forward and accept while it is new, resolve while open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from conversations.deadlines import missed_by, missed_deadlines

FORWARD, ACCEPT, RESOLVE = date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 4)


@pytest.mark.parametrize(
    ("status", "today", "forwarded_to", "expected"),
    [
        ("new", date(2026, 11, 20), None, []),  # the last day is still on time
        ("new", date(2026, 11, 21), None, ["forward"]),
        ("new", ACCEPT, None, ["forward"]),  # the day to tell is on time too
        ("new", RESOLVE, None, ["forward", "accept"]),  # and the day to resolve
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
        "accept-day",
        "resolve-day",
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


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 30), []),  # forward and accept days passed, but it was told then
        (date(2026, 12, 5), ["resolve"]),
    ],
)
def test_a_case_handed_back_to_new_owes_no_notice_nor_forwarding(
    today: date, expected: list[str]
) -> None:
    """Taken on 18/11 (the sender was told), handed back: "new" again, nobody's."""
    found = missed_deadlines(
        status="new",
        today=today,
        due_on=RESOLVE,
        accept_due_on=ACCEPT,
        forward_due_on=FORWARD,
        accepted_at=datetime(2026, 11, 18, 3, 0, tzinfo=UTC),
    )
    assert [m.kind for m in found] == expected


@pytest.mark.parametrize(
    ("closed_on", "expected"),
    [(None, []), (RESOLVE, []), (date(2026, 12, 7), ["resolve"])],
    ids=["unknown", "on-the-day", "late"],
)
def test_a_closed_case_missed_only_the_day_to_resolve(
    closed_on: date | None, expected: list[str]
) -> None:
    found = missed_deadlines(
        status="resolved",
        today=date(2026, 12, 20),
        due_on=RESOLVE,
        accept_due_on=ACCEPT,
        forward_due_on=FORWARD,
        closed_on=closed_on,
    )
    assert [m.kind for m in found] == expected


FILED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 01/12/2026, 09:00 in Hà Nội


@pytest.mark.parametrize(
    ("code", "forward", "accept", "resolve"),
    [
        # 5-day targets: the 10 days to tell would end on 15/12, after the day to resolve.
        ("thaido", date(2026, 12, 8), date(2026, 12, 8), date(2026, 12, 8)),
        ("trehen", date(2026, 12, 8), date(2026, 12, 8), date(2026, 12, 8)),
        ("capphep", date(2026, 12, 8), date(2026, 12, 15), date(2026, 12, 15)),
    ],
)
def test_no_deadline_falls_after_the_day_to_resolve(
    code: str, forward: date, accept: date, resolve: date
) -> None:
    from zoneinfo import ZoneInfo

    from conversations.categories import case_due_dates, category
    from conversations.workdays import load_calendar

    found = category(code)
    assert found is not None
    dues = case_due_dates(FILED, found.days, load_calendar(), ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (dues.forward, dues.accept, dues.resolve) == (forward, accept, resolve)


def test_every_category_tells_and_forwards_by_the_day_to_resolve() -> None:
    from zoneinfo import ZoneInfo

    from conversations.categories import case_due_dates, categories
    from conversations.workdays import load_calendar

    calendar, tz = load_calendar(), ZoneInfo("Asia/Ho_Chi_Minh")
    for filed in (FILED, datetime(2026, 11, 20, 2, 0, tzinfo=UTC)):  # across 24/11/2026
        for found in categories():
            if found.denunciation:
                continue
            dues = case_due_dates(filed, found.days, calendar, tz)
            assert dues.forward <= dues.accept <= dues.resolve, found.code


def test_each_missed_deadline_names_its_own_last_day() -> None:
    found = missed_deadlines(
        status="new",
        today=date(2026, 12, 5),
        due_on=RESOLVE,
        accept_due_on=ACCEPT,
        forward_due_on=FORWARD,
    )
    assert [(m.kind, m.due) for m in found] == [
        ("forward", FORWARD),
        ("accept", ACCEPT),
        ("resolve", RESOLVE),
    ]


@pytest.mark.parametrize(
    ("forward", "accept", "resolve", "expected"),
    [
        # Days to tell after the day to resolve (a case filed before they were capped by it).
        (date(2026, 12, 8), date(2026, 12, 15), date(2026, 12, 8),
         [("forward", date(2026, 12, 8)), ("resolve", date(2026, 12, 8)),
          ("accept", date(2026, 12, 15))]),
        (date(2026, 12, 10), date(2026, 12, 9), date(2026, 12, 14),
         [("accept", date(2026, 12, 9)), ("forward", date(2026, 12, 10)),
          ("resolve", date(2026, 12, 14))]),
        # All on one day: in the order they fall for a new case.
        (date(2026, 12, 8), date(2026, 12, 8), date(2026, 12, 8),
         [("forward", date(2026, 12, 8)), ("accept", date(2026, 12, 8)),
          ("resolve", date(2026, 12, 8))]),
    ],
    ids=["accept-after-resolve", "accept-before-forward", "one-day"],
)  # fmt: skip
def test_missed_deadlines_come_earliest_first(
    forward: date, accept: date, resolve: date, expected: list[tuple[str, date]]
) -> None:
    found = missed_deadlines(
        status="new",
        today=date(2026, 12, 16),
        due_on=resolve,
        accept_due_on=accept,
        forward_due_on=forward,
    )
    assert [(m.kind, m.due) for m in found] == expected


@dataclass(frozen=True)
class Case:
    """A case as a staff list, digest or export row gives it."""

    status: str = "new"
    due_on: date = RESOLVE
    accept_due_on: date | None = ACCEPT
    forward_due_on: date | None = FORWARD
    forwarded_to: str | None = None
    accepted_at: datetime | None = None


TAKEN = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("case", "today", "closed_on", "expected"),
    [
        (Case(), date(2026, 11, 20), None, []),
        (Case(), date(2026, 11, 21), None, [("forward", FORWARD)]),
        (Case(), date(2026, 11, 30), None, [("forward", FORWARD), ("accept", ACCEPT)]),
        (Case(forward_due_on=None), date(2026, 11, 30), None, [("accept", ACCEPT)]),
        (Case(accept_due_on=None), date(2026, 11, 30), None, [("forward", FORWARD)]),
        (Case(forwarded_to="UBND phường"), date(2026, 11, 30), None, [("accept", ACCEPT)]),
        (Case(accepted_at=TAKEN), date(2026, 11, 30), None, []),
        (Case(status="in_progress"), date(2026, 11, 30), None, []),
        (Case(due_on=date(2026, 11, 25)), date(2026, 11, 26), None,
         [("forward", FORWARD), ("resolve", date(2026, 11, 25))]),
        (Case(status="resolved"), date(2026, 12, 20), date(2026, 12, 7), [("resolve", RESOLVE)]),
        (Case(status="resolved"), date(2026, 12, 20), RESOLVE, []),
    ],
    ids=["on-time", "forward", "forward-accept", "no-forward-day", "no-accept-day", "forwarded",
         "told", "taken", "own-resolve-day", "closed-late", "closed-on-the-day"],
)  # fmt: skip
def test_missed_by_reads_each_of_the_cases_deadlines(
    case: Case, today: date, closed_on: date | None, expected: list[tuple[str, date]]
) -> None:
    assert [(m.kind, m.due) for m in missed_by(case, today, closed_on)] == expected
