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
from sqlalchemy.ext.asyncio import AsyncEngine

import jobs.chart
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.dossiers import DeskSettings, DossierDesk, DossierIn
from conversations import DEFAULT_METHOD, default_catalog, load_questionnaire
from conversations.periods import Period
from conversations.workdays import load_calendar
from jobs.digests import DigestSettings, digest_payloads
from jobs.sipas_index import Report
from storage.outbound import ImageMessage, TextMessage
from tests.support.clock import SequentialClock, SequentialIds
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
