"""An event that always fails is recorded once and answered; the events behind it go on.
An unavailable database is not the event's fault: the event stays for redelivery."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import exc as sa
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import bot.runtime.dispatch as dispatch
import bot.runtime.failures as failures_module
from bot.channels.telegram_inbound import TelegramInbound
from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled, event_key
from bot.runtime.failures import Failures, claim_key
from conversations import Choice, Command, InboundEvent, Text, default_catalog
from storage import WriteSet, read_transaction
from storage import flush as flush_writes
from storage.outbound import encode
from storage.queries.failed_events import recent_failures
from storage.queries.outbox import pending
from storage.schema import failed_events, processed_events
from tests.storage.test_inbound_text import _to_the_comment
from tests.support.clock import SequentialClock, SequentialIds

Flush = Callable[[AsyncConnection, WriteSet], Awaitable[None]]


def _event(n: str, payload: object, user: str) -> InboundEvent:
    return InboundEvent(n, "test", user, payload)  # type: ignore[arg-type]


def _poison_for(user: str, error: Callable[[], Exception], times: int = 10**6) -> Flush:
    """A flush that fails ``times`` times for any batch answering ``user``."""
    real: Flush = flush_writes
    left = [times]

    async def flush(conn: AsyncConnection, writes: WriteSet) -> None:
        if left[0] > 0 and any(row["chat_id"] == user for row in writes.outbox):
            left[0] -= 1
            raise error()
        await real(conn, writes)

    return flush


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with read_transaction(engine) as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _outbox(engine: AsyncEngine, chat: str) -> list[dict[str, Any]]:
    async with read_transaction(engine) as conn:
        rows = await pending(conn, "test", dispatch.utc_now(), chat_id=chat, limit=100)
    return [encode(r.message)[0] for r in rows]


def test_failures_claim_the_dispatcher_s_key() -> None:
    event = _event("10042", Text("x"), "u")
    assert claim_key(event.channel, event.event_id) == event_key(event)


async def test_an_event_that_always_fails_is_recorded_once_and_the_next_are_answered(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dispatch, "flush", _poison_for("poison", lambda: ValueError("bug")))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    woken: list[int] = []
    dispatcher.on_outbox("test", lambda: woken.append(1))
    # In one batch, as a burst of updates: the poison first, then someone else.
    batch = [_event("p1", Command("start"), "poison"), _event("n1", Command("start"), "next")]
    failed, answered = await dispatcher.process(batch)
    assert isinstance(failed, Handled)
    assert not failed.duplicate
    assert [m.key for m in failed.messages] == ["common.not_processed"]
    assert isinstance(answered, Handled)
    assert [m.key for m in answered.messages] == ["menu.welcome"]
    [row] = await _failures(engine)
    assert (row.channel, row.event_id, row.stage, row.error, row.answered) == (
        "test", "p1", "process", "ValueError", True,
    )  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{8}", row.ref)
    [polite] = await _outbox(engine, "poison")
    assert f"mã tham chiếu {row.ref}" in str(polite["text"])
    assert woken  # the sender is woken for the polite message too
    # Delivered again (a webhook retry, a restart before the offset moved): dropped.
    [again] = await dispatcher.process([_event("p1", Command("start"), "poison")])
    assert isinstance(again, Handled)
    assert again.duplicate
    assert await _count(engine, failed_events) == 1
    # Through the queue as the channels use it: the future resolves, nothing raises.
    later = await dispatcher.submit(_event("n2", Command("trogiup"), "next"))
    assert later.messages
    await dispatcher.close()


async def _failures(engine: AsyncEngine) -> list[Any]:
    async with read_transaction(engine) as conn:
        return await recent_failures(conn)


def _past_the_cleaning(real: Flush) -> Flush:
    """The batch's typed answers as a fault upstream would let them through: with a lone
    surrogate, which the engine now cleans itself (issue 13) and which neither database can
    store. The write then fails inside the real driver, not in a test double."""

    async def flush(conn: AsyncConnection, writes: WriteSet) -> None:
        for key, value in list(writes.answers.items()):
            if isinstance(value, str):
                writes.answers[key] = value + "\ud800"
        await real(conn, writes)

    return flush


async def test_a_comment_no_database_can_store_fails_once_and_blocks_nobody(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A comment that reaches the database as a value it refuses (a lone surrogate) fails on
    both databases, in the driver itself: the real kind of poison, recorded once, answered
    politely, and the next chat in the same batch is answered."""
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    await _to_the_comment(dispatcher, "test", "u1")
    monkeypatch.setattr(dispatch, "flush", _past_the_cleaning(flush_writes))
    results = await dispatcher.process(
        [_event("c1", Text("tốt"), "u1"), _event("c2", Command("start"), "u2")]
    )
    assert [r.messages[0].key for r in results if isinstance(r, Handled)] == [
        "common.not_processed",
        "menu.welcome",
    ]
    [row] = await _failures(engine)
    assert row.event_id == "c1"
    assert "UnicodeEncodeError" in row.error  # SQLite: as is; PostgreSQL: DBAPIError(…)
    # The citizen goes on: the same question is still open, and a clean comment is taken.
    monkeypatch.undo()
    [ok] = await dispatcher.process([_event("c3", Text("tốt"), "u1")])
    assert isinstance(ok, Handled)
    assert ok.messages[0].key != "common.not_processed"


