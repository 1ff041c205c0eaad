"""Complaint deadlines counted in working days, across weekends, Tết and the other holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.workdays import (
    CalendarError,
    WorkCalendar,
    due_date,
    load_calendar,
    overdue_days,
    parse_holidays,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = load_calendar()


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


@pytest.mark.parametrize(
    ("filed_at", "working_days", "calendar", "expected"),
    [
        pytest.param(local(2026, 3, 6), 1, CAL, date(2026, 3, 9), id="friday-across-weekend"),
        pytest.param(local(2026, 3, 6), 10, CAL, date(2026, 3, 20), id="two-weeks"),
        # Thu 12/2: day 1 is Fri 13/2, then the break 14–22/2, days 2–5 are 23–26/2.
        pytest.param(local(2026, 2, 12), 5, CAL, date(2026, 2, 26), id="across-tet-2026"),
        pytest.param(local(2025, 1, 24), 1, CAL, date(2025, 2, 3), id="across-tet-2025"),
        # Giỗ Tổ is Sunday 26/4/2026, so Monday 27/4 is off instead.
        pytest.param(local(2026, 4, 24), 1, CAL, date(2026, 4, 28), id="gio-to-compensated"),
        pytest.param(local(2026, 4, 29), 1, CAL, date(2026, 5, 4), id="30-4-and-1-5"),
        # 2025: Fri 2/5 swapped for Sat 26/4, so the break runs 30/4 – 4/5.
        pytest.param(local(2025, 4, 29), 1, CAL, date(2025, 5, 5), id="30-4-swap-2025"),
        pytest.param(local(2025, 8, 29), 1, CAL, date(2025, 9, 3), id="quoc-khanh-2025"),
        # 2026: Mon 31/8 swapped for Sat 22/8, then 1/9 and 2/9.
        pytest.param(local(2026, 8, 28), 1, CAL, date(2026, 9, 3), id="quoc-khanh-2026"),
        pytest.param(local(2026, 3, 7), 1, CAL, date(2026, 3, 9), id="filed-saturday"),
        # 24/11/2026 (Tuesday), Ngày Văn hóa Việt Nam, is off from 2026 (Nghị quyết 28/2026/QH16,
        # Công văn 10065/VPCP-KGVX): Mon 23/11 + 1 is Wed 25/11.
        pytest.param(local(2026, 11, 23), 1, CAL, date(2026, 11, 25), id="culture-day-2026"),
        # Fri 20/11 + 10 working days, one of them lost to 24/11: Mon 7/12, not Fri 4/12.
        pytest.param(local(2026, 11, 20), 10, CAL, date(2026, 12, 7), id="accept-across-24-11"),
        # Out-of-remit forwarding (5 working days) filed Thu 19/11: 20, 23, 25, 26, 27/11.
        pytest.param(local(2026, 11, 19), 5, CAL, date(2026, 11, 27), id="forward-across-24-11"),
        # Tết 2027 (Công văn 10065/VPCP-KGVX): off Thu 4/2 – Wed 10/2. Wed 3/2 + 1 is Thu 11/2.
        pytest.param(local(2027, 2, 3), 1, CAL, date(2027, 2, 11), id="across-tet-2027"),
        # Mon 1/2/2027 + 10: 2, 3, 11, 12, 15–19, 22/2.
        pytest.param(local(2027, 2, 1), 10, CAL, date(2027, 2, 22), id="accept-across-tet-2027"),
        # 24/11/2027 is a Wednesday: Tue 23/11 + 1 is Thu 25/11.
        pytest.param(local(2027, 11, 23), 1, CAL, date(2027, 11, 25), id="culture-day-2027"),
        pytest.param(local(2026, 3, 7), 5, CAL, date(2026, 3, 13), id="filed-saturday-5"),
        pytest.param(local(2026, 2, 17), 1, CAL, date(2026, 2, 23), id="filed-on-holiday"),
        # 18:30 UTC on Thu 5/3 is 01:30 on Fri 6/3 in Vietnam: the local date is the filing day.
        pytest.param(
            datetime(2026, 3, 5, 18, 30, tzinfo=UTC), 1, CAL, date(2026, 3, 9), id="utc-evening"
        ),
        pytest.param(
            datetime(2026, 3, 5, 16, 59, tzinfo=UTC),
            1,
            CAL,
            date(2026, 3, 6),
            id="utc-before-midnight-local",
        ),
        pytest.param(
            datetime(2026, 3, 5, 18, 30, tzinfo=UTC),
            0,
            CAL,
            date(2026, 3, 6),
            id="zero-days-local-date",
        ),
        pytest.param(local(2026, 3, 7), 0, CAL, date(2026, 3, 7), id="zero-days-on-weekend"),
        pytest.param(
            local(2026, 3, 6),
            1,
            load_calendar(extra=[date(2026, 3, 9)]),
            date(2026, 3, 10),
            id="extra-holiday-from-settings",
        ),
        pytest.param(
            local(2026, 4, 24),
            1,
            load_calendar(removed=[date(2026, 4, 27)]),
            date(2026, 4, 27),
            id="removed-holiday",
        ),
        pytest.param(
            local(2026, 3, 6),
            1,
            load_calendar(extra=[date(2026, 3, 9)], removed=[date(2026, 3, 9)]),
            date(2026, 3, 9),
            id="removal-wins-over-addition",
        ),
        # Sat 10/1/2026 is worked in exchange for Fri 2/1.
        pytest.param(local(2026, 1, 9), 1, CAL, date(2026, 1, 10), id="makeup-saturday-from-file"),
        pytest.param(local(2025, 12, 31), 1, CAL, date(2026, 1, 5), id="new-year-2026-swap"),
        pytest.param(
            local(2026, 3, 6),
            1,
            WorkCalendar(frozenset(), frozenset({date(2026, 3, 7)})),
            date(2026, 3, 7),
            id="extra-saturday-workday",
        ),
        pytest.param(
            local(2026, 3, 6), 1, WorkCalendar(frozenset()), date(2026, 3, 9), id="no-holidays"
        ),
    ],
)
def test_due_date(
    filed_at: datetime, working_days: int, calendar: WorkCalendar, expected: date
) -> None:
    assert due_date(filed_at, working_days, calendar, VN) == expected


def test_negative_working_days_rejected() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        CAL.add_workdays(date(2026, 3, 6), -1)
    with pytest.raises(ValueError, match=">= 0"):
        due_date(local(2026, 3, 6), -3, CAL, VN)


class _NoOffset(tzinfo):
    """A time zone that knows no offset: as good as none (datetime's own definition)."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


@pytest.mark.parametrize(
    "filed_at",
    [datetime(2026, 3, 6, 10, 0), datetime(2026, 3, 6, 10, 0, tzinfo=_NoOffset())],
    ids=["naive", "zone-without-offset"],
)
def test_naive_filing_time_rejected(filed_at: datetime) -> None:
    with pytest.raises(ValueError, match=r"^filed_at must be timezone-aware$"):
        due_date(filed_at, 1, CAL, VN)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 3, 6), True, id="friday"),
        pytest.param(date(2026, 3, 7), False, id="saturday"),
        pytest.param(date(2026, 3, 8), False, id="sunday"),
        pytest.param(date(2026, 2, 17), False, id="tet"),
        pytest.param(date(2026, 4, 26), False, id="gio-to-on-sunday"),
        pytest.param(date(2026, 4, 27), False, id="gio-to-compensation"),
        pytest.param(date(2026, 1, 10), True, id="makeup-saturday"),
        pytest.param(date(2027, 5, 3), False, id="labour-day-2027-compensation"),
        pytest.param(date(2027, 2, 10), False, id="tet-2027"),
    ],
)
def test_is_workday(day: date, expected: bool) -> None:
    assert CAL.is_workday(day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 3, 5), date(2026, 3, 6), id="weekday"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 9), id="friday"),
        pytest.param(date(2026, 3, 7), date(2026, 3, 9), id="saturday"),
        pytest.param(date(2026, 2, 13), date(2026, 2, 23), id="before-tet"),
    ],
)
def test_next_workday_is_strictly_after(day: date, expected: date) -> None:
    assert CAL.next_workday(day) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(date(2026, 3, 6), date(2026, 3, 6), 0, id="same-day"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 8), 0, id="only-weekend"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 9), 1, id="friday-to-monday"),
        pytest.param(date(2026, 3, 9), date(2026, 3, 6), -1, id="reversed-is-negative"),
        pytest.param(date(2026, 2, 13), date(2026, 2, 22), 0, id="whole-tet-break"),
        pytest.param(date(2026, 1, 9), date(2026, 1, 12), 2, id="makeup-saturday-counts"),
        # The interval is (a, b]: a make-up Saturday counts at its end, not at its start.
        pytest.param(date(2026, 1, 9), date(2026, 1, 10), 1, id="ends-on-makeup-saturday"),
        pytest.param(date(2026, 1, 10), date(2026, 1, 12), 1, id="starts-on-makeup-saturday"),
        # 261 weekdays, 14 of them off (24/11 included), 2 Saturdays worked: the 12 statutory
        # days net (LAW-2026.md: 12 a year from 2026).
        pytest.param(date(2025, 12, 31), date(2026, 12, 31), 261 - 14 + 2, id="year-2026"),
    ],
)
def test_workdays_between(a: date, b: date, expected: int) -> None:
    assert CAL.workdays_between(a, b) == expected


