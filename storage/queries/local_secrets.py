"""Secrets the process makes for itself on first run and keeps in the database."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import local_secrets

#: Bytes of randomness in a made secret (256 bits, as URL-safe base64: 43 characters).
SECRET_BYTES = 32


async def local_secret(conn: AsyncConnection, name: str, now: datetime) -> str:
    """The secret called ``name`` (at most 32 characters), made at random and stored the first
    time it is asked for; every later call, from any process, gets the same value."""
    await conn.execute(
        insert_ignore(conn, local_secrets, ("name",)),
        [{"name": name, "value": secrets.token_urlsafe(SECRET_BYTES), "created_at": now}],
    )
    found = await conn.execute(select(local_secrets.c.value).where(local_secrets.c.name == name))
    return str(found.scalar_one())
