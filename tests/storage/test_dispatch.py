"""The dispatcher on a real database: duplicates, concurrency, batching, anonymity, expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, InboundEvent, Text
from jobs.expiry import expire_due
from storage import read_transaction, versions
from storage.queries.outbox import pending
from storage.queries.surveys import count_responses, response_answers
from storage.schema import consents, contacts, conversations, outbox, survey_responses
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.db import Database

# The walks below follow the 2640 form (the 1001 form is walked in tests/transcripts).
SETTINGS = DispatchSettings(survey_ttl=timedelta(days=7), survey_method="sipas-2640")
TO_FIRST_RATING = [
    Command("khaosat"),
    Choice("consent:yes"),
    Choice("info:done"),
    Choice("trips:1"),
    Choice("timing:ontime"),
]


def _event(n: int | str, payload: object, user: str = "u1") -> InboundEvent:
    return InboundEvent(str(n), "test", user, payload)  # type: ignore[arg-type]


def interleaved_walks(*users: str) -> list[InboundEvent]:
    """One batch in which each of ``users`` consents, starts a survey and answers the first
    rating, the chats' events interleaved as they arrive under load."""
    walk = [*TO_FIRST_RATING, Choice("1.1:5")]
    return [
        _event(f"{user}-{n}", payload, user) for n, payload in enumerate(walk) for user in users
    ]


async def _walk(dispatcher: Dispatcher, user: str, payloads: list[object], start: int = 0) -> None:
    for i, payload in enumerate(payloads, start=start):
        result = (await dispatcher.process([_event(f"{user}-{i}", payload, user)]))[0]
        assert isinstance(result, Handled)


async def test_two_concurrent_events_for_one_contact_are_serialised(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    await _walk(dispatcher, "u1", TO_FIRST_RATING)
    # Two answers sent at the same moment (a double tap on two buttons): both are applied,
    # in order, the second to the question the first one led to.
    first, second = await asyncio.gather(
        dispatcher.submit(_event("a", Choice("1.1:4"))),
        dispatcher.submit(_event("b", Choice("1.2:5"))),
    )
    assert [m.key for m in first.messages] == ["survey.criterion"]
    assert [m.key for m in second.messages] == ["survey.criterion"]
    async with read_transaction(engine) as conn:
        assert await response_answers(conn, ids.issued[0]) == {
            "trips": "1", "timing": "ontime", "1.1": 4, "1.2": 5,
        }  # fmt: skip
        step = (await conn.execute(select(conversations.c.step))).scalar_one()
    assert step == "1.3"
    await dispatcher.close()


async def test_two_processes_on_one_database_lose_no_update(
    database: Database,
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two dispatchers with their own engines, as two bot processes would be. Versions are
    random in the bot (``storage.versions``); here each write adds one, so the last version
    counts the writes that landed: one lost would leave it short."""
    monkeypatch.setattr(versions, "next_version", lambda previous: previous + 1)
    other_engine = database.open()
    one = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    two = Dispatcher(other_engine, SETTINGS, clock=clock, new_id=ids)
    await _walk(one, "u1", TO_FIRST_RATING)
    results = await asyncio.gather(
        one.submit(_event("x1", Choice("1.1:3"))),
        two.submit(_event("x2", Text("quay lại"))),
        one.submit(_event("x3", Text("5"))),
    )
    assert all(not r.duplicate and r.messages for r in results)
    async with read_transaction(engine) as conn:
        version = (await conn.execute(select(conversations.c.version))).scalar_one()
    assert version == 1 + len(TO_FIRST_RATING) + 3  # 1 on creation
    await one.close()
    await two.close()
    await other_engine.dispose()


async def test_redelivered_event_in_same_batch_and_later_is_answered_once(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    results = await dispatcher.process([_event(1, Command("start")), _event(1, Command("start"))])
    assert [r.duplicate for r in results if isinstance(r, Handled)] == [False, True]
    again = await dispatcher.process([_event(1, Command("start"))])
    assert isinstance(again[0], Handled)
    assert again[0].duplicate
    async with read_transaction(engine) as conn:
        queued = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    assert queued == 1


async def test_a_batch_of_many_contacts_matches_one_by_one(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    users = [f"c{i}" for i in range(30)]
    batch = [
        _event(f"{u}-{n}", payload, u) for n, payload in enumerate(TO_FIRST_RATING) for u in users
    ]
    results = await dispatcher.process(batch)
    assert all(isinstance(r, Handled) and not r.duplicate for r in results)
    async with read_transaction(engine) as conn:
        steps = (await conn.execute(select(conversations.c.step))).scalars().all()
        assert await count_responses(conn) == {"in_progress": 30}
        queued = await pending(conn, "test", clock(), chat_id="c7")
    assert set(steps) == {"1.1"}
    assert [getattr(r.message, "key", r.message.kind) for r in queued] == [
        "survey.consent", "survey.question.multi", "survey.question", "survey.question",
        "survey.criterion",
    ]  # fmt: skip


async def test_a_completed_response_is_unlinked_from_the_chat(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    await _walk(dispatcher, "u1", TO_FIRST_RATING)
    await _walk(
        dispatcher,
        "u1",
        [Command("huy")],
        start=len(TO_FIRST_RATING),
    )
    rid = ids.issued[0]
    async with read_transaction(engine) as conn:
        states = (await conn.execute(select(conversations.c.state))).scalars().all()
        row = (await conn.execute(select(survey_responses))).one()
    assert all(str(rid) not in str(s) for s in states)
    assert row.status == "abandoned"
    # Times are kept to the hour, so they cannot be matched with a chat's message times.
    assert row.started_at.minute == 0
    assert row.started_at.second == 0
    assert row.ended_at is not None
    assert row.ended_at.minute == 0


async def test_expiry_job_closes_untouched_surveys_once(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    await _walk(dispatcher, "idle", TO_FIRST_RATING)
    clock.advance(timedelta(days=3))
    await _walk(dispatcher, "busy", TO_FIRST_RATING)
    assert await expire_due(dispatcher) == 0
    clock.advance(timedelta(days=5))  # idle: 8 days untouched; busy: 5 days
    assert await expire_due(dispatcher) == 1
    assert await expire_due(dispatcher) == 0
    async with read_transaction(engine) as conn:
        assert await count_responses(conn) == {"expired": 1, "in_progress": 1}
        told = await pending(conn, "test", clock(), chat_id="idle")
    assert getattr(told[-1].message, "key", None) == "survey.expired"
    await dispatcher.close()


async def test_forget_deletes_consents_and_the_survey_in_progress_only(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    done = [*TO_FIRST_RATING, Choice("1.1:5")]
    await _walk(dispatcher, "u1", [*done, Command("huy")])  # an abandoned survey: anonymous now
    await _walk(dispatcher, "u1", TO_FIRST_RATING, start=100)  # a survey in progress
    await _walk(dispatcher, "u1", [Command("xoadulieu"), Choice("forget:yes")], start=200)
    async with read_transaction(engine) as conn:
        assert await count_responses(conn) == {"abandoned": 1}
        assert await response_answers(conn, ids.issued[0]) != {}
        left = (await conn.execute(select(consents.c.contact_id, consents.c.decided_at))).all()
        language = (await conn.execute(select(contacts.c.language))).scalar_one()
    # The consent of the ended survey was emptied of the chat when it ended (nothing of it
    # leads to u1 any more); the one of the survey in progress went with the deletion.
    assert [(contact, at.minute) for contact, at in left] == [(None, 0)]
    assert language is None