@pytest.mark.parametrize(
    ("due", "today", "expected"),
    [
        pytest.param(date(2026, 3, 6), date(2026, 3, 4), 0, id="before-due"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 6), 0, id="on-due-day"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 8), 0, id="weekend-after-due"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 9), 1, id="next-monday"),
        pytest.param(date(2026, 3, 6), date(2026, 3, 13), 5, id="a-week-late"),
        pytest.param(date(2026, 2, 13), date(2026, 2, 23), 1, id="tet-does-not-count"),
    ],
)
def test_overdue_days(due: date, today: date, expected: int) -> None:
    assert overdue_days(due, today, CAL) == expected


def test_shipped_file_covers_each_year() -> None:
    for year in (2025, 2026, 2027):  # 1/1 and 2/9 are weekdays in all three years
        assert not CAL.is_workday(date(year, 1, 1))
        assert not CAL.is_workday(date(year, 9, 2))
        assert not CAL.is_workday(date(year, 4, 30))
    assert not CAL.is_workday(date(2026, 11, 24))  # Ngày Văn hóa Việt Nam, from 2026
    assert not CAL.is_workday(date(2027, 11, 24))
    tet_2027 = sorted(d for d in CAL.holidays if date(2027, 2, 1) <= d <= date(2027, 2, 28))
    assert tet_2027 == [date(2027, 2, d) for d in (4, 5, 8, 9, 10)]
    # 2026 has 12 statutory days once 24/11 is added (LAW-2026.md); a weekday list of those
    # granted: 1/1, 2/1 (swap), Tết ×5, 27/4, 30/4, 1/5, 31/8 (swap), 1/9, 2/9, 24/11.
    assert len([d for d in CAL.holidays if d.year == 2026]) == 14
    tet_2026 = sorted(d for d in CAL.holidays if date(2026, 2, 1) <= d <= date(2026, 2, 28))
    assert tet_2026 == [date(2026, 2, d) for d in range(16, 21)]


