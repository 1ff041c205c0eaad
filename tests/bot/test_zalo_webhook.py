"""Zalo's webhook, in process on a real database: an event the parser cannot read is
recorded, its sender told, and Zalo answered 200; only an unavailable database gets 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.routing import Route

import bot.channels.zalo_inbound as zalo_inbound
from bot.channels.zalo_events import SIGNATURE_HEADER, signature
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from storage import read_transaction
from storage.queries.outbox import pending
from storage.schema import failed_events
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
