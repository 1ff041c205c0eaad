"""A browser that leaves the event stream leaves nothing behind: no waiter task pending, so
no "Task was destroyed but it is pending" in the log (served by a real uvicorn)."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.channels.web import WebBus
from bot.runtime.dispatch import Dispatcher
from bot.web.chat import WebChat, WebSettings
from tests.support.clock import SequentialClock, SequentialIds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_dropped_stream_leaves_no_pending_task(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dispatcher = Dispatcher(engine, clock=SequentialClock(), new_id=SequentialIds())
    stop = asyncio.Event()
    chat = WebChat(engine, dispatcher, WebBus(), WebSettings(), stop)
    port = _free_port()
    config = uvicorn.Config(Starlette(routes=chat.routes()), port=port, log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(1000):  # uvicorn has no event for "started"
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    before = asyncio.all_tasks()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        page = await client.get("/")
        # The visitor cookie is Secure: sent by hand over this plain-HTTP test server.
        cookie = page.headers["set-cookie"].split(";", 1)[0]
        client.cookies.clear()
        for _ in range(3):
            async with client.stream("GET", "/chat/events", headers={"Cookie": cookie}) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("event: ready"):
                        break
            await asyncio.sleep(0.2)  # the stream now waits for a wake-up; then dropped
    await asyncio.sleep(0.5)
    gc.collect()
    left = [t for t in asyncio.all_tasks() - before if not t.done() and t is not serving]
    server.should_exit = True
    await serving
    await dispatcher.close()
    gc.collect()
    assert left == []
    assert not [r for r in caplog.records if "destroyed but it is pending" in r.getMessage()]
