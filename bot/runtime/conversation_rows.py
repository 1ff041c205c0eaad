"""A stored conversation row and the engine's ``ConversationState``, both ways: the state an
event meets, the row written back, and the row the next event of the same batch sees.

Split from ``bot.runtime.dispatch`` (which applies events in order): only the conversion.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from conversations import ConversationState
from conversations.daily_counts import joined, split_stored
from storage import WriteSet
from storage.queries.dialogue import ConversationRow


def state_of(row: ConversationRow, default_language: str) -> ConversationState:
    """The stored row as the engine's state (its language, or ``default_language``)."""
    data, daily = split_stored(row.state)
    return ConversationState(
        language=row.language or default_language,
        flow=row.flow,
        step=row.step,
        data=data,
        expires_at=row.expires_at,
        remind_at=row.remind_at,
        daily=daily,
    )


def save_state(
    row: ConversationRow, new: ConversationState, writes: WriteSet, now: datetime
) -> None:
    """Queues ``new`` to be written over ``row`` (UTC ``now``); a stopped contact that writes
    again is unstopped (they unblocked the bot)."""
    writes.save_conversation(
        row.contact_id,
        row.version,
        new.flow,
        new.step,
        joined(new.data, new.daily),
        new.expires_at,
        now,
        remind_at=new.remind_at,
    )
    if row.stopped:
        writes.unstop(row.contact_id)


def advanced(row: ConversationRow, new: ConversationState) -> ConversationRow:
    """The row as the next event of this contact in the same batch must see it."""
    return replace(
        row,
        language=new.language,
        flow=new.flow,
        step=new.step,
        state=joined(new.data, new.daily),
        expires_at=new.expires_at,
        remind_at=new.remind_at,
        version=row.version + 1,
        notice_question=None,  # read by this event (its save clears it)
    )
