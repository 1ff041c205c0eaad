"""A complaint's notice that went otherwise than the officer who acted was told (Zalo refused
it after they read "the sender has been told"; a ZNS send failed after "told by template"):
the correction, kept in the case's history and sent to that officer's chat (issue 15)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..outbound import TextMessage, encode
from ..schema import complaint_events, complaints, outbox

#: Who the history names for it: the channel that found out, not an officer.
ACTOR = "zalo"


async def record_correction(
    conn: AsyncConnection, code: str, staff: tuple[str, str], text: str, key: str, now: datetime
) -> bool:
    """Writes ``text`` (catalog ``key``, rendered) into the history of complaint ``code`` as
    an internal note (never shown to its sender) and queues it to ``staff`` (channel, chat
    id). False, and nothing written, when there is no such complaint."""
    found = (
        await conn.execute(
            select(complaints.c.id, complaints.c.status).where(complaints.c.code == code)
        )
    ).first()
    if found is None:
        return False
    status = str(found[1])
    await conn.execute(
        complaint_events.insert().values(
            complaint_id=int(found[0]),
            at=now,
            actor=ACTOR,
            from_status=status,
            to_status=status,
            note=text,
            public=False,
            actor_name="Zalo",
        )
    )
    body, _ = encode(TextMessage(text, key=key))
    channel, chat_id = staff
    await conn.execute(
        outbox.insert().values(
            channel=channel,
            chat_id=chat_id,
            payload=body,
            status="pending",
            attempts=0,
            created_at=now,
            priority=0,
        )
    )
    return True
