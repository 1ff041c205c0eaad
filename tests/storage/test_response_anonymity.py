"""What a survey response row holds, whatever way the survey ends: the questionnaire, its
status, the receipt it was opened from, the procedure and field, times to the hour; never the
chat, the contact or the minute. Checked on the walk-in and the receipt paths, completed,
cancelled, expired and deleted (/xoadulieu), on SQLite and PostgreSQL; the dossier path is
tests/storage/test_dossier_anonymity.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Inbound, InboundEvent, Text
from jobs.expiry import expire_due
from storage import read_transaction, write_transaction
from storage.queries.dialogue import load_conversations
from storage.queries.surveys import create_receipt
from storage.schema import contacts, conversations, receipts, survey_responses
from tests.storage.test_dossier_anonymity import CHAT, _all_values, _answer_everything_skipped
from tests.support.clock import SequentialClock

RESPONSE_ID = 737_373_737_373_737  # distinctive: any copy of it elsewhere would be found
START = datetime(2026, 3, 9, 2, 17, 41, tzinfo=UTC)  # not on the hour: rounding is seen
SETTINGS = DispatchSettings(survey_ttl=timedelta(days=7))
SURVEY_TABLES = {"survey_responses", "answers"}


async def _send(dispatcher: Dispatcher, payloads: list[Inbound], tag: str) -> list[str]:
    keys: list[str] = []
    for n, payload in enumerate(payloads):
        (handled,) = await dispatcher.process(
            [InboundEvent(f"{tag}{n}", "telegram", CHAT, payload)]
        )
        assert isinstance(handled, Handled)
        keys = [m.key for m in handled.messages]
    return keys


async def _prepare(engine: AsyncEngine) -> int:
    """Other contacts and receipts first, so that the citizen's contact id, the receipt's id
    and small counters all differ: a column copying the wrong one shows."""
    async with write_transaction(engine) as conn:
        others = {("telegram", f"other-{n}") for n in range(4)}
        await load_conversations(conn, others, START)
        for n in range(2):
            await create_receipt(conn, f"tok-other-{n}", "2.000111", START)
        receipt = await create_receipt(
            conn, "tok-mine", "1.009972", START, field="Cấp phép xây dựng"
        )
    return receipt


async def _holders(engine: AsyncEngine) -> set[tuple[str, str]]:
    """Every (table, column) holding the response id, as a value or inside a text or JSON."""
    return {
        (table, column)
        for table, column, value in await _all_values(engine)
        if value == RESPONSE_ID
        or (isinstance(value, (str, dict, list)) and str(RESPONSE_ID) in str(value))
    }


async def _contact_id(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        found = await conn.execute(select(contacts.c.id).where(contacts.c.external_id == CHAT))
        return int(found.scalar_one())


@pytest.mark.parametrize("ending", ["completed", "abandoned", "expired"])
@pytest.mark.parametrize("path", ["receipt", "walk-in"])
async def test_the_response_row_holds_no_chat_and_no_minute(
    engine: AsyncEngine, path: str, ending: str
) -> None:
    receipt_id = await _prepare(engine)
    clock = SequentialClock(start=START)
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=lambda: RESPONSE_ID)
    opening: list[Inbound] = (
        [Command("start", "tok-mine")] if path == "receipt" else [Command("khaosat")]
    )
    await _send(dispatcher, [*opening, Choice("consent:yes")], "open")
    if ending == "completed":
        assert "survey.thanks" in await _answer_everything_skipped(dispatcher)
    elif ending == "abandoned":
        await _send(dispatcher, [Text("bỏ qua"), Command("huy")], "cancel")
    else:
        clock.advance(timedelta(days=8))
        assert await expire_due(dispatcher) == 1
    contact_id = await _contact_id(engine)
    async with read_transaction(engine) as conn:
        row = dict((await conn.execute(select(survey_responses))).mappings().one())
        marked = (
            await conn.execute(select(receipts.c.survey_status).where(receipts.c.id == receipt_id))
        ).scalar_one()
        state, version, updated_at = (await conn.execute(
            select(conversations.c.state, conversations.c.version, conversations.c.updated_at)
            .where(conversations.c.contact_id == contact_id))).one()  # fmt: skip
    await dispatcher.close()

    started = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
    ended = row["ended_at"]
    assert ended is not None
    assert (ended.minute, ended.second, ended.microsecond) == (0, 0, 0)
    assert ended >= started
    expected: dict[str, Any] = {
        "id": RESPONSE_ID,
        "questionnaire": row["questionnaire"],
        "status": ending,
        "with_receipt": path == "receipt",  # never which receipt
        "procedure": "1.009972" if path == "receipt" else None,
        "field": "Cấp phép xây dựng" if path == "receipt" else None,
        "started_at": started,
        "ended_at": ended,
        "completed_at": ended if ending == "completed" else None,
        "handed_over_month": None,
    }
    assert row == expected
    # The receipt knows only that it was used, not how its survey ended: "abandoned" on the
    # receipt would pair it with the one abandoned response of its procedure.
    assert marked == ("used" if path == "receipt" else None)
    assert contact_id not in (receipt_id, RESPONSE_ID)
    # The chat keeps no link to its finished survey; the id lives only in the survey tables.
    assert str(RESPONSE_ID) not in str(state)
    # Nor a count of its events (how many steps it took told which branches were skipped):
    # the version is a random number, as every chat's is (below 1,000 by chance: one in a
    # million), and the time of the last step is cut to the hour, as every chat's is
    # (tests/storage/test_conversation_rows_alike.py).
    assert version >= 1000
    assert (updated_at.minute, updated_at.second, updated_at.microsecond) == (0, 0, 0)
    assert await _holders(engine) <= {("survey_responses", "id"), ("answers", "response_id")}
    leaked = {
        (table, column, value)
        for table, column, value in await _all_values(engine)
        if table in SURVEY_TABLES and value in (CHAT, contact_id) and column != "value_int"
    }
    assert leaked == set()


async def test_deleting_ones_data_removes_the_survey_in_progress(engine: AsyncEngine) -> None:
    """/xoadulieu mid-survey: the response and its answers go; the receipt may be used again."""
    await _prepare(engine)
    clock = SequentialClock(start=START)
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=lambda: RESPONSE_ID)
    await _send(
        dispatcher,
        [Command("start", "tok-mine"), Choice("consent:yes"), Text("bỏ qua")],
        "open",
    )
    await _send(dispatcher, [Command("xoadulieu"), Choice("forget:yes")], "forget")
    await dispatcher.close()
    assert await _holders(engine) == set()
