"""Rewrites that leave no old row version in a table's pages (PostgreSQL; issue 10, point 4).

PostgreSQL never updates a row in place: an UPDATE or DELETE leaves the old version in the
page, and (auto)VACUUM only marks its space free, the bytes stay until something is written
over them. So the pages of a table keep, for days or for ever, what its rows once held: a
conversation's state with a survey's response id and answers under the contact's row, a
consent with its contact id and exact minute, the replies of a survey to a chat id, expired
leases, pruned event ids. ``VACUUM FULL`` (and ``CLUSTER``) copy the live rows into new files
and give the old ones back to the filesystem, without the dead versions.

Every surviving version also keeps the id of the transaction that wrote it (``xmin``, plain
SQL can read it; a rewrite keeps it). A survey ends in one transaction that updates the
response, the chat's conversation, the receipt and the daily sums together, so while a chat
stays quiet afterwards its conversation row and the response share the same ``xmin``. The
survey tables are therefore first rewritten in a transaction of their own (every row updated
to itself), which gives them all one ``xmin`` that no chat row has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Table, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..db import write_transaction
from ..schema import (
    answers,
    consents,
    conversations,
    processed_events,
    survey_daily,
    survey_daily_counts,
    survey_marks,
    survey_responses,
)
from ..schema_channels import web_messages, zalo_chats
from ..schema_runtime import outbox, outbox_leases

log = logging.getLogger("storage.rewrites")

#: How long a rewrite waits for its table's lock before it leaves that table to the next run:
#: a citizen's message waits at most this long behind a busy table, never for a long report.
LOCK_TIMEOUT = "5s"

#: Rewritten with ``CLUSTER``: in the order of their random response ids (the order rows were
#: written in would follow the order people answered).
CLUSTERED: tuple[tuple[Table, str], ...] = (
    (survey_responses, "pk_survey_responses"),
    (answers, "pk_answers"),
)

#: Rewritten with ``VACUUM FULL``: their old versions hold a chat (its id, its contact id, its
#: times) next to a survey's traces (the state with the answers; the "→ answer" echoes and the
#: summary sent; the consent before it lost its contact; a lease or an event of the chat), or
#: they are the survey's daily sums, whose successive versions tell one response's answers.
#: ``zalo_chats`` keeps each chat's last message time, whose old versions give every step's.
VACUUMED: tuple[Table, ...] = (
    conversations,
    consents,
    outbox,
    outbox_leases,
    processed_events,
    web_messages,
    zalo_chats,
    survey_marks,
    survey_daily,
    survey_daily_counts,
)

#: Updated to themselves (new ``xmin``) before the rewrite. The daily sums only from this many
#: days back: older days get no new survey (a survey is summed on the day it ends).
RESTAMPED_DAYS = 2


@dataclass(slots=True)
class Rewritten:
    """Table names rewritten, and those left to the next run (lock not granted in time)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


async def _restamp(conn: AsyncConnection, since: date) -> None:
    await conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    await conn.execute(update(survey_responses).values(id=survey_responses.c.id))
    await conn.execute(update(answers).values(item=answers.c.item))
    await conn.execute(update(survey_marks).values(period=survey_marks.c.period))
    for table in (survey_daily, survey_daily_counts):
        await conn.execute(update(table).where(table.c.day >= since).values(count=table.c.count))


async def restamp_survey_rows(engine: AsyncEngine, since: date) -> bool:
    """Updates every survey row to itself in one transaction of its own (PostgreSQL), so they
    all carry its transaction id instead of the one of the transaction that ended their survey
    (which wrote the chat's conversation row too); the daily sums from ``since`` on. The old
    versions it leaves are what :func:`rewrite_tables` removes next. False when a row stayed
    locked past ``LOCK_TIMEOUT`` (nothing changed; the next run tries again)."""
    try:
        async with write_transaction(engine) as conn:
            await _restamp(conn, since)
    except DBAPIError as exc:
        if not _lock_refused(exc):
            raise
        return False
    return True


def _lock_refused(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state == "55P03"  # lock_not_available


async def rewrite_survey_traces(engine: AsyncEngine, since: date) -> Rewritten:
    """The hourly job's work on PostgreSQL: :func:`restamp_survey_rows`, then
    :func:`rewrite_tables` (``restamp`` among the skipped when the first was refused a lock).
    Logs table names and counts only. On SQLite nothing: see :func:`rewrite_tables`."""
    if engine.dialect.name == "sqlite":
        return Rewritten()
    stamped = await restamp_survey_rows(engine, since)
    result = await rewrite_tables(engine)
    if not stamped:
        result.skipped.insert(0, "restamp")
    log.info(
        "job=rewrite tables=%d skipped=%d skipped_tables=%s",
        len(result.done),
        len(result.skipped),
        ",".join(result.skipped) or "-",
    )
    return result


async def rewrite_tables(engine: AsyncEngine) -> Rewritten:
    """Rewrites the survey tables (``CLUSTER``, random id order) and the tables that held a
    chat next to a survey (``VACUUM FULL``) on PostgreSQL, one statement per table outside any
    transaction (VACUUM refuses one) with ``lock_timeout`` ``LOCK_TIMEOUT``: a table still
    locked then is left to the next run. On SQLite nothing
    (empty result): ``secure_delete`` zeroes freed cells and the log is checkpointed.

    Cost: each statement holds an ACCESS EXCLUSIVE lock on its table (no read, no write) while
    it copies the live rows and rebuilds the indexes, and needs disk for one more copy. The
    chat tables are small (replies are deleted once sent, leases after a day, event ids after
    30 days, web history after a day; one conversation row per chat), so each takes
    milliseconds to well under a second; the survey tables and the daily sums grow with the
    years (about a second per 100 MB). Old versions still needed by a transaction that was
    running when it started (a long report) are copied too, and go at the next run. Returns
    what was rewritten and what was skipped; other database errors propagate."""
    result = Rewritten()
    if engine.dialect.name == "sqlite":
        return result
    statements = [
        (table.name, f"CLUSTER {table.name} USING {index}") for table, index in CLUSTERED
    ] + [(table.name, f"VACUUM FULL {table.name}") for table in VACUUMED]
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            for name, statement in statements:
                try:
                    await auto.exec_driver_sql(statement)
                except DBAPIError as exc:
                    if not _lock_refused(exc):
                        raise
                    result.skipped.append(name)
                else:
                    result.done.append(name)
        finally:
            await auto.exec_driver_sql("RESET lock_timeout")
    return result
