"""Secrets older versions made for themselves and kept in the database (``local_secrets``);
today's bot only reads them once, to move or forget them, and stores none.

``survey_mark_key``: the key of the survey marks (``storage.queries.survey_marks``) when
``RECEIPT_SECRET`` is not set. Kept next to the marks, it let whoever held a dump recompute
every chat's mark; it now lives in ``RECEIPT_SECRET_FILE`` (``bot.runtime.secret_file``),
and a stored one is moved there at start (so the period's marks still match), then deleted.

Until issue 10's log fix, the salt of the log's chat pseudonyms was kept here too (name
``receipt_secret``): whoever held the database could recompute every pseudonym and join old
log lines to contacts. That salt now lives only in the memory of each process, is never
derived from anything stored, and the stored one is forgotten at start.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import local_secrets


async def forget_local_secret(conn: AsyncConnection, name: str) -> bool:
    """Deletes the secret called ``name``; True if there was one."""
    result = await conn.execute(delete(local_secrets).where(local_secrets.c.name == name))
    return bool(result.rowcount)


async def stored_local_secret(conn: AsyncConnection, name: str) -> str | None:
    """The secret called ``name``, or None when none is stored."""
    found = await conn.execute(select(local_secrets.c.value).where(local_secrets.c.name == name))
    value = found.scalar_one_or_none()
    return None if value is None else str(value)