def test_load_calendar_reuses_the_file() -> None:
    assert load_calendar() == load_calendar()
    assert load_calendar(extra=[date(2030, 1, 1)]).holidays == CAL.holidays | {date(2030, 1, 1)}


def test_a_calendar_loaded_now_keeps_the_files_make_up_workdays() -> None:
    # CAL is built when the module is imported; this loads the file inside a test, so a
    # calendar that lost its make-up days is caught wherever the module was imported.
    calendar = load_calendar(extra=[date(2030, 1, 1)], removed=[date(2030, 1, 2)])
    assert date(2026, 1, 10) in calendar.extra_workdays  # Sat, worked for Fri 2/1/2026
    assert calendar.extra_workdays == CAL.extra_workdays
    assert calendar.is_workday(date(2026, 1, 10))


def _entry(d: object) -> dict[str, object]:
    return {"date": d, "vi": "Lễ", "en": "Holiday", "source": "Bộ luật Lao động 2019, Điều 112"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(
            [], "^expected a mapping with the keys 'holidays' and 'workdays'$", id="not-a-mapping"
        ),
        pytest.param({"holiday": []}, "mapping", id="unknown-key"),
        pytest.param({"holidays": {}}, "^holidays: expected a list", id="section-not-a-list"),
        pytest.param({"workdays": {}}, "^workdays: expected a list", id="workdays-not-a-list"),
        pytest.param(
            {"holidays": [_entry(date(2026, 3, 9)), _entry("2026-3-10")]},
            r"^holidays\[1\]: '2026-3-10' is not a YYYY-MM-DD date$",
            id="names-the-entry",
        ),
        pytest.param(
            {"workdays": [_entry(date(2026, 1, 10)), {"date": date(2026, 3, 7)}]},
            r"^workdays\[1\]: expected exactly the keys",
            id="names-the-workday-entry",
        ),
        pytest.param({"holidays": [{"date": date(2026, 3, 9)}]}, "keys", id="missing-names"),
        pytest.param({"holidays": [_entry("2026-13-01")]}, "YYYY-MM-DD", id="bad-date"),
        pytest.param({"holidays": [_entry(20260309)]}, "YYYY-MM-DD", id="number"),
        pytest.param(
            {"holidays": [_entry(datetime(2026, 3, 9, 8, 0))]}, "YYYY-MM-DD", id="datetime"
        ),
        pytest.param(
            {"holidays": [{**_entry(date(2026, 3, 9)), "vi": ""}]}, "'vi'", id="empty-name"
        ),
        pytest.param(
            {"holidays": [{**_entry(date(2026, 3, 9)), "source": " "}]}, "'source'", id="no-source"
        ),
        pytest.param(
            {"holidays": [{"date": date(2026, 3, 9), "vi": "Lễ", "en": "Holiday"}]},
            "keys",
            id="source-missing",
        ),
        pytest.param(
            {"holidays": [_entry(date(2026, 3, 9)), _entry("2026-03-09")]}, "twice", id="duplicate"
        ),
        pytest.param({"holidays": [_entry(date(2026, 4, 26))]}, "weekend", id="holiday-on-sunday"),
        pytest.param({"workdays": [_entry(date(2026, 3, 9))]}, "Saturday", id="weekday-workday"),
    ],
)
def test_parse_holidays_rejects(raw: object, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_holidays(raw)


def test_parse_holidays_accepts_quoted_dates_and_empty_sections() -> None:
    raw = {"holidays": [_entry("2026-03-09")], "workdays": None}
    assert parse_holidays(raw) == (frozenset({date(2026, 3, 9)}), frozenset())


def _brute_force_between(cal: WorkCalendar, a: date, b: date) -> int:
    lo, hi, sign = (a, b, 1) if a <= b else (b, a, -1)
    days = (lo + timedelta(days=i) for i in range(1, (hi - lo).days + 1))
    return sign * sum(1 for d in days if cal.is_workday(d))


DAYS = st.dates(min_value=date(2024, 12, 1), max_value=date(2027, 12, 31))


@given(start=DAYS, n=st.integers(min_value=1, max_value=400))
def test_add_workdays_lands_on_a_workday_n_days_later(start: date, n: int) -> None:
    end = CAL.add_workdays(start, n)
    assert CAL.is_workday(end)
    assert CAL.workdays_between(start, end) == n
    assert CAL.workdays_between(end, start) == -n


@given(
    holidays=st.frozensets(DAYS, max_size=30),
    extra=st.frozensets(DAYS, max_size=10),
    a=DAYS,
    b=DAYS,
)
def test_workdays_between_matches_counting_day_by_day(
    holidays: frozenset[date], extra: frozenset[date], a: date, b: date
) -> None:
    cal = WorkCalendar(holidays, extra)
    assert cal.workdays_between(a, b) == _brute_force_between(cal, a, b)
