"""Case cards shown in staff rooms: remembered by case, so each is redrawn when it changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import staff_cards

#: Cards kept per case, the newest: an old card further up the room is left as it was.
CARDS_PER_CASE = 5


async def remember_card(
    conn: AsyncConnection, channel: str, chat_id: str, message_id: str, code: str, at: datetime
) -> None:
    """The card of case ``code`` is message ``message_id`` in the room ``chat_id``."""
    await conn.execute(
        insert_ignore(conn, staff_cards, ("channel", "chat_id", "message_id")),
        [
            {
                "channel": channel[:16],
                "chat_id": chat_id[:64],
                "message_id": message_id[:32],
                "code": code[:20],
                "shown_at": at,
            }
        ],
    )


async def cards_of(
    conn: AsyncConnection, codes: Iterable[str]
) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Case code -> its cards in staff rooms as (channel, room, message id), newest first."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(
            staff_cards.c.code,
            staff_cards.c.channel,
            staff_cards.c.chat_id,
            staff_cards.c.message_id,
        )
        .where(staff_cards.c.code.in_(wanted))
        .order_by(staff_cards.c.shown_at.desc(), staff_cards.c.message_id.desc())
    )
    found: dict[str, list[tuple[str, str, str]]] = {}
    for code, channel, chat_id, message_id in rows:
        shown = found.setdefault(str(code), [])
        if len(shown) < CARDS_PER_CASE:
            shown.append((str(channel), str(chat_id), str(message_id)))
    return {code: tuple(cards) for code, cards in found.items()}
