"""Staff rooms that moved: a group named in the settings that became a supergroup."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import staff_rooms


async def moved_rooms(conn: AsyncConnection, channel: str) -> dict[str, str]:
    """Configured chat id -> the id it has now, for every room of ``channel`` that moved."""
    rows = await conn.execute(
        select(staff_rooms.c.chat_id, staff_rooms.c.current_id).where(
            staff_rooms.c.channel == channel
        )
    )
    return {str(r[0]): str(r[1]) for r in rows}


async def move_room(
    conn: AsyncConnection, channel: str, chat_id: str, current_id: str, at: datetime
) -> bool:
    """Records that the room ``chat_id`` is now ``current_id``; False when it was known."""
    result = await conn.execute(
        insert_ignore(conn, staff_rooms, ("channel", "chat_id")),
        [{"channel": channel, "chat_id": chat_id, "current_id": current_id, "moved_at": at}],
    )
    if result.rowcount:
        return True
    await conn.execute(
        update(staff_rooms)
        .where(staff_rooms.c.channel == channel, staff_rooms.c.chat_id == chat_id)
        .values(current_id=current_id)
    )
    return False


async def untold_rooms(conn: AsyncConnection) -> list[tuple[str, str, str]]:
    """(channel, configured id, current id) of moved rooms no digest has mentioned yet."""
    rows = await conn.execute(
        select(staff_rooms.c.channel, staff_rooms.c.chat_id, staff_rooms.c.current_id)
        .where(staff_rooms.c.told_at.is_(None))
        .order_by(staff_rooms.c.moved_at)
    )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


async def rooms_told(conn: AsyncConnection, rooms: list[tuple[str, str]], at: datetime) -> None:
    """Marks (channel, configured id) rooms as mentioned in a digest."""
    for channel, chat_id in rooms:
        await conn.execute(
            update(staff_rooms)
            .where(staff_rooms.c.channel == channel, staff_rooms.c.chat_id == chat_id)
            .values(told_at=at)
        )
