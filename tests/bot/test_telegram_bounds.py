"""Telegram updates on a real database (SQLite, and PostgreSQL with TEST_POSTGRES_URL): an
update whose ids or strings pass what Telegram sends and storage keeps (a 100-digit chat id,
callback data past 64 characters …) is a failed update, the same on both databases: recorded
with its id and error class only, its chat told only when its id is one Telegram could have,
never passed to the engine, and never an error that leaves it unconfirmed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.telegram_inbound import TelegramInbound
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from storage import read_transaction
from storage.queries.failed_events import failed_between
from storage.queries.outbox import pending
from storage.schema import conversations, failed_events
from tests.support.clock import SequentialClock, SequentialIds

CHAT = 7301
HUGE = int("9" * 100)


def _message(**changed: Any) -> dict[str, Any]:
    message = {
        "message_id": 5,
        "date": 1767578400,
        "chat": {"id": CHAT, "type": "private"},
        "from": {"id": CHAT, "is_bot": False, "first_name": "An"},
        "text": "xin chào",
    }
    return {**message, **changed}


def _update(**parts: Any) -> dict[str, Any]:
    return {"update_id": 900, **parts}


def _query(**changed: Any) -> dict[str, Any]:
    query = {
        "id": "q1",
        "from": {"id": CHAT, "is_bot": False, "first_name": "An"},
        "chat_instance": "ci",
        "message": _message(text="Câu hỏi"),
        "data": "1.1:5",
    }
    return {**query, **changed}


class _Bot:
    """The bot as updates are parsed with it: its own id and name, no network."""

    id = 42
    username = "sipas_bot"


class _Sender:
    async def answer_callback(self, _query: object) -> None:
        return None


_PHOTO = {"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 90}


@pytest.mark.parametrize(
    ("update", "event_id", "told"),
    [
        (_update(message=_message(chat={"id": HUGE, "type": "private"})), "900", False),
        (_update(message=_message(chat={"id": -(2**63) - 1, "type": "private"})), "900", False),
        (_update(message=_message(**{"from": {"id": HUGE, "is_bot": False, "first_name": "An"}})),
         "900", True),
        (_update(message=_message(message_id=HUGE)), "900", True),
        (_update(edited_message=_message(message_id=HUGE)), "900", True),
        (_update(message=_message(text=None, photo=[{**_PHOTO, "file_id": "A" * 3000}])), "900",
         True),
        (_update(message=_message(text=None, photo=[{**_PHOTO, "file_unique_id": "A" * 100}])),
         "900", True),
        (_update(message=_message(text=None, photo=[_PHOTO], media_group_id="1" * 100)), "900",
         True),
        (_update(message=_message(text=None, document={**_PHOTO, "file_name": "a" * 5000})),
         "900", True),
        (_update(message=_message(text=None, document={**_PHOTO, "file_size": HUGE})), "900",
         True),
        (_update(message=_message(**{"from": {"id": CHAT, "is_bot": False,
                                             "first_name": "A" * 5000}})), "900", True),
        (_update(message=_message(reply_to_message=_message(message_id=HUGE))), "900", True),
        (_update(callback_query=_query(data="1" * 65)), "900", True),
        (_update(callback_query=_query(message=_message(chat={"id": HUGE, "type": "private"}))),
         "900", False),
        (_update(callback_query=_query(**{"from": {"id": HUGE, "is_bot": False,
                                                   "first_name": "An"}})), "900", True),
        ({**_update(message=_message()), "update_id": HUGE}, None, True),
    ],
    ids=["chat-id-100-digits", "chat-id-past-64-bits", "from-id-100-digits",
         "message-id-100-digits", "edited-message-id", "file-id-3000", "file-unique-id-100",
         "media-group-id-100", "file-name-5000", "file-size-100-digits", "first-name-5000",
         "reply-message-id", "callback-data-65", "callback-chat-id", "callback-from-id",
         "update-id-100-digits"],
)  # fmt: skip
async def test_an_update_past_the_bounds_is_a_failed_update_on_either_database(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    update: dict[str, Any],
    event_id: str | None,
    told: bool,
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    inbound = TelegramInbound(_Bot(), dispatcher, (), _Sender())  # type: ignore[arg-type]
    start = clock()
    await inbound.accept(update)  # raises only when the update must come again
    async with read_transaction(engine) as conn:
        rows = (
            await conn.execute(
                select(failed_events.c.event_id, failed_events.c.stage, failed_events.c.error)
            )
        ).all()
        counted = await failed_between(conn, start, clock() + timedelta(days=1))
        sent = await pending(conn, "telegram", clock())
        chats = (await conn.execute(select(func.count()).select_from(conversations))).scalar()
    # The id and the error class only: nothing of what the update held.
    assert [tuple(r) for r in rows] == [(event_id, "parse", "MalformedUpdate")]
    assert counted == 1
    assert [(r.chat_id, getattr(r.message, "key", "")) for r in sent] == (
        [(str(CHAT), "common.not_processed")] if told else []
    )
    assert chats == 0  # the engine never saw it
    await dispatcher.close()
