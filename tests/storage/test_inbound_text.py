"""Text a database refuses never reaches it: both databases store the same cleaned comment."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot, Update

from bot.channels.console import parse_line
from bot.channels.telegram_updates import parse_update
from bot.channels.zalo_events import parse_event
from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, InboundEvent
from storage import read_transaction
from storage.queries.surveys import response_answers
from tests.support.clock import SequentialClock, SequentialIds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
COMMENT = "Cán bộ\x00 tận tình\x1b, cảm ơn\ud800\r\n"
STORED = "Cán bộ tận tình, cảm ơn"  # the engine strips the trailing line break


async def _to_the_comment(dispatcher: Dispatcher, channel: str, user: str) -> None:
    """Skips every question up to the free comment."""
    counter = 0

    async def send(payload: object) -> Handled:
        nonlocal counter
        counter += 1
        event = InboundEvent(f"walk-{counter}", channel, user, payload)  # type: ignore[arg-type]
        [result] = await dispatcher.process([event])
        assert isinstance(result, Handled), result
        return result

    await send(Command("khaosat"))
    handled = await send(Choice("consent:yes"))
    for _ in range(100):
        choices = [c[0] for m in handled.messages for c in m.choices]
        if "comment:skip" in choices:
            return
        skip = next((c for c in choices if c.endswith(":skip")), choices[0])
        handled = await send(Choice(skip))
    raise AssertionError("no comment question")


async def _stored_comment(engine: AsyncEngine, ids: SequentialIds) -> object:
    async with read_transaction(engine) as conn:
        return (await response_answers(conn, ids.issued[0])).get("comment")


async def test_a_telegram_comment_with_nul_is_stored_without_it(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    await _to_the_comment(dispatcher, "telegram", "7001")
    data = json.loads((FIXTURES / "text_message.json").read_text(encoding="utf-8"))
    data["message"]["text"] = COMMENT
    event = parse_update(Update.de_json(data, Bot("123:ABC")))
    assert event is not None
    [result] = await dispatcher.process([event])
    assert isinstance(result, Handled)
    assert await _stored_comment(engine, ids) == STORED


async def test_zalo_and_console_comments_with_nul_are_stored_without_it(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    await _to_the_comment(dispatcher, "zalo", "8756112331268738712")
    raw = {
        "event_name": "user_send_text",
        "sender": {"id": "8756112331268738712"},
        "message": {"text": COMMENT, "msg_id": "m-nul"},
    }
    event = parse_event(raw, "2591234567890123456")
    assert event is not None
    [result] = await dispatcher.process([event])
    assert isinstance(result, Handled)
    assert await _stored_comment(engine, ids) == STORED
    await _to_the_comment(dispatcher, "console", "local")
    payload = parse_line(COMMENT, ())
    assert payload is not None
    [result] = await dispatcher.process([InboundEvent("line-nul", "console", "local", payload)])
    assert isinstance(result, Handled)
    async with read_transaction(engine) as conn:
        assert (await response_answers(conn, ids.issued[1])).get("comment") == STORED
