"""The public results' chart is drawn off the event loop: while 8 visitors wait on
``GET /ketqua`` and the chart is being drawn, a citizen's chat message is still answered
(issue 11: 8 concurrent GET /ketqua made a /trogiup reply take 3.5 s)."""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

import jobs.chart
from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from bot.web.open311 import Open311Settings
from bot.web.results_page import results_routes
from conversations import Command, InboundEvent
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
VISITORS = 8
#: How long a chart drawn on the event loop would hold it (then the test fails, not hangs).
HELD_S = 10.0


class HeldChart:
    """The chart function, held until the test lets it go: where it runs decides whether
    anything else can run meanwhile."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = 0

    def __call__(self, *args: Any, **kwargs: Any) -> bytes:
        self.started.set()
        self.release.wait(timeout=HELD_S)
        try:
            return bytes(self.real(*args, **kwargs))
        finally:
            self.finished += 1


async def test_chat_is_answered_while_charts_are_drawn(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = Dispatcher(
        engine, DispatchSettings(), clock=SequentialClock(start=NOW), new_id=SequentialIds()
    )
    rng = random.Random(5)
    for n in range(10):  # enough surveys for the results to be published, with the chart
        await complete_survey(dispatcher, f"c{n}", rng)
    chart = HeldChart(jobs.chart.element_chart)
    monkeypatch.setattr(jobs.chart, "element_chart", chart)
    app = Starlette(routes=results_routes(engine, Open311Settings("Sở Xây dựng"), lambda: NOW))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        pages = [
            asyncio.create_task(client.get("/ketqua" + ("?lang=en" if n % 2 else "")))
            for n in range(VISITORS)
        ]
        await asyncio.to_thread(chart.started.wait, HELD_S)
        assert chart.started.is_set()
        event = InboundEvent("help-1", "test", "citizen-1", Command("trogiup"))
        (handled,) = await dispatcher.process([event])
        drawn_meanwhile = chart.finished
        chart.release.set()
        answers = await asyncio.gather(*pages)
    assert isinstance(handled, Handled)
    assert handled.messages  # the citizen was answered…
    assert drawn_meanwhile == 0  # …while the chart was still being drawn
    assert all(a.status_code == 200 for a in answers)
    assert all("data:image/png;base64," in a.text for a in answers)
