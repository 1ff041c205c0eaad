"""``python -m bot dossiers demo``: the whole path, from the slip to the invitation, shown.

Without ``--url`` it runs in this terminal: the dossier API is served on a free local port
(same code and database as the bot), a dossier is registered and its events are posted to it
over HTTP, signed like a one-stop system would; a console citizen follows the dossier and what
it is told is printed after each event. The invitation at the end is left waiting for the
console, so ``python -m bot console --user dossier-demo`` opens it (type 1 to rate).

With ``--url`` it posts to a running bot (``DOSSIER_API_KEYS`` names the client): three
dossiers are registered, their slip links printed, and their events posted, ``--pause``
seconds apart, so a newcomer can follow on Telegram (or on the fake Bot API in tests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import socket
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx

from bot.config import Settings
from bot.web.dossier_auth import signed_headers

#: Each demo dossier's events, in order (the first one goes through the whole path).
STORIES: Sequence[Sequence[dict[str, Any]]] = (
    (
        {"kind": "needs_documents", "missing": ["Bản vẽ thiết kế có chữ ký của chủ đầu tư",
                                                "Giấy tờ chứng minh quyền sử dụng đất"]},
        {"kind": "processing"},
        {"kind": "late", "new_due_offset": 21, "reason": "Chờ ý kiến thẩm định"},
        {"kind": "result_ready"},
        {"kind": "handed_over"},
    ),
    ({"kind": "processing"}, {"kind": "result_ready"}, {"kind": "handed_over"}),
    ({"kind": "withdrawn"},),
)  # fmt: skip


class Poster:
    """A one-stop system in miniature: signed JSON posts to the dossier API."""

    def __init__(self, http: httpx.AsyncClient, client: str, secret: str) -> None:
        self.http, self.client, self.secret = http, client, secret
        self.sent = 0

    async def post(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        self.sent += 1
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = signed_headers(self.client, self.secret, "POST", path, body, time.time())
        return await self.http.post(path, content=body, headers=headers)


def _dossier(code: str, today: Any, n: int) -> dict[str, Any]:
    return {
        "code": code,
        "procedure": "1.009972",
        "field": "Cấp phép xây dựng",
        "received_on": today.isoformat(),
        "due_on": (today + timedelta(days=14 + n)).isoformat(),
    }


def _event(story: dict[str, Any], event_id: str, today: Any) -> dict[str, Any]:
    body = {k: v for k, v in story.items() if k != "new_due_offset"}
    if "new_due_offset" in story:
        body["new_due_on"] = (today + timedelta(days=story["new_due_offset"])).isoformat()
    return {"event_id": event_id, **body}


def _say(text: str) -> None:
    print(text, flush=True)


async def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    if args.url:
        return await _remote(args, settings)
    return await _console(args, settings)


async def _remote(args: argparse.Namespace, settings: Settings) -> int:
    clients = settings.dossier_clients
    client = args.client or next(iter(clients), None)
    if client is None or client not in clients:
        print("Đặt DOSSIER_API_KEYS (hoặc --client) / set DOSSIER_API_KEYS", file=sys.stderr)
        return 2
    today = time.localtime()
    stamp = time.strftime("%Y%m%d%H%M%S", today)
    from datetime import date

    day = date(today.tm_year, today.tm_mon, today.tm_mday)
    async with httpx.AsyncClient(
        base_url=args.url.rstrip("/"), timeout=30, trust_env=False
    ) as http:
        poster = Poster(http, client, clients[client])
        codes = []
        for n in range(len(STORIES)):
            code = f"DEMO-{stamp}-{n + 1}"
            answer = await poster.post("/api/v1/dossiers", _dossier(code, day, n))
            if answer.status_code >= 300:
                print(f"{answer.status_code} {answer.text}", file=sys.stderr)
                return 1
            body = answer.json()
            codes.append(code)
            _say(f"{code}\t{body['telegram_link'] or body['start']}")
        if sys.stdin.isatty():
            prompt = "Mở liên kết, đồng ý, rồi nhấn Enter / open a link, agree, press Enter "
            await asyncio.to_thread(input, prompt)
        for n, (code, story) in enumerate(zip(codes, STORIES, strict=True)):
            for k, step in enumerate(story):
                await asyncio.sleep(args.pause)
                path = f"/api/v1/dossiers/{code}/events"
                answer = await poster.post(path, _event(step, f"demo-{stamp}-{n}-{k}", day))
                _say(f"{code}\t{step['kind']}\t{answer.status_code}\t{answer.text}")
                if answer.status_code >= 300:
                    return 1
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from starlette.applications import Starlette

    from bot.channels.console import CHANNEL, render
    from bot.runtime.build import build_runtime, desk_settings
    from bot.runtime.dispatch import utc_now
    from bot.runtime.dossiers import DossierDesk
    from bot.web.dossier_api import Links, dossier_routes
    from conversations import Choice, Command, InboundEvent, default_catalog
    from storage import read_transaction, write_transaction
    from storage.outbound import EditMessage, TextMessage
    from storage.queries.outbox import mark_sent, pending

    runtime = await build_runtime(settings)
    catalog = default_catalog()
    desk = DossierDesk(runtime.engine, desk_settings(settings), catalog, utc_now)
    client, secret = "demo", secrets.token_hex(16)
    port = _free_port()
    app = Starlette(routes=dossier_routes(desk, {client: secret}, Links(None, None)))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    user = args.user[:64]
    counter = 0

    async def show(keep_last: bool = False) -> list[tuple[str, str]]:
        """Prints what the console citizen was sent; returns the last choices shown."""
        async with read_transaction(runtime.engine) as conn:
            rows = await pending(conn, CHANNEL, utc_now(), chat_id=user, limit=100)
        if keep_last and rows:
            rows = rows[:-1]  # left for `python -m bot console` to show, with its button
        choices: list[tuple[str, str]] = []
        for row in rows:
            if isinstance(row.message, TextMessage | EditMessage):
                _say("    " + render(row.message).replace("\n", "\n    "))
                choices = list(row.message.choices) or choices
        async with write_transaction(runtime.engine) as conn:
            await mark_sent(conn, [r.id for r in rows], utc_now())
        return choices

    async def citizen(payload: Any, said: str) -> list[tuple[str, str]]:
        nonlocal counter
        counter += 1
        _say(f"\n[{user}] {said}")
        event = InboundEvent(f"demo-{time.time_ns()}-{counter}", CHANNEL, user, payload)
        await runtime.dispatcher.process([event])
        return await show()

    try:
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        today = utc_now().astimezone(settings.zone).date()
        code = f"DEMO-{utc_now().astimezone(settings.zone):%Y%m%d%H%M%S}"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            poster = Poster(http, client, secret)
            _say(f"[một cửa / one-stop] POST /api/v1/dossiers {code}")
            answer = await poster.post("/api/v1/dossiers", _dossier(code, today, 0))
            _say(f"    {answer.status_code} {answer.text}")
            start = answer.json()["start"]
            choices = await citizen(Command("start", start), f"/start {start}")
            agree = next((cid for cid, _ in choices if cid.endswith(":yes")), None)
            if agree is None:
                return 1
            await citizen(Choice(agree), "1")
            for k, step in enumerate(STORIES[0]):
                last = k == len(STORIES[0]) - 1
                path = f"/api/v1/dossiers/{code}/events"
                _say(f"\n[một cửa / one-stop] POST {path} {step['kind']}")
                answer = await poster.post(path, _event(step, f"{code}-{k}", today))
                _say(f"    {answer.status_code} {answer.text}")
                await show(keep_last=last)
                await asyncio.sleep(args.pause)
        console = f"python -m bot console --user {user}"
        _say(f"\nLời mời đánh giá đang chờ / the invitation waits for: {console} (gõ / type 1)")
        return 0
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        await runtime.close()
