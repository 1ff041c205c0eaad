"""The public results page: figures with the chart, nothing when too few surveys."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.web.open311 import Open311Settings
from bot.web.results_page import results_routes
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def _app(engine: AsyncEngine) -> Starlette:
    return Starlette(routes=results_routes(engine, Open311Settings("Sở Xây dựng"), lambda: NOW))


async def _get(app: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)


async def test_results_page(engine: AsyncEngine) -> None:
    app = _app(engine)
    few = await _get(app, "/ketqua")
    assert few.status_code == 200
    assert "Chưa có đủ phiếu đánh giá" in few.text
    dispatcher = Dispatcher(
        engine, DispatchSettings(), clock=SequentialClock(start=NOW), new_id=SequentialIds()
    )
    rng = random.Random(5)
    for n in range(10):
        await complete_survey(dispatcher, f"c{n}", rng)
    cached = await _get(app, "/ketqua")  # built minutes ago: served as it was, not rebuilt
    assert "Chưa có đủ phiếu đánh giá" in cached.text
    app = _app(engine)  # a new cache: as after the five minutes
    page = await _get(app, "/ketqua")
    assert "Kết quả đánh giá sự hài lòng — Sở Xây dựng" in page.text
    assert "Tiếp cận dịch vụ" in page.text  # element 1 (QĐ 1001; "… hành chính công" in 2640)
    assert "data:image/png;base64," in page.text
    english = await _get(app, "/ketqua?lang=en")
    assert "Citizen satisfaction results" in english.text
