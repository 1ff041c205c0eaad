"""Zalo's webhook, in process on a real database: an event the parser cannot read, or one
without the parts its kind is read by (``bot.channels.zalo_models``), is recorded, its sender
told, and Zalo answered 200; only an unavailable database gets 500."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.routing import Route

import bot.channels.zalo_inbound as zalo_inbound
import bot.runtime.failures as failures_module
from bot.channels.zalo_events import SIGNATURE_HEADER, signature
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from storage import read_transaction
from storage.queries.failed_events import failed_between
from storage.queries.outbox import pending
from storage.schema import conversations, failed_events
from tests.support.clock import SequentialClock, SequentialIds

APP, OA, SECRET = "1234567890", "2591234567890123456", "oa-secret"
USER = "8756112331268738712"


def _event(text: str, msg_id: str) -> dict[str, Any]:
    return {
        "app_id": APP,
        "event_name": "user_send_text",
        # The test clock's start (2026-01-05 02:00 UTC): fresh, not a replay.
        "timestamp": "1767578400000",
        "sender": {"id": USER},
        "recipient": {"id": OA},
        "message": {"text": text, "msg_id": msg_id},
    }


async def _post(dispatcher: Dispatcher, event: dict[str, Any]) -> int:
    app = Starlette(
        routes=[
            Route(
                "/zalo",
                zalo_inbound.zalo_webhook(dispatcher, APP, OA, SECRET, ()),
                methods=["POST"],
            )
        ]
    )
    body = json.dumps(event).encode()
    mac = signature(APP, body, str(event["timestamp"]), SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.post(
            "/zalo", content=body, headers={SIGNATURE_HEADER: f"mac={mac}"}
        )
    return response.status_code


def _unreadable(*_args: object) -> None:
    raise KeyError("a field the parser needs")


async def test_an_event_the_parser_cannot_read_is_recorded_and_answered_200(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    with monkeypatch.context() as patch:
        patch.setattr(zalo_inbound, "parse_events", _unreadable)
        assert await _post(dispatcher, _event("xin chào", "m-bad")) == 200
        assert await _post(dispatcher, _event("xin chào", "m-bad")) == 200  # Zalo retries
    async with read_transaction(engine) as conn:
        rows = (await conn.execute(select(failed_events.c.event_id, failed_events.c.error))).all()
        polite = await pending(conn, "zalo", clock(), chat_id=USER)
    assert [tuple(r) for r in rows] == [("m-bad", "KeyError")]
    assert [getattr(r.message, "key", "") for r in polite] == ["common.not_processed"]
    assert await _post(dispatcher, _event("/start", "m-next")) == 200  # and on it goes
    async with read_transaction(engine) as conn:
        replies = await pending(conn, "zalo", clock(), chat_id=USER)
    assert getattr(replies[-1].message, "key", "") == "menu.welcome"
    await dispatcher.close()


async def test_an_unavailable_database_gets_500_so_zalo_sends_it_again(
    clock: SequentialClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 9: every connection is refused. (An SQLite file that cannot be
    # opened fails in aiosqlite's thread, which may outlive the test's event loop.)
    unreachable = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:9/x")
    dispatcher = Dispatcher(unreachable, DispatchSettings(), clock=clock)
    monkeypatch.setattr(zalo_inbound, "parse_events", _unreadable)
    assert await _post(dispatcher, _event("xin chào", "m-bad")) == 500
    monkeypatch.undo()
    assert await _post(dispatcher, _event("xin chào", "m-good")) == 500
    await dispatcher.close()
    await unreachable.dispose()


def _with(event: dict[str, Any], **parts: Any) -> dict[str, Any]:
    """``event`` with its top-level ``parts`` replaced (a None part is removed)."""
    changed = {**event, **parts}
    return {k: v for k, v in changed.items() if v is not None}


_TEXT = _event("xin chào", "m-odd")
_FILE = {
    **_TEXT,
    "event_name": "user_send_file",
    "message": {"msg_id": "m-odd", "attachments": [{"type": "file", "payload": {"url": 5}}]},
}


@pytest.mark.parametrize(
    ("event", "event_id", "told"),
    [
        (_with(_TEXT, message={"text": {"a": 1}, "msg_id": "m-odd"}), "m-odd", True),
        (_with(_TEXT, message={"text": ["x"], "msg_id": "m-odd"}), "m-odd", True),
        (_with(_TEXT, message={"msg_id": "m-odd"}), "m-odd", True),
        (_with(_TEXT, message={"text": "xin chào"}), None, True),
        (_with(_TEXT, message={"text": "xin chào", "msg_id": {"a": 1}}), None, True),
        (_with(_TEXT, message="xin chào"), None, True),
        (_with(_TEXT, sender=None), "m-odd", False),
        (_with(_TEXT, sender={"id": {"a": 1}}), "m-odd", False),
        (_with(_TEXT, sender={"id": True}), "m-odd", False),
        (_with(_TEXT, event_name="user_send_image", message={"msg_id": "m-odd"}), "m-odd", True),
        (_FILE, "m-odd", True),
        (_with(_TEXT, event_name="user_send_sticker", message={"msg_id": []}), None, True),
        (_with(_TEXT, event_name="follow", follower={"id": ["x"]}, message=None, sender=None), None, False),
        # Longer than what storage keeps (``contacts.external_id``: 64): refused at the edge
        # on SQLite and PostgreSQL alike, never cut (a cut id is someone else's) nor a 500.
        (_with(_TEXT, sender={"id": "9" * 100}), "m-odd", False),
        (_with(_TEXT, sender={"id": int("9" * 100)}), "m-odd", False),
        (_with(_TEXT, sender={"id": "9" * 65}), "m-odd", False),
        (_with(_TEXT, recipient={"id": "9" * 100}), "m-odd", True),
        (_with(_TEXT, message={"text": "xin chào", "msg_id": "m" * 100}), None, True),
        (_with(_TEXT, message={"text": "xin chào", "msg_id": int("9" * 100)}), None, True),
        (_with(_FILE, message={"msg_id": "m-odd", "attachments": [
            {"type": "file", "payload": {"url": "https://f.zdn.vn/" + "a" * 3000}}]}), "m-odd", True),
        (_with(_FILE, message={"msg_id": "m-odd", "attachments": [
            {"type": "file", "payload": {"url": "https://f.zdn.vn/a", "name": "a" * 5000}}]}), "m-odd", True),
        (_with(_FILE, message={"msg_id": "m-odd", "attachments": [
            {"type": "file", "payload": {"url": "https://f.zdn.vn/a", "size": "9" * 100}}]}), "m-odd", True),
        (_with(_TEXT, event_name="user_send_image", message={"msg_id": "m-odd", "attachments": [
            {"type": "image", "payload": {"url": "https://f.zdn.vn/a"}},
            {"type": "image", "payload": {"url": "https://f.zdn.vn/" + "a" * 3000}}]}), "m-odd", True),
        (_with(_TEXT, event_name="follow", follower={"id": "9" * 100}, message=None, sender=None), None, False),
    ],
    ids=["text-object", "text-list", "no-text", "no-msg-id", "msg-id-object", "message-text",
         "no-sender", "sender-object", "sender-bool", "image-no-attachments", "file-url-number",
         "sticker-msg-id-list", "follow-id-list", "sender-100-chars", "sender-100-digits",
         "sender-65-chars", "recipient-100-chars", "msg-id-100-chars", "msg-id-100-digits",
         "file-url-3000", "file-name-5000", "file-size-100-digits", "second-image-url-3000",
         "follower-100-chars"],
)  # fmt: skip
async def test_a_malformed_event_is_recorded_its_sender_told_and_zalo_answered_200(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    event: dict[str, Any],
    event_id: str | None,
    told: bool,
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    start = clock()
    assert await _post(dispatcher, event) == 200
    async with read_transaction(engine) as conn:
        rows = (
            await conn.execute(
                select(failed_events.c.event_id, failed_events.c.stage, failed_events.c.error)
            )
        ).all()
        counted = await failed_between(conn, start, clock() + timedelta(days=1))
        sent = await pending(conn, "zalo", clock())
        contacts = (await conn.execute(select(func.count()).select_from(conversations))).scalar()
    # The id and the error class only: nothing of what the event held.
    assert [tuple(r) for r in rows] == [(event_id, "parse", "MalformedEvent")]
    assert counted == 1  # the digest's count of failed events
    assert [(r.chat_id, getattr(r.message, "key", "")) for r in sent] == (
        [(USER, "common.not_processed")] if told else []
    )
    assert contacts == 0  # the engine never saw it
    assert await _post(dispatcher, _event("/start", "m-next")) == 200  # and on it goes
    await dispatcher.close()


@pytest.mark.parametrize(
    "event",
    [
        _with(_TEXT, event_name="unfollow", follower={"id": {"a": 1}}),
        _with(_TEXT, event_name="user_seen_message", message=[1], sender=7),
        _with(_TEXT, event_name="oa_send_text", message={"text": {"a": 1}}),
    ],
    ids=["unfollow", "seen", "echo"],
)
async def test_events_the_bot_does_not_read_are_not_failures(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds, event: dict[str, Any]
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    assert await _post(dispatcher, event) == 200
    async with read_transaction(engine) as conn:
        failed = (await conn.execute(select(func.count()).select_from(failed_events))).scalar()
    assert failed == 0
    await dispatcher.close()


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (lambda: ValueError("a record the database refuses"), 200),  # settled: not sent again
        (lambda: ConnectionRefusedError(111, "Connection refused"), 500),  # sent again
    ],
    ids=["refused-record", "database-unavailable"],
)
async def test_a_malformed_event_whose_failure_cannot_be_recorded_is_answered_200(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
    refusal: Any,
    status: int,
) -> None:
    """Issue 10: the record of a malformed event failing for any other reason than an
    unavailable database answered 500, so Zalo sent the same event again, failing each
    time; it is now answered 200 (logged with the error classes only)."""

    async def refused(_conn: object, _failed: object) -> None:
        raise refusal()

    monkeypatch.setattr(failures_module, "record_failed_event", refused)
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    malformed = _with(_TEXT, message={"text": {"a": 1}, "msg_id": "m-odd"})
    assert await _post(dispatcher, malformed) == status
    await dispatcher.close()
