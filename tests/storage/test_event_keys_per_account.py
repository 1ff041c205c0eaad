"""Event keys name the account an event came through (issue 10): Telegram's ``update_id``
is unique per bot, Zalo's ``msg_id`` per OA, so two bots (two OAs) on one database each
keep their own updates, though their ids be equal; and an update claimed by the release
before (``telegram:<update id>``) and delivered again after the upgrade is still dropped."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Route

import bot.channels.zalo_inbound as zalo_inbound
from bot.channels.telegram_inbound import TelegramInbound
from bot.channels.zalo_events import SIGNATURE_HEADER, signature
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from storage import read_transaction, write_transaction
from storage.queries.dialogue import claim_events
from storage.schema import contacts, processed_events
from tests.support.clock import SequentialClock, SequentialIds


class _Bot:
    def __init__(self, bot_id: int) -> None:
        self.id = bot_id
        self.username = f"bot{bot_id}"


class _Sender:
    async def answer_callback(self, _query: object) -> None:
        return None


def _update(update_id: int, chat: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": 1767578400,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "An"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def _chats(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        return int((await conn.execute(select(func.count()).select_from(contacts))).scalar_one())


async def _keys(engine: AsyncEngine) -> list[str]:
    async with read_transaction(engine) as conn:
        return list((await conn.execute(select(processed_events.c.event_key))).scalars())


async def test_two_bots_on_one_database_keep_updates_of_equal_ids(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    first = TelegramInbound(_Bot(1001), dispatcher, (), _Sender())  # type: ignore[arg-type]
    second = TelegramInbound(_Bot(2002), dispatcher, (), _Sender())  # type: ignore[arg-type]
    assert await first.accept_all([_update(900, 7301)]) == 901
    assert await second.accept_all([_update(900, 7302)]) == 901
    assert await _chats(engine) == 2  # the second bot's update 900 was no repeat
    # Each bot still drops its own update delivered again.
    assert await second.accept_all([_update(900, 7303)]) == 901
    assert await _chats(engine) == 2
    keys = await _keys(engine)
    assert len(keys) == 2
    assert not any("1001" in k or "2002" in k for k in keys)  # no part of a token
    assert all(k.startswith("telegram:") and k.endswith(":900") for k in keys)
    await dispatcher.close()


async def test_an_update_claimed_before_the_upgrade_is_still_a_repeat(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    """The release before claimed ``telegram:900`` and stopped before polling confirmed it:
    Telegram hands it out again to the new release, which drops it; a key of the old form
    older than any redelivery (a day) no longer counts, so it cannot hold back another
    bot's update for ever."""
    async with write_transaction(engine) as conn:
        await claim_events(conn, ["telegram:900"], clock())
        await claim_events(conn, ["telegram:901"], clock() - timedelta(hours=30))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    inbound = TelegramInbound(_Bot(1001), dispatcher, (), _Sender())  # type: ignore[arg-type]
    assert await inbound.accept_all([_update(900, 7301)]) == 901
    assert await _chats(engine) == 0  # a repeat: dropped
    assert await inbound.accept_all([_update(901, 7301)]) == 902
    assert await _chats(engine) == 1  # an old key of the old form: no repeat
    await dispatcher.close()


async def _post_zalo(dispatcher: Dispatcher, oa: str, user: str, msg_id: str) -> int:
    app_id, secret = "1234567890", "oa-secret"
    event = {
        "app_id": app_id,
        "event_name": "user_send_text",
        "timestamp": "1767578400000",  # the test clock's start: fresh
        "sender": {"id": user},
        "recipient": {"id": oa},
        "message": {"text": "/start", "msg_id": msg_id},
    }
    handler = zalo_inbound.zalo_webhook(dispatcher, app_id, oa, secret, ())
    app = Starlette(routes=[Route("/zalo", handler, methods=["POST"])])
    body = json.dumps(event).encode()
    mac = signature(app_id, body, str(event["timestamp"]), secret)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.post(
            "/zalo", content=body, headers={SIGNATURE_HEADER: f"mac={mac}"}
        )
    return response.status_code


async def test_two_zalo_oas_on_one_database_keep_messages_of_equal_ids(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    assert await _post_zalo(dispatcher, "2591234567890123456", "875611233126873871", "m1") == 200
    assert await _post_zalo(dispatcher, "3591234567890123456", "875611233126873872", "m1") == 200
    assert await _chats(engine) == 2
    assert await _post_zalo(dispatcher, "3591234567890123456", "875611233126873873", "m1") == 200
    assert await _chats(engine) == 2  # the same OA's message again: a repeat
    await dispatcher.close()
