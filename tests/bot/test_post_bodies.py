"""Every route that reads a JSON body, correctly authorised, given odd bodies: a clean 4xx
with a JSON answer, never a 500 (and never an exception out of the app). The routes all read
through ``bot.web.bodies.load_json``, which caps size and nesting before any parser runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route
from telegram import Bot

import bot.channels.zalo_inbound as zalo_inbound
from bot.channels.telegram_inbound import TelegramInbound
from bot.channels.web import WebBus
from bot.channels.zalo_events import SIGNATURE_HEADER as ZALO_SIGNATURE
from bot.channels.zalo_events import signature
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.dossiers import DeskSettings, DossierDesk
from bot.web.bodies import json_depth
from bot.web.chat import WebChat, WebSettings
from bot.web.dossier_api import dossier_routes
from bot.web.guard import CSRF_HEADER
from bot.web.server import SECRET_HEADER, create_app
from conversations import default_catalog
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.dossiers import DOSSIER, KEYS, ApiClient

BASE = "https://bot.test"
SECRET = "webhook-secret"
APP, OA, OA_SECRET = "1234567890", "2591234567890123456", "oa-secret"
STAMP = "1767578400000"  # the test clock's start: a fresh Zalo event
PIN = "2468"

BODIES = {
    "null": b"null",
    "list": b"[]",
    "number": b"42",
    "string": b'"x"',
    "deep-array": b"[" * 5000 + b"]" * 5000,
    # Carries a timestamp, so that Zalo's MAC passes and the parser is reached.
    "deep-in-object": b'{"timestamp": "'
    + STAMP.encode()
    + b'", "a": '
    + b"[" * 5000
    + b"]" * 5000
    + b"}",
    "deep-objects": b'{"a": ' * 5000 + b"1" + b"}" * 5000,
    "not-json": b"{",
    "bad-utf8": b'{"x": "\xff"}',
    "oversize": b'{"timestamp": "' + STAMP.encode() + b'", "x": "' + b"a" * 2_000_000 + b'"}',
}

#: What each route may answer (413 only for the oversize body).
ALLOWED = {
    "telegram": {400},
    "zalo": {400, 403},  # 403: a body without a timestamp cannot carry Zalo's MAC
    "dossiers": {422},
    "dossier-events": {422},
    "chat-send": {422},
    "kiosk-unlock": {403},  # an unreadable body is a wrong PIN
    "kiosk-lock": {403},
}


class _Recorder:
    async def accept(self, raw: object) -> None:
        raise AssertionError("an odd body reached the bot")


@dataclass
class Routes:
    http: httpx.AsyncClient
    csrf: str
    signer: ApiClient

    def poster(self, route: str) -> Callable[[bytes], Awaitable[httpx.Response]]:
        async def post(path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
            return await self.http.post(path, content=body, headers=headers)

        events = f"/api/v1/dossiers/{DOSSIER['code']}/events"
        table: dict[str, Callable[[bytes], Awaitable[httpx.Response]]] = {
            "telegram": lambda b: post("/telegram", b, {SECRET_HEADER: SECRET}),
            "zalo": lambda b: post("/zalo", b, {ZALO_SIGNATURE: f"mac={_zalo_mac(b)}"}),
            "dossiers": lambda b: post(
                "/api/v1/dossiers", b, self.signer.sign("/api/v1/dossiers", b)
            ),
            "dossier-events": lambda b: post(events, b, self.signer.sign(events, b)),
            "chat-send": lambda b: post("/chat/send", b, {CSRF_HEADER: self.csrf}),
            "kiosk-unlock": lambda b: post("/kiosk/unlock", b, {CSRF_HEADER: self.csrf}),
            "kiosk-lock": lambda b: post("/kiosk/lock", b, {CSRF_HEADER: self.csrf}),
        }
        return table[route]


def _zalo_mac(body: bytes) -> str:
    return signature(APP, body, STAMP, OA_SECRET)


@pytest.fixture
async def routes(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> AsyncIterator[Routes]:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    desk = DossierDesk(engine, DeskSettings(), default_catalog(), clock)
    chat = WebChat(engine, dispatcher, WebBus(), WebSettings(kiosk_pin=PIN), asyncio.Event())
    zalo = zalo_inbound.zalo_webhook(dispatcher, APP, OA, OA_SECRET, ())
    extra = [
        Route("/zalo", zalo, methods=["POST"]),
        *dossier_routes(desk, KEYS, clock=lambda: clock.current.timestamp()),
        *chat.routes(),
    ]
    app = create_app(
        engine,
        telegram=(cast(Bot, None), cast(TelegramInbound, _Recorder()), SECRET),
        extra=extra,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        page = await http.get("/kiosk")
        marker = 'name="csrf-token" content="'
        start = page.text.index(marker) + len(marker)
        csrf = page.text[start : page.text.index('"', start)]
        signer = ApiClient(http, now=lambda: clock.current.timestamp())
        yield Routes(http, csrf, signer)
    await dispatcher.close()


@pytest.mark.parametrize("body", list(BODIES), ids=list(BODIES))
@pytest.mark.parametrize("route", list(ALLOWED), ids=list(ALLOWED))
async def test_odd_json_bodies_get_a_clean_4xx_on_every_route(
    routes: Routes, route: str, body: str
) -> None:
    response = await routes.poster(route)(BODIES[body])
    allowed = {413} if body == "oversize" else ALLOWED[route]
    assert response.status_code in allowed
    assert isinstance(response.json(), dict | list)


async def test_the_dossier_api_says_why_a_deep_body_is_refused(routes: Routes) -> None:
    response = await routes.poster("dossiers")(BODIES["deep-array"])
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_body"
    assert "deeper than" in response.json()["message"]


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b'{"a": "[[[[{{{{\\"]]]]", "b": [1, [2]]}', 3),
        (b'["\\\\", [[1]]]', 3),  # an escaped backslash ends before the quote
        (b'["\\n[", [1]]', 2),
        (b'"' + b'\\"' * 20_000, 0),  # an unclosed string of escaped quotes: one pass
        (b"[" * 40 + b'"' + b"]" * 40, 40),
    ],
    ids=["brackets-in-string", "escaped-backslash", "escaped-letter", "unclosed", "unclosed-deep"],
)
def test_depth_is_read_in_one_pass_whatever_the_strings(raw: bytes, depth: int) -> None:
    assert json_depth(raw) == depth


def test_a_real_dossier_body_is_shallow() -> None:
    assert json_depth(json.dumps(DOSSIER).encode()) == 1
