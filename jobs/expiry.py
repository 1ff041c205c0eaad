"""Closes surveys left untouched past their deadline by feeding ``Expired`` to the engine.

The expiry goes through the dispatcher like any other event, so it is serialised with the
citizen's own messages: a survey answered a moment ago is not closed (the engine compares the
deadline with the clock), and a job run twice closes nothing twice (the event id is the chat and
the deadline hashed with a key of this process, so ``processed_events`` keeps neither; see
``jobs.event_keys``).
"""

from __future__ import annotations

import logging

from conversations import Expired, InboundEvent
from storage import read_transaction
from storage.queries.surveys import due_expiries

from .event_keys import process_event_id
from .ports import EventSink

log = logging.getLogger("jobs.expiry")


async def expire_due(dispatcher: EventSink, limit: int = 500) -> int:
    """Sends an ``Expired`` event for every survey past its deadline; returns how many closed."""
    async with read_transaction(dispatcher.engine) as conn:
        due = await due_expiries(conn, dispatcher.clock(), limit)
    if not due:
        return 0
    events = [
        InboundEvent(
            process_event_id("expire", d.channel, d.external_id, d.expires_at.isoformat()),
            d.channel,
            d.external_id,
            Expired(),
        )
        for d in due
    ]
    results = await dispatcher.process(events)
    closed = sum(
        1 for r in results if not isinstance(r, Exception) and not r.duplicate and r.messages
    )
    failed = sum(1 for r in results if isinstance(r, Exception))
    # No line when all went well: its time and counts say that a lone citizen's survey was
    # left unsubmitted, which is how it ended (issue 10, anonymity; bot.runtime.activity).
    if failed:
        log.warning("job=expiry error=failed")
    return closed