@pytest.mark.parametrize(
    "error",
    [
        lambda: sa.OperationalError(
            "INSERT", {}, Exception("server closed the connection"), connection_invalidated=True
        ),
        lambda: ConnectionRefusedError(111, "Connection refused"),
        lambda: sa.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked")),
    ],
    ids=["connection-invalidated", "connection-refused", "sqlite-locked"],
)
async def test_an_unavailable_database_leaves_the_event_for_redelivery(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
    error: Callable[[], Exception],
) -> None:
    monkeypatch.setattr(dispatch, "flush", _poison_for("u1", error))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    [result] = await dispatcher.process([_event("e1", Command("start"), "u1")])
    assert isinstance(result, Exception)
    assert await _count(engine, failed_events) == 0
    assert await _count(engine, processed_events) == 0  # not claimed: it will come again
    assert await _outbox(engine, "u1") == []
    monkeypatch.undo()  # the database is back; the redelivered event is handled
    [result] = await dispatcher.process([_event("e1", Command("start"), "u1")])
    assert isinstance(result, Handled)
    assert not result.duplicate
    assert [m.key for m in result.messages] == ["menu.welcome"]


async def test_a_failure_that_passes_on_the_second_try_is_no_failure(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A race (a tracking code drawn twice, a receipt used meanwhile) fails once."""
    duplicate_code = sa.IntegrityError("INSERT", {}, Exception("duplicate key"))
    monkeypatch.setattr(dispatch, "flush", _poison_for("u1", lambda: duplicate_code, times=1))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    [result] = await dispatcher.process([_event("e1", Choice("x"), "u1")])
    assert isinstance(result, Handled)
    assert result.messages[0].key != "common.not_processed"
    assert await _count(engine, failed_events) == 0


async def test_the_polite_message_is_in_the_chat_s_language(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    await dispatcher.process([_event("l1", Command("ngonngu"), "u1")])
    await dispatcher.process([_event("l2", Choice("lang:en"), "u1")])
    failures = Failures(engine, default_catalog(), "vi", clock)
    settled = await failures.record("test", "x1", TypeError("bad"), chat_id="u1", stage="parse")
    assert settled.messages[0].text.startswith("Sorry, we could not process this message")
    # Without a chat (nothing readable), the failure is recorded and nobody is told.
    settled = await failures.record("test", None, TypeError("bad"), chat_id=None, stage="parse")
    assert settled == type(settled)(duplicate=False)
    rows = await _failures(engine)
    assert [(r.event_id, r.stage, r.answered) for r in rows] == [
        (None, "parse", False),
        ("x1", "parse", True),
    ]


async def _refused_record(_conn: AsyncConnection, _failed: object) -> None:
    raise ValueError("a record the database refuses")


async def test_an_event_whose_failure_cannot_be_recorded_is_still_confirmed(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 10: the record of a failed event failing too (for any reason but an unavailable
    database) left the event unconfirmed, so it came again for ever, failing each time. It
    is now handled (confirmed, nothing sent), and logged with the error classes only."""
    monkeypatch.setattr(dispatch, "flush", _poison_for("u1", lambda: ValueError("bug")))
    monkeypatch.setattr(failures_module, "record_failed_event", _refused_record)
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    secret = "số nhà 12 ngõ 5"
    with caplog.at_level("ERROR", logger="bot.failures"):
        result = await dispatcher.submit(_event("e1", Text(secret), "u1"))
    assert isinstance(result, Handled)
    assert (result.duplicate, result.messages) == (False, ())
    [line] = [r.getMessage() for r in caplog.records if "failure_not_recorded" in r.getMessage()]
    assert "error=ValueError cause=ValueError confirmed=yes" in line
    assert secret not in caplog.text
    assert "u1" not in line
    # The events behind it go on.
    answered = await dispatcher.submit(_event("e2", Command("start"), "u2"))
    assert [m.key for m in answered.messages] == ["menu.welcome"]
    await dispatcher.close()


async def test_a_failure_record_the_unavailable_database_refuses_leaves_the_event_unconfirmed(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unavailable(_conn: AsyncConnection, _failed: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(dispatch, "flush", _poison_for("u1", lambda: ValueError("bug")))
    monkeypatch.setattr(failures_module, "record_failed_event", unavailable)
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    [result] = await dispatcher.process([_event("e1", Command("start"), "u1")])
    assert isinstance(result, Exception)  # comes again once the database is back


class _Bot:
    id = 42
    username = "sipas_bot"


class _Sender:
    async def answer_callback(self, _query: object) -> None:
        return None


@pytest.mark.parametrize(
    ("refusal", "offset"),
    [
        (lambda: ValueError("a record the database refuses"), 901),  # confirmed
        (lambda: ConnectionRefusedError(111, "Connection refused"), 900),  # comes again
    ],
    ids=["refused-record", "database-unavailable"],
)
async def test_an_unreadable_telegram_update_whose_failure_cannot_be_recorded_is_confirmed(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    refusal: Callable[[], Exception],
    offset: int,
) -> None:
    """The same at the parse stage: polling confirms the update (the offset moves past it)
    unless the database is unavailable."""

    async def refused(_conn: AsyncConnection, _failed: object) -> None:
        raise refusal()

    monkeypatch.setattr(failures_module, "record_failed_event", refused)
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    inbound = TelegramInbound(_Bot(), dispatcher, (), _Sender())  # type: ignore[arg-type]
    unreadable = {"update_id": 900, "message": {"message_id": 5, "chat": "số nhà 12"}}
    with caplog.at_level("ERROR"):
        assert await inbound.accept_all([unreadable]) == offset
    assert "số nhà" not in caplog.text
    # Nor the update id: sequential per bot, the gap between two failed ones counts events.
    assert not [r for r in caplog.records if re.search(r"\b900\b", r.getMessage())]
    await dispatcher.close()
