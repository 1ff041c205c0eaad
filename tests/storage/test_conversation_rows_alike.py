"""Every ``conversations`` row looks alike, whatever its chat did (issue 10, point 4; re-test
finding 1): the version is a random number on every write, never a count of events, and the
time of the last write is cut to the hour for everyone. Before, only the chats whose survey
had just ended got a random version and an hour-cut time, which marked exactly them among
chats counting 1–12 with times to the microsecond. Chats here end a survey by every route
(completed, cancelled, expired, deleted) among chats that only filed a complaint or only
looked a code up, interleaved; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Inbound, InboundEvent, Text
from jobs.expiry import expire_due
from storage import read_transaction
from storage.schema import contacts, conversations
from tests.storage.test_log_routes import COMPLAINT
from tests.support.clock import SequentialClock

START = datetime(2026, 3, 9, 2, 17, 41, tzinfo=UTC)  # not on the hour
SETTINGS = DispatchSettings(survey_ttl=timedelta(days=7))
OPEN: list[Inbound] = [Command("khaosat"), Choice("consent:yes"), Text("bỏ qua")]
#: chat -> its events; "completed" then skips every question and submits.
CHATS: dict[str, list[Inbound]] = {
    "completed": OPEN,
    "cancelled": [*OPEN, Command("huy")],
    "expired": OPEN,
    "deleted": [*OPEN, Command("xoadulieu"), Choice("forget:yes")],
    "complaint": COMPLAINT,
    "lookup": [Command("tracuu"), Text("ABC123")],
    "started": [Command("start")],
}
ENDED = {"completed", "cancelled", "expired", "deleted"}


async def _step(dispatcher: Dispatcher, chat: str, n: int, payload: Inbound) -> list[str]:
    (handled,) = await dispatcher.process([InboundEvent(f"{chat}-{n}", "telegram", chat, payload)])
    assert isinstance(handled, Handled)
    return [m.key for m in handled.messages]


async def _play(engine: AsyncEngine) -> dict[str, tuple[int, datetime]]:
    clock = SequentialClock(start=START, step=timedelta(seconds=7))
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock)
    for n in range(max(len(events) for events in CHATS.values())):  # interleaved
        for chat, events in CHATS.items():
            if n < len(events):
                await _step(dispatcher, chat, n, events[n])
    for n in range(200):  # the completed one skips on to the summary, then submits
        if "survey.summary" in await _step(dispatcher, "completed", 100 + n, Text("bỏ qua")):
            break
    assert "survey.thanks" in await _step(dispatcher, "completed", 999, Text("gửi phiếu"))
    clock.advance(timedelta(days=8))
    assert await expire_due(dispatcher) == 1
    await dispatcher.close()
    async with read_transaction(engine) as conn:
        rows = await conn.execute(
            select(
                contacts.c.external_id, conversations.c.version, conversations.c.updated_at
            ).join(conversations, conversations.c.contact_id == contacts.c.id)
        )
        return {str(r[0]): (int(r[1]), r[2]) for r in rows}


def _shape(version: int, updated_at: datetime) -> tuple[int, tuple[int, int, int]]:
    """What an observer sees of a row without knowing the chat: the size of the version
    (a count of events is 1–2 digits, a random one 7–10) and the time below the hour."""
    return len(str(version)), (updated_at.minute, updated_at.second, updated_at.microsecond)


async def test_ended_survey_chats_look_like_every_other_chat(engine: AsyncEngine) -> None:
    rows = await _play(engine)
    assert set(rows) == set(CHATS)
    shapes = {chat: _shape(*row) for chat, row in rows.items()}
    # Every time is on the hour, for every chat.
    assert {below for _, below in shapes.values()} == {(0, 0, 0)}
    # Every version is a random draw below 2**30 (a count would be under 1,000; a random
    # draw is, once in a million), the ended chats' as the others'.
    assert min(size for size, _ in shapes.values()) >= 4, shapes
    assert all(1 <= v <= 2**30 for v, _ in rows.values())
    # Nor does an order tell them apart: the versions are not sorted by what the chat did.
    assert len({v for v, _ in rows.values()}) == len(rows)
