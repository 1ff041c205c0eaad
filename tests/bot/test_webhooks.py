"""Both webhooks refuse odd bodies with 400 (or 403/413), never 500: the secret or the MAC
is checked before any JSON parser runs, nesting depth and size are capped, and the outer
shape is validated."""

from __future__ import annotations

import json
import logging
from typing import Any, cast

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Route
from telegram import Bot

import bot.channels.zalo_inbound as zalo_inbound
from bot.channels.telegram_inbound import TelegramInbound
from bot.channels.zalo_events import SIGNATURE_HEADER, signature
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.web.bodies import MAX_JSON_DEPTH, json_depth
from bot.web.server import SECRET_HEADER, create_app
from tests.support.clock import SequentialClock, SequentialIds

SECRET = "webhook-secret"
APP, OA, OA_SECRET = "1234567890", "2591234567890123456", "oa-secret"
DEEP = b"[" * 100_000 + b"]" * 100_000
#: Deep enough to crash a recursive parser, small enough for Zalo's body limit.
ZDEEP = b"[" * 20_000 + b"]" * 20_000
ODD = {
    "null": b"null",
    "list": b"[]",
    "number": b"42",
    "string": b'"x"',
    "deep": DEEP,
    "deep-object": b'{"update_id": 1, "a": ' * 5000 + b"1" + b"}" * 5000,
    "not-json": b"{",
    "bad-utf8": b'{"update_id": 1, "x": "\xff"}',
    "no-id": b'{"message": {}}',
    "string-id": b'{"update_id": "1"}',
    "message-string": b'{"update_id": 5, "message": "x"}',
    "message-list": b'{"update_id": 5, "message": ["x"]}',
    "callback-number": b'{"update_id": 5, "callback_query": 3}',
}


class _Recorder:
    def __init__(self) -> None:
        self.accepted: list[object] = []

    async def accept(self, raw: object) -> None:
        self.accepted.append(raw)


async def _telegram(body: bytes, secret: str = SECRET) -> tuple[int, list[object]]:
    recorder = _Recorder()
    app = create_app(
        cast(AsyncEngine, None),
        telegram=(cast(Bot, None), cast(TelegramInbound, recorder), SECRET),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.post("/telegram", content=body, headers={SECRET_HEADER: secret})
    return response.status_code, recorder.accepted


@pytest.mark.parametrize("body", list(ODD.values()), ids=list(ODD))
async def test_telegram_odd_bodies_get_400_and_never_reach_the_bot(body: bytes) -> None:
    assert await _telegram(body) == (400, [])


async def test_a_refused_update_is_logged_without_its_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"update_id": 5, "message": "Nguyen Van Hidden 0912345678"}'
    with caplog.at_level(logging.DEBUG):
        assert await _telegram(body) == (400, [])
    assert "webhook_refused" in caplog.text
    assert "Hidden" not in caplog.text
    assert "0912345678" not in caplog.text


async def test_telegram_secret_is_checked_before_the_body_is_read() -> None:
    assert await _telegram(DEEP, secret="wrong") == (403, [])


async def test_telegram_a_real_update_passes() -> None:
    update = {"update_id": 7, "message": {"message_id": 1, "text": '[{"x"]}'}}
    assert await _telegram(json.dumps(update).encode()) == (200, [update])


async def test_telegram_oversized_body_is_413() -> None:
    body = b'{"update_id": 1, "x": "' + b"a" * 1_100_000 + b'"}'
    assert (await _telegram(body))[0] == 413


def test_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{\\"]]]]", "b": [1, [2]]}') == 3
    assert json_depth(DEEP) == 100_000
    assert MAX_JSON_DEPTH < 100


async def _zalo(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds, body: bytes, mac: str | None
) -> int:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    webhook = zalo_inbound.zalo_webhook(dispatcher, APP, OA, OA_SECRET, ())
    app = Starlette(routes=[Route("/zalo", webhook, methods=["POST"])])
    headers = {} if mac is None else {SIGNATURE_HEADER: f"mac={mac}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.post("/zalo", content=body, headers=headers)
    return response.status_code


def _signed(body: bytes, stamp: str = "1767578400000") -> str:
    return signature(APP, body, stamp, OA_SECRET)


async def test_zalo_deep_json_without_a_signature_is_403_not_500(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(_raw: bytes) -> object:
        raise AssertionError("parsed before the MAC was checked")

    monkeypatch.setattr(zalo_inbound, "load_json", never)
    deep = b'{"timestamp": "1", "a": ' + ZDEEP + b"}"
    assert await _zalo(engine, clock, ids, deep, None) == 403
    assert await _zalo(engine, clock, ids, deep, "0" * 64) == 403


@pytest.mark.parametrize(
    "shape",
    [
        b'{"timestamp": "1767578400000", "x": ' + ZDEEP + b"}",
        b'[{"timestamp": "1767578400000"}]',
        b'{"timestamp": "1767578400000"}',
        b'{"timestamp": "1767578400000", "event_name": 5}',
        b'{"timestamp": "1767578400000", "event_name": "user_send_text", "message": 1, "sender": []}',
    ],
    ids=["deep", "list", "no-name", "name-not-text", "wrong-parts"],
)
async def test_zalo_signed_odd_shapes_are_400_or_200_never_500(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds, shape: bytes
) -> None:
    status = await _zalo(engine, clock, ids, shape, _signed(shape))
    assert status in (200, 400)
    assert status == 400 or b"event_name" in shape


async def test_zalo_signed_event_with_the_timestamp_as_a_number_passes(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    event: dict[str, Any] = {
        "app_id": APP,
        "event_name": "user_send_sticker",
        "timestamp": 1767578400000,  # the test clock's start: fresh
        "sender": {"id": "42"},
        "message": {"msg_id": "m1"},
    }
    body = json.dumps(event).encode()
    assert await _zalo(engine, clock, ids, body, _signed(body)) == 200
