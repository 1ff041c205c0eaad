"""Secrets an earlier version made for itself and kept in the database.

Until issue 10's log fix, the salt of the log's chat pseudonyms was kept here (name
``receipt_secret``): whoever held the database could recompute every pseudonym and join old
log lines to contacts. The salt now lives only in the memory of each process; the stored one
is forgotten at start.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import local_secrets


async def forget_local_secret(conn: AsyncConnection, name: str) -> bool:
    """Deletes the secret called ``name``; True if there was one."""
    result = await conn.execute(delete(local_secrets).where(local_secrets.c.name == name))
    return bool(result.rowcount)
