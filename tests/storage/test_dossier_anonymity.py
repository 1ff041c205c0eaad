"""A survey answered from a dossier's invitation cannot be joined back to the dossier or the
chat: checked on the schema (no path between the tables) and on the data after the whole path
(link, hand-over, invitation, survey answered), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.dossiers import DeskSettings, DossierDesk, DossierIn, EventIn
from conversations import Choice, Command, Inbound, InboundEvent, Text, default_catalog
from storage import read_transaction
from storage.schema import dossier_answer_days, dossiers, metadata, survey_responses
from tests.support.clock import SequentialClock

RESPONSE_ID = 918_273_645_546_372  # distinctive: any copy of it elsewhere would be found
START = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # 09:00 in Hanoi
CHAT = "4242001"
SURVEY_TABLES = {"survey_responses", "answers"}
LINKED_TABLES = {"dossiers", "dossier_follows", "dossier_events", "contacts", "conversations"}


def _graph(sync: Any) -> dict[str, set[str]]:
    inspector = inspect(sync)
    return {
        table: {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        for table in inspector.get_table_names()
    }


async def test_no_foreign_key_path_joins_answers_to_dossiers_or_chats(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        graph = await conn.run_sync(_graph)
        columns = await conn.run_sync(
            lambda sync: {
                t: {c["name"] for c in inspect(sync).get_columns(t)} for t in SURVEY_TABLES
            }
        )
    # Both directions: what a survey table refers to, and what refers to it, transitively.
    edges = {(a, b) for a, refs in graph.items() for b in refs}
    reachable = set(SURVEY_TABLES)
    while True:
        more = {b for a, b in edges if a in reachable} | {a for a, b in edges if b in reachable}
        if more <= reachable:
            break
        reachable |= more
    assert reachable == SURVEY_TABLES  # not even the receipts: no response names its receipt
    assert reachable.isdisjoint(LINKED_TABLES)
    assert columns["survey_responses"] == {
        "id", "questionnaire", "status", "with_receipt", "procedure", "field", "started_at",
        "ended_at", "completed_at", "handed_over_month",
    }  # fmt: skip
    assert graph["dossier_answer_days"] == set()
    dossier_columns = {c.name for c in dossiers.columns}
    assert not {c for c in dossier_columns if "response" in c or "answer" in c}


async def _answer_everything_skipped(dispatcher: Dispatcher) -> list[str]:
    """Skips every question (typed, as on Zalo) until the summary, then submits."""
    keys: list[str] = []
    for n in range(200):
        (handled,) = await dispatcher.process(
            [InboundEvent(f"s{n}", "telegram", CHAT, Text("bỏ qua"))]
        )
        assert not isinstance(handled, Exception)
        keys = [m.key for m in handled.messages]
        if "survey.summary" in keys:
            break
    (done,) = await dispatcher.process(
        [InboundEvent("submit", "telegram", CHAT, Text("gửi phiếu"))]
    )
    assert not isinstance(done, Exception)
    return [m.key for m in done.messages]


async def _all_values(engine: AsyncEngine) -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    async with read_transaction(engine) as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                for column, value in row._mapping.items():
                    found.append((table.name, str(column), value))
    return found


async def test_the_response_holds_procedure_field_and_month_only(engine: AsyncEngine) -> None:
    clock = SequentialClock(start=START)
    desk = DossierDesk(engine, DeskSettings(), default_catalog(), clock)
    registered = await desk.register(
        "motcua",
        DossierIn(
            code="HS-2026-7777",
            procedure="1.009972",
            field="Cấp phép xây dựng",
            received_on=date(2026, 2, 9),
            due_on=date(2026, 3, 9),
        ),
    )
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=lambda: RESPONSE_ID)
    follow: list[Inbound] = [
        Command("start", f"d_{registered.token}"),
        Choice(f"dfol:{registered.token}:yes"),
    ]
    for n, payload in enumerate(follow):
        (handled,) = await dispatcher.process([InboundEvent(f"f{n}", "telegram", CHAT, payload)])
        assert not isinstance(handled, Exception)
    await desk.post_event("motcua", "HS-2026-7777", EventIn(event_id="h1", kind="handed_over"))
    async with read_transaction(engine) as conn:
        dossier_id = (await conn.execute(select(dossiers.c.id))).scalar_one()
    clock.advance(timedelta(hours=3))
    for n, payload in enumerate([Choice(f"dinv:{dossier_id}"), Choice("consent:yes")]):
        (handled,) = await dispatcher.process([InboundEvent(f"i{n}", "telegram", CHAT, payload)])
        assert not isinstance(handled, Exception)
    assert "survey.thanks" in await _answer_everything_skipped(dispatcher)

    async with read_transaction(engine) as conn:
        response = (await conn.execute(select(survey_responses))).mappings().one()
        invited = (await conn.execute(select(dossiers.c.invite_status))).scalar_one()
        delays = (await conn.execute(select(dossier_answer_days))).all()
    assert dict(response) == {
        "id": RESPONSE_ID,
        "questionnaire": response["questionnaire"],
        "status": "completed",
        "with_receipt": False,
        "procedure": "1.009972",
        "field": "Cấp phép xây dựng",
        "started_at": datetime(2026, 3, 9, 5, 0, tzinfo=UTC),  # to the hour
        "ended_at": response["ended_at"],
        "completed_at": response["completed_at"],
        "handed_over_month": date(2026, 3, 1),
    }
    assert invited == "ended"  # the dossier knows its invitation is over, not how, nor by whom
    assert [tuple(d) for d in delays] == [(date(2026, 3, 9), 0, 1)]

    # The response's id appears nowhere but in its own row and its answers: not in the
    # dossier, the follows, the events, the contact or the conversation state.
    holders = {
        (table, column)
        for table, column, value in await _all_values(engine)
        if value == RESPONSE_ID
        or (isinstance(value, (str, dict, list)) and str(RESPONSE_ID) in str(value))
    }
    assert holders <= {("survey_responses", "id"), ("answers", "response_id")}
    # And neither the dossier (id, code, token) nor the chat appears in a survey table.
    dossier_marks = {dossier_id, "HS-2026-7777", registered.token, CHAT}
    leaked = {
        (table, column, value)
        for table, column, value in await _all_values(engine)
        if table in SURVEY_TABLES and column not in ("id", "response_id") and value in dossier_marks
    }
    assert leaked == set()
