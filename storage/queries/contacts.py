"""Contacts: what the jobs need to know about a chat (its language)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import contacts


async def languages(
    conn: AsyncConnection, chats: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The language each of these chats chose, for those that chose one."""
    if not chats:
        return {}
    rows = await conn.execute(
        select(contacts.c.channel, contacts.c.external_id, contacts.c.language).where(
            tuple_(contacts.c.channel, contacts.c.external_id).in_(list(chats)),
            contacts.c.language.is_not(None),
        )
    )
    return {(r[0], r[1]): r[2] for r in rows}
