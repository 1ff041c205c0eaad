"""The web chat's own rows: messages delivered to visitors' browsers, and their uploads.

A visitor's page reads its messages after the last id it has shown, so a reload, a lost
connection or a restart of the bot loses nothing: the outbox hands a message to the web
channel, which appends it here; the page fetches it whenever it (re)connects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import contacts, conversations, web_messages, web_uploads


@dataclass(frozen=True, slots=True)
class WebMessage:
    """One delivered message: its id (the page's cursor), its JSON body, whether it has
    bytes (a picture, fetched apart by id)."""

    id: int
    body: dict[str, Any]
    has_data: bool


@dataclass(frozen=True, slots=True)
class Upload:
    token: str
    name: str
    mime: str
    size: int
    data: bytes


async def append_message(
    conn: AsyncConnection,
    chat_id: str,
    body: dict[str, Any],
    now: datetime,
    data: bytes | None = None,
) -> int:
    """Appends a message for a visitor; returns its id, or 0 for an edit (``kind`` "edit",
    ``target`` a message id) of a message no longer kept: that one was deleted when the
    survey it belonged to ended, and the edit would bring its answer back under the chat."""
    if body.get("kind") == "edit":
        kept = await conn.execute(
            select(web_messages.c.id).where(
                web_messages.c.id == int(body["target"]), web_messages.c.chat_id == chat_id
            )
        )
        if kept.first() is None:
            return 0
    # To the hour (enough to purge by): the exact time of the closing thanks would tell when
    # the visitor's survey ended, once its other messages are gone.
    hour = now.replace(minute=0, second=0, microsecond=0)
    found = await conn.execute(
        web_messages.insert()
        .values(chat_id=chat_id, payload=body, data=data, created_at=hour)
        .returning(web_messages.c.id)
    )
    return int(found.scalar_one())


async def messages_after(
    conn: AsyncConnection, chat_id: str, after: int, limit: int = 100
) -> list[WebMessage]:
    """The visitor's messages with an id above ``after``, oldest first (at most ``limit``:
    with ``after`` 0, the newest ``limit``)."""
    stmt = select(
        web_messages.c.id,
        web_messages.c.payload,
        web_messages.c.data.is_not(None).label("has_data"),
    ).where(web_messages.c.chat_id == chat_id, web_messages.c.id > after)
    if after <= 0:
        newest = await conn.execute(stmt.order_by(web_messages.c.id.desc()).limit(limit))
        rows = list(reversed(list(newest)))
    else:
        rows = list(await conn.execute(stmt.order_by(web_messages.c.id).limit(limit)))
    return [WebMessage(int(r.id), dict(r.payload), bool(r.has_data)) for r in rows]


async def message(conn: AsyncConnection, chat_id: str, message_id: int) -> WebMessage | None:
    """One of the visitor's messages (None when it is not theirs or no longer kept)."""
    row = (
        await conn.execute(
            select(
                web_messages.c.id,
                web_messages.c.payload,
                web_messages.c.data.is_not(None).label("has_data"),
            ).where(web_messages.c.id == message_id, web_messages.c.chat_id == chat_id)
        )
    ).first()
    return None if row is None else WebMessage(int(row.id), dict(row.payload), bool(row.has_data))


async def message_data(conn: AsyncConnection, chat_id: str, message_id: int) -> bytes | None:
    """The bytes of one of the visitor's pictures."""
    found = await conn.execute(
        select(web_messages.c.data).where(
            web_messages.c.id == message_id, web_messages.c.chat_id == chat_id
        )
    )
    data = found.scalar_one_or_none()
    return None if data is None else bytes(data)


async def forget_messages(conn: AsyncConnection, chat_id: str) -> int:
    """Drops what a visitor was sent (a kiosk handing the tablet to the next citizen)."""
    result = await conn.execute(delete(web_messages).where(web_messages.c.chat_id == chat_id))
    return int(result.rowcount or 0)


async def save_upload(
    conn: AsyncConnection,
    token: str,
    chat_id: str,
    name: str,
    mime: str,
    data: bytes,
    now: datetime,
) -> None:
    await conn.execute(
        web_uploads.insert().values(
            token=token,
            chat_id=chat_id,
            name=name,
            mime=mime,
            size=len(data),
            data=data,
            created_at=now,
        )
    )


async def upload(conn: AsyncConnection, token: str) -> Upload | None:
    """An upload by its token (the channel file id the complaint recorded)."""
    row = (
        await conn.execute(
            select(
                web_uploads.c.token,
                web_uploads.c.name,
                web_uploads.c.mime,
                web_uploads.c.size,
                web_uploads.c.data,
            ).where(web_uploads.c.token == token)
        )
    ).first()
    if row is None:
        return None
    return Upload(row.token, row.name, row.mime, int(row.size), bytes(row.data))


async def purge(conn: AsyncConnection, messages_before: datetime, uploads_before: datetime) -> int:
    """Drops delivered messages and uploads older than these moments; returns rows dropped."""
    gone = await conn.execute(
        delete(web_messages).where(web_messages.c.created_at < messages_before)
    )
    dropped = await conn.execute(
        delete(web_uploads).where(web_uploads.c.created_at < uploads_before)
    )
    return int(gone.rowcount or 0) + int(dropped.rowcount or 0)


async def in_a_flow(conn: AsyncConnection, channel: str, external_id: str) -> bool:
    """Whether the contact's conversation is inside a task (a survey, a complaint…) rather
    than at the menu. The web channel says so to a kiosk, which resets once a task ends."""
    found = await conn.execute(
        select(func.count())
        .select_from(contacts.join(conversations, conversations.c.contact_id == contacts.c.id))
        .where(
            contacts.c.channel == channel,
            contacts.c.external_id == external_id,
            conversations.c.flow.is_not(None),
        )
    )
    return int(found.scalar_one()) > 0
