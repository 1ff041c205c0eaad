"""Sends the one reminder a stalled survey gets, in daytime only, through the engine."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conversations import InboundEvent, TimedOut
from storage import read_transaction
from storage.queries.surveys import due_reminders

from .event_keys import process_event_id
from .ports import EventSink

#: Local hours in which citizens may be reminded: 7:00 to 21:00.
DAYTIME = (7, 21)


def is_daytime(now: datetime, tz: ZoneInfo) -> bool:
    hour = now.astimezone(tz).hour
    return DAYTIME[0] <= hour < DAYTIME[1]


async def remind_due(dispatcher: EventSink, tz: ZoneInfo, limit: int = 200) -> int:
    """Feeds ``TimedOut`` for due reminders; at night nothing is sent (they wait for 7:00)."""
    now = dispatcher.clock()
    if not is_daytime(now, tz):
        return 0
    async with read_transaction(dispatcher.engine) as conn:
        due = await due_reminders(conn, now, limit)
    if not due:
        return 0
    events = [
        InboundEvent(
            # Names neither the chat nor the deadline (``jobs.event_keys``).
            process_event_id("remind", d.channel, d.external_id, f"{d.expires_at:%Y%m%dT%H%M%S}"),
            d.channel,
            d.external_id,
            TimedOut(),
        )
        for d in due
    ]
    results = await dispatcher.process(events)
    sent = sum(1 for r in results if not isinstance(r, Exception) and r.messages)
    # No line: its time and count say that a lone citizen paused their survey midway, a
    # trace of its route (issue 10, anonymity; bot.runtime.activity).
    return sent
