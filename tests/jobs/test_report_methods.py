"""An index is computed within one SIPAS method: surveys taken on the QĐ 1001 form and on the
QĐ 2640 form are stored, summed, reported and exported apart (LAW-2026.md, "SIPAS method")."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations import load_questionnaire
from conversations.periods import Period
from jobs.reports import ReportScope, build_report
from jobs.sipas_index import answer_counts, compute
from storage import read_transaction
from storage.queries.aggregates import recount
from storage.queries.export import responses_for_export
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = Period(date(2026, 3, 2), date(2026, 3, 8))


async def _surveys(engine: AsyncEngine, method: str, users: list[str], seed: int) -> None:
    clock = SequentialClock(start=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    settings = DispatchSettings(survey_method=method)
    dispatcher = Dispatcher(engine, settings, clock=clock, new_id=SequentialIds(seed * 1000))
    rng = random.Random(seed)
    for user in users:
        await complete_survey(dispatcher, user, rng)
    await dispatcher.close()


async def test_two_methods_are_never_averaged_together(engine: AsyncEngine) -> None:
    await _surveys(engine, "sipas-2640", ["old-1", "old-2", "old-3"], 1)
    await _surveys(engine, "sipas-1001", ["new-1", "new-2"], 2)
    async with read_transaction(engine) as conn:
        new = await build_report(conn, WEEK, ReportScope(TZ, method="sipas-1001"))
        old = await build_report(conn, WEEK, ReportScope(TZ, method="sipas-2640"))
        daily, _ = await recount(conn, TZ, answer_counts)
        rows_new = await responses_for_export(conn, WEEK.start, WEEK.end, TZ, "sipas-1001")
        rows_old = await responses_for_export(conn, WEEK.start, WEEK.end, TZ, "sipas-2640")
    assert (new.completed, old.completed) == (2, 3)
    assert (len(rows_new), len(rows_old)) == (2, 3)
    # The 1001 sheet holds 1001 items only: "channel" is asked on that form alone.
    assert not any("channel" in r.answers for r in rows_old)
    # Each report is exactly the index of its own method's counts, and nothing else.
    for report, method in ((new, "sipas-1001"), (old, "sipas-2640")):
        own: dict[tuple[str, str], int] = {}
        for (_, m, _, _, item, value), n in daily.items():
            if m == method:
                own[(item, value)] = own.get((item, value), 0) + n
        alone = compute(
            own,
            start=WEEK.start,
            end=WEEK.end,
            completed=report.completed,
            partial=0,
            questionnaire=load_questionnaire(method),
        )
        assert report.index == alone.index
        assert [e.index for e in report.elements] == [e.index for e in alone.elements]
    data_new, data_old = new.to_json(), old.to_json()
    assert (data_new["method"], data_old["method"]) == ("sipas-1001", "sipas-2640")
    assert "1001/QĐ-BNV" in data_new["method_name"]
    assert "2640/QĐ-BNV" in data_old["method_name"]
    assert sum(len(e["criteria"]) for e in data_new["elements"]) == 19
    assert sum(len(e["criteria"]) for e in data_old["elements"]) == 22


@pytest.mark.parametrize(("method", "criteria"), [("sipas-1001", 19), ("sipas-2640", 22)])
def test_report_json_names_its_method(method: str, criteria: int) -> None:
    report = compute(
        {},
        start=WEEK.start,
        end=WEEK.end,
        completed=0,
        partial=0,
        questionnaire=load_questionnaire(method),
    )
    data = report.to_json()
    assert data["method"] == method
    assert len([c for e in data["elements"] for c in e["criteria"]]) == criteria
