"""Reports count surveys still in progress apart from those that ended unfinished."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations import default_catalog
from conversations.periods import Period
from jobs.digest import build_report_message
from jobs.expiry import expire_due
from jobs.reports import ReportScope, build_report
from storage import read_transaction
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_in_progress_is_apart_from_partial(engine: AsyncEngine) -> None:
    # Monday 2 March 2026, 09:00 in Hanoi.
    clock = SequentialClock(start=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    settings = DispatchSettings(survey_ttl=timedelta(days=2))
    dispatcher = Dispatcher(engine, settings, clock=clock, new_id=SequentialIds())
    rng = random.Random(7)
    await complete_survey(dispatcher, "done-1", rng)
    await complete_survey(dispatcher, "done-2", rng)
    await complete_survey(dispatcher, "cancelled", rng, finish="cancel")
    await complete_survey(dispatcher, "walked-away", rng, finish="leave")
    clock.advance(timedelta(days=3))  # Thursday: the one left alone has expired
    assert await expire_due(dispatcher) == 1
    await complete_survey(dispatcher, "answering", rng, finish="leave")
    await complete_survey(dispatcher, "answering-too", rng, finish="leave")
    await dispatcher.close()

    scope = ReportScope(HANOI)
    async with read_transaction(engine) as conn:
        week = await build_report(conn, Period(date(2026, 3, 2), date(2026, 3, 8)), scope)
        before = await build_report(conn, Period(date(2026, 2, 23), date(2026, 3, 1)), scope)
        other = await build_report(conn, Period(date(2026, 3, 2), date(2026, 3, 8)),
                                   ReportScope(HANOI, procedure="1.000000"))  # fmt: skip
    # Ended unfinished (cancelled, expired): partial. Started and still going: in progress.
    assert (week.completed, week.partial, week.in_progress) == (2, 2, 2)
    data = week.to_json()
    assert (data["completed"], data["partial"], data["in_progress"]) == (2, 2, 2)
    assert (before.completed, before.partial, before.in_progress) == (0, 0, 0)
    assert other.in_progress == 0  # the procedure filter applies to them too
    text = default_catalog().render(build_report_message(week, None, "Sở Xây dựng"), "vi").text
    assert (
        "Phiếu khảo sát: 2 hoàn thành; 2 đang làm dở; 2 không hoàn thành (đã hủy hoặc quá hạn)"
        in text
    )
    english = default_catalog().render(build_report_message(week, None, "X"), "en").text
    assert "Surveys: 2 completed; 2 in progress; 2 not completed (cancelled or expired)" in english


@pytest.mark.parametrize(
    ("owners", "expected"),
    [
        ((None, None, None), ()),  # nobody took anything yet: no breakdown
        (("Bình", None, "An"), (("An", 1, 0), ("Bình", 1, 1), (None, 1, 1))),
        (("An", "An", "An"), (("An", 3, 2),)),
    ],
)
def test_open_and_overdue_cases_per_officer(
    owners: tuple[str | None, ...], expected: tuple[tuple[str | None, int, int], ...]
) -> None:
    from jobs.reports import per_officer

    cases = (
        ("PA-1", date(2026, 3, 1)),
        ("PA-2", date(2026, 3, 4)),
        ("PA-3", date(2026, 3, 20)),
    )
    assert per_officer(cases, owners, date(2026, 3, 10)) == expected
