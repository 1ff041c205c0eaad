"""Secrets the bot makes for itself and keeps in the database (``local_secrets``).

``survey_mark_key``: the key of the survey marks (``storage.queries.survey_marks``) when
``RECEIPT_SECRET`` is not set, made at random on first run and shared by every process on
the database, so that the one-survey-per-period rule survives a restart and holds across
processes. Why keeping it next to the marks costs no anonymity is said there.

Until issue 10's log fix, the salt of the log's chat pseudonyms was kept here too (name
``receipt_secret``): whoever held the database could recompute every pseudonym and join old
log lines to contacts. That salt now lives only in the memory of each process, is never
derived from anything stored, and the stored one is forgotten at start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import insert_ignore
from ..schema import local_secrets


async def forget_local_secret(conn: AsyncConnection, name: str) -> bool:
    """Deletes the secret called ``name``; True if there was one."""
    result = await conn.execute(delete(local_secrets).where(local_secrets.c.name == name))
    return bool(result.rowcount)


async def local_secret(
    conn: AsyncConnection, name: str, make: Callable[[], str], now: datetime
) -> str:
    """The secret called ``name``, made with ``make()`` (at most 128 characters) and stored
    when there is none yet; every caller gets the first one stored.

    Two processes starting at once: on PostgreSQL the second INSERT … ON CONFLICT DO NOTHING
    waits for the first transaction, does nothing, and the SELECT after it (a new snapshot
    at READ COMMITTED) reads the first one's value; SQLite serialises writers (BEGIN
    IMMEDIATE). Call it in a write transaction."""
    await conn.execute(
        insert_ignore(conn, local_secrets, ["name"]),
        [{"name": name, "value": make(), "created_at": now}],
    )
    found = await conn.execute(select(local_secrets.c.value).where(local_secrets.c.name == name))
    return str(found.scalar_one())
