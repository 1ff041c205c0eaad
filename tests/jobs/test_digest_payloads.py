"""What one digest puts in the outbox, read as its reader gets it (issue 17's mutants of
``jobs.digests``): the text in the reader's language, naming the agency, each figure set
against the period before, the dossiers' lines once there are dossiers; and from the weekly
digest up, the chart of this period against the one before, in the reader's language, with
the sentence a channel without pictures shows instead. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

import jobs.chart
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.dossiers import DeskSettings, DossierDesk, DossierIn, EventIn
from conversations import DEFAULT_METHOD, default_catalog, format_decimal, load_questionnaire
from conversations.periods import Period
from conversations.workdays import load_calendar
from jobs.digests import DigestSettings, digest_payloads
from jobs.sipas_index import Report
from storage import write_transaction
from storage.outbound import ImageMessage, TextMessage
from storage.schema import complaints
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.rows import complaint_row
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CATALOG = default_catalog()
SETTINGS = DigestSettings(
    agency="Sở Xây dựng tỉnh Thử Nghiệm",
    tz=TZ,
    calendar=load_calendar(),
    chats=(("test", "admin-1"),),
    at=time(7, 30),
)
BEFORE = Period(date(2026, 11, 2), date(2026, 11, 8))
WEEK = Period(date(2026, 11, 9), date(2026, 11, 15))
NOW = datetime(2026, 11, 16, 8, 0, tzinfo=TZ)


async def _seed(engine: AsyncEngine, *, dossier: bool) -> None:
    """Two surveys completed in the week before, two in the week reported on."""
    ids = SequentialIds()
    for n, monday in enumerate((BEFORE.start, WEEK.start)):
        clock = SequentialClock(
            start=datetime(monday.year, monday.month, monday.day, 2, tzinfo=UTC)
        )
        dispatcher = Dispatcher(engine, DispatchSettings(tz=TZ), clock=clock, new_id=ids)
        for k in range(2):
            await complete_survey(dispatcher, f"c{n}{k}", random.Random(10 * n + k))
        if dossier and monday == WEEK.start:
            desk = DossierDesk(engine, DeskSettings(), CATALOG, clock)
            body = DossierIn(code="HS-9", procedure="1.009972", received_on=WEEK.start,
                             due_on=date(2026, 11, 20))  # fmt: skip
            await desk.register("motcua", body)


@pytest.fixture
def charts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Report, Report | None, str]]:
    drawn: list[tuple[Report, Report | None, str]] = []

    def chart(report: Report, previous: Report | None, *, language: str, **_: Any) -> bytes:
        drawn.append((report, previous, language))
        return b"\x89PNG chart"

    monkeypatch.setattr(jobs.chart, "element_chart", chart)
    return drawn


@pytest.mark.parametrize("language", ["en", "vi"])
async def test_a_weekly_digest_as_its_reader_gets_it(
    engine: AsyncEngine, charts: list[tuple[Report, Report | None, str]], language: str
) -> None:
    await _seed(engine, dossier=True)
    payloads = await digest_payloads(engine, "weekly", WEEK, SETTINGS, CATALOG, NOW, language)
    assert [type(p) for p in payloads] == [TextMessage, ImageMessage]
    text, image = payloads
    assert isinstance(text, TextMessage)
    assert isinstance(image, ImageMessage)
    assert text.key == "digest.message"
    assert SETTINGS.agency in text.text
    # Every figure is set against the week before, which had surveys too.
    trend = CATALOG.text(language, "digest.trend").split("}")[-1].strip()
    assert trend in text.text
    assert CATALOG.text(language, "dossier.report.title") in text.text
    # The method's name, as the report and the chart, in the reader's language.
    method = load_questionnaire(DEFAULT_METHOD).text("q.method", language)
    assert method in text.text
    if language == "en":
        assert "Overall satisfaction" in text.text
    # The chart: this week against the one before, labelled in the reader's language.
    [(report, previous, drawn_in)] = charts
    assert (report.start, report.end, report.completed) == (WEEK.start, WEEK.end, 2)
    assert previous is not None
    assert (previous.start, previous.end, previous.completed) == (BEFORE.start, BEFORE.end, 2)
    assert drawn_in == language
    assert report.method_name == method
    assert image.data == b"\x89PNG chart"
    assert image.name == "sipas-weekly-20261109.png"
    assert image.summary == CATALOG.text(language, "digest.chart_summary")


async def test_no_dossier_lines_before_there_are_dossiers_and_no_chart_daily(
    engine: AsyncEngine, charts: list[tuple[Report, Report | None, str]]
) -> None:
    await _seed(engine, dossier=False)
    day = Period(WEEK.start, WEEK.start)
    [text] = await digest_payloads(engine, "daily", day, SETTINGS, CATALOG, NOW, "en")
    assert isinstance(text, TextMessage)
    assert CATALOG.text("en", "dossier.report.title") not in text.text
    assert SETTINGS.agency in text.text
    assert charts == []


async def test_a_digest_of_another_method_counts_only_that_methods_surveys(
    engine: AsyncEngine, charts: list[tuple[Report, Report | None, str]]
) -> None:
    """``SURVEY_METHOD``: digests never mix two methods (LAW-2026.md)."""
    await _seed(engine, dossier=False)
    other = dataclasses.replace(SETTINGS, method="sipas-2640")
    payloads = await digest_payloads(engine, "weekly", WEEK, other, CATALOG, NOW, "en")
    text = payloads[0]
    assert isinstance(text, TextMessage)
    assert load_questionnaire("sipas-2640").text("q.method", "en") in text.text
    [(report, previous, _)] = charts
    assert (report.method, report.completed) == ("sipas-2640", 0)
    assert previous is not None
    assert previous.completed == 0


async def test_dossiers_handed_over_are_measured_by_the_calendar_beside_the_index(
    engine: AsyncEngine, charts: list[tuple[Report, Report | None, str]]
) -> None:
    """A dossier received and handed over in the week: the half-the-legal-limit line counts
    it (working days by the agency's calendar) and sets the week's SIPAS index beside it."""
    await _seed(engine, dossier=True)
    clock = SequentialClock(start=datetime(2026, 11, 12, 2, tzinfo=UTC))  # Thursday
    desk = DossierDesk(engine, DeskSettings(), CATALOG, clock)
    await desk.post_event("motcua", "HS-9", EventIn(event_id="done", kind="handed_over"))
    [text, _] = await digest_payloads(engine, "weekly", WEEK, SETTINGS, CATALOG, NOW, "vi")
    assert isinstance(text, TextMessage)
    [(report, _, _)] = charts
    assert report.index is not None
    shown = format_decimal(report.index, "vi", 2)
    half = next(line for line in text.text.splitlines() if "một nửa thời hạn" in line)
    assert half.startswith("• Giải quyết trong một nửa thời hạn quy định (mục tiêu 50%): 1/1")
    assert half.endswith(f"chỉ số hài lòng SIPAS cùng kỳ: {shown}%")


async def test_the_cases_overdue_are_judged_by_the_local_day(
    engine: AsyncEngine, charts: list[tuple[Report, Report | None, str]]
) -> None:
    """A digest sent at 06:00 local is still the day before in UTC: a case due that UTC day
    is overdue by the agency's day, and the digest says so."""
    await _seed(engine, dossier=False)
    filed = datetime(2026, 11, 10, 3, tzinfo=UTC)
    async with write_transaction(engine) as conn:
        await conn.execute(
            insert(complaints).values(
                complaint_row(
                    "PA-2026-000777", filed, status="in_progress", due_on=date(2026, 11, 15)
                )
            )
        )
    early = datetime(2026, 11, 16, 6, 0, tzinfo=TZ)  # 15 Nov, 23:00 UTC
    [text, _] = await digest_payloads(engine, "weekly", WEEK, SETTINGS, CATALOG, early, "vi")
    assert isinstance(text, TextMessage)
    assert "PA-2026-000777" in text.text
    line = next(line for line in text.text.splitlines() if "PA-2026-000777" in line)
    assert "quá hạn" in line.lower()
