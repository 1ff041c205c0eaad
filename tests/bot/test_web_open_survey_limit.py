"""Surveys without a receipt per web address (issue 10, point 7; ``bot.web.survey_limit``):
fresh cookies from one client address complete ``WEB_OPEN_SURVEYS_PER_ADDRESS`` of them per
period, the next is refused politely; a counter kiosk is exempt. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.web.chat import Limiters
from bot.web.guard import RateLimiter
from storage import read_transaction
from storage.schema import survey_responses
from tests.bot.test_web_chat import PIN, Web, _web

REFUSED = "Từ địa chỉ mạng này đã có đủ số phiếu khảo sát"


def _roomy() -> Limiters:
    return Limiters(
        visitor=RateLimiter(rate=1000, burst=1000), address=RateLimiter(rate=1000, burst=1000)
    )


async def _survey(web: Web, kiosk: bool) -> str:
    """A fresh visitor (a new cookie) asks for a survey without a receipt and, when it opens,
    answers every question with its first option and submits; the bot's last words."""
    web.client.cookies.clear()
    if kiosk:
        _, csrf = await web.open("/kiosk")
        assert (await web.post(csrf, {"pin": PIN}, "/kiosk/unlock")).status_code == 200
    _, csrf = await web.open("/kiosk" if kiosk else "/")
    seen = 0
    choices: list[list[object]] = []
    for n in range(100):
        if n == 0:
            body: dict[str, object] = {"text": "/khaosat"}
        else:
            pressed = [str(c[0]) for c in choices]
            done = [c for c in pressed if c.endswith(":done")]
            submit = [c for c in pressed if c == "summary:submit"]
            plain = [c for c in pressed if not c.endswith((":back", ":skip", ":done"))]
            skip = [c for c in pressed if c.endswith(":skip")]
            body = {"choice": (submit or done or plain or skip)[0]}
        await web.post(csrf, {"id": f"abcdefgh{n:02d}", **body})
        messages = [m for kind, m in await web.events(after=seen) if kind == "message"]
        seen = max([seen, *(int(str(m["id"])) for m in messages)])
        texts = [str(m.get("text", "")) for m in messages]
        choices = [list(c) for m in messages for c in m.get("choices", [])]  # type: ignore[attr-defined]
        if "summary:submit" in str(body) or REFUSED in " ".join(texts):
            return " ".join(texts)
    raise AssertionError("the survey did not end")


async def _completed(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        query = select(func.count()).where(survey_responses.c.status == "completed")
        return int((await conn.execute(query)).scalar_one())


async def test_the_fourth_fresh_cookie_from_one_address_is_refused(engine: AsyncEngine) -> None:
    async with _web(engine, _roomy()) as web:
        said = [await _survey(web, kiosk=False) for _ in range(4)]
    assert [REFUSED in s for s in said] == [False, False, False, True]
    assert "Ông/Bà" in said[3]
    assert await _completed(engine) == 3


async def test_a_kiosk_is_exempt(engine: AsyncEngine) -> None:
    async with _web(engine, _roomy()) as web:
        said = [await _survey(web, kiosk=True) for _ in range(4)]
    assert not any(REFUSED in s for s in said)
    assert await _completed(engine) == 4
