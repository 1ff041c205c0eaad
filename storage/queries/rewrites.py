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
response, the chat's conversation, its consent, the receipt and the daily sums together, so
while a chat stays quiet afterwards its conversation row, the response, the consent and the
receipt share the same ``xmin``. Those rows are therefore written again (each updated to
itself) in transactions of their own, which touch no chat row: the survey rows in one, the
consents in another, the receipts in a third (a receipt stamped together with its response
would pair them again). After an ended survey the runtime asks for that within a minute
(:func:`rewrite_recent_traces`, only the rows a chat's transaction wrote last), and then
rewrites the survey tables without their old versions (those carry the chat's transaction id,
the order surveys ended in and ``ctid`` chains from old to new); the hourly job restamps every
survey row (:func:`rewrite_survey_traces`). Rows are restamped one by one in random order and
the survey tables rewritten with ``CLUSTER`` (key order), never in the order they lay in: an
update puts the new version at the next free place and ``VACUUM FULL`` keeps the order, so a
table's ``ctid`` order would stay the order the surveys ended in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from random import Random

from sqlalchemy import Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..db import read_transaction, write_transaction
from ..schema import (
    answers,
    consents,
    conversations,
    dossier_answer_days,
    dossiers,
    processed_events,
    receipts,
    survey_daily,
    survey_daily_counts,
    survey_marks,
    survey_responses,
)
from ..schema_channels import web_messages, zalo_chats
from ..schema_runtime import outbox, outbox_leases
from .restamp_rows import (
    RECENT_WINDOW,
    SYSTEM_RANDOM,
    Step,
    chats_since,
    ended_invitations,
    ended_surveys,
    every_survey_row,
    find_recent,
    one_by_one,
)

log = logging.getLogger("storage.rewrites")

#: How long a rewrite waits for its table's lock before it leaves that table to the next run:
#: a citizen's message waits at most this long behind a busy table, never for a long report.
LOCK_TIMEOUT = "5s"
#: The same for the rewrite an ended survey asks for (minutes apart, not hours): shorter, as
#: every message of every chat queues behind a lock being waited for on ``conversations``.
RECENT_LOCK_TIMEOUT = "1s"

#: Rewritten with ``CLUSTER``, in the order of their primary key: the rows a survey's end
#: creates or moves, which otherwise lie in the order the surveys ended (an update puts the
#: new version at the next free place, ``VACUUM FULL`` keeps the order rows lie in). The key
#: says nothing of that order: the random response id; the mark, a keyed hash; a sum's
#: content (day, item, value, procedure…); the id a consent, a receipt or a dossier got when
#: it was made, before its survey began (the row shows it anyway).
CLUSTERED: tuple[tuple[Table, str], ...] = (
    (survey_responses, "pk_survey_responses"),
    (answers, "pk_answers"),
    (survey_marks, "pk_survey_marks"),
    (survey_daily, "pk_survey_daily"),
    (survey_daily_counts, "pk_survey_daily_counts"),
    (dossier_answer_days, "pk_dossier_answer_days"),
    (consents, "pk_consents"),
    (receipts, "pk_receipts"),
    (dossiers, "pk_dossiers"),
)

#: Rewritten with ``VACUUM FULL``: their old versions hold a chat (its id, its contact id, its
#: times) next to a survey's traces (the state with the answers; the "→ answer" echoes and the
#: summary sent; a lease or an event of the chat). ``zalo_chats`` keeps each chat's last
#: message time, whose old versions give every step's. (The consents, the marks and the
#: sums, whose old versions tell as much, are in ``CLUSTERED``: the copy drops old versions
#: too, and does not keep the order rows lie in.)
VACUUMED: tuple[Table, ...] = (
    conversations,
    outbox,
    outbox_leases,
    processed_events,
    web_messages,
    zalo_chats,
)

#: Updated to themselves (new ``xmin``) before the rewrite. The daily sums only from this many
#: days back: older days get no new survey (a survey is summed on the day it ends).
RESTAMPED_DAYS = 2


@dataclass(slots=True)
class Rewritten:
    """Table names rewritten, and those left to the next run (lock not granted in time)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: Seconds each rewritten table's statement took: how long it held its table's lock.
    seconds: dict[str, float] = field(default_factory=dict)
    #: Left to the hourly run as too large to rewrite every minute (``max_bytes``).
    deferred: list[str] = field(default_factory=list)
    #: A transaction older than the restamp was still open when the rewrite began: the old
    #: versions it may still read were copied too (:func:`rewrite_recent_traces`).
    held_back: bool = False


#: Rewritten with ``VACUUM FULL`` by the restamp an ended survey asks for, after the
#: ``CLUSTER`` of the survey tables (``CLUSTERED``: the responses, answers, consents,
#: receipts, marks, sums and dossiers, whose old versions carry the chat's transaction id and
#: whose rows would otherwise lie in the order the surveys ended in): the small chat tables,
#: whose old versions hold the chat next to the survey just ended (its conversation's state
#: with the answers, the replies echoing them). Not ``contacts`` nor ``processed_events``:
#: their old versions are a chat's and the rewrite leaves no survey row version to share
#: their ``xmin`` (the hourly run rewrites ``processed_events``).
RECENT_VACUUMED: tuple[Table, ...] = (
    conversations,
    outbox,
    outbox_leases,
    web_messages,
    zalo_chats,
)

#: The survey tables the per-minute run rewrites, the one size each may have for it (table,
#: TOAST and indexes, ``pg_total_relation_size``): a larger one is left to the hourly run
#: (:attr:`Rewritten.deferred`), its old versions with it. The rewrite holds the table's
#: exclusive lock 35 to 100 ms per MB on a 2-core server (``bench/restamp_cost.py``: the
#: answers of 20,000 surveys, 36 MB, 1.6 to 2.7 s; of 100,000, 170 MB, 5.9 to 16.1 s), and a
#: citizen answering waits that long: 8 MB keep it under about 0.8 s. The chat tables
#: (``RECENT_CHAT_TABLES``) are always rewritten.
RECENT_MAX_BYTES = 8 * 1024 * 1024

#: The small chat tables: rewritten whatever their size.
RECENT_CHAT_TABLES: tuple[Table, ...] = RECENT_VACUUMED

#: How long the per-minute run waits, after restamping, for the transactions that were open
#: before its last step committed (a rewrite copies the old versions such a transaction may
#: still read, ``ctid`` chains included). Past it the run rewrites all the same and asks for
#: another run a minute on (:attr:`Rewritten.held_back`).
HORIZON_WAIT_S = 5.0


async def _restamp_apart(
    engine: AsyncEngine, steps: Sequence[Step], lock_timeout: str = LOCK_TIMEOUT
) -> bool:
    """Runs each step in a transaction of its own, with ``lock_timeout`` (``LOCK_TIMEOUT``).
    False when one was refused a lock (or chosen as a deadlock's victim: the hourly run and an
    ended survey's may restamp together); that step changed nothing, the others went on."""
    done = True
    for step in steps:
        try:
            async with write_transaction(engine) as conn:
                await conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
                await step(conn)
        except DBAPIError as exc:
            if not _lock_refused(exc):
                raise
            done = False
    return done


async def restamp_survey_rows(engine: AsyncEngine, since: date) -> bool:
    """Updates rows to themselves (PostgreSQL), so that they carry the id of a transaction
    that wrote no chat row instead of the one that ended their survey (which wrote the chat's
    conversation too): the chats written since the oldest survey row a chat's transaction
    wrote (as :func:`restamp_recent`), the receipts and the consents such a transaction wrote
    last, one by one in random order, each group in a transaction of its own, then every
    survey row (the daily sums from ``since`` on; their order is then reset by the
    ``CLUSTER`` that follows). The old versions it leaves are what :func:`rewrite_tables`
    removes next. False when a step was refused a lock (the next run tries again)."""
    async with read_transaction(engine) as conn:
        found = await find_recent(conn, None)
    return await _restamp_apart(
        engine,
        (
            chats_since(found, SYSTEM_RANDOM),
            one_by_one(receipts, found.receipts, SYSTEM_RANDOM),
            ended_invitations(found, SYSTEM_RANDOM),
            one_by_one(consents, found.consents, SYSTEM_RANDOM),
            every_survey_row(since),
        ),
    )


async def restamp_recent(
    engine: AsyncEngine, since: date, rng: Random | None = None, now: datetime | None = None
) -> bool:
    """:func:`restamp_survey_rows` for the surveys a chat's transaction wrote last only (ended
    ones; a survey in progress is found through its chat anyway), in four transactions, in
    this order: every conversation and contact row written since the oldest of them, with a
    few other conversations at random (one ``xmin`` for all chats active in the window, so
    the chats' ``xmin`` no longer give the order the surveys ended in); their receipts; their
    consents; their responses with all their answers, marks and daily sums (from ``since``
    on). Each row is updated on its own, in an order drawn from ``rng`` (default: the
    system's randomness), so that the new versions' places (``ctid``) do not follow the end
    order either. Every survey row's new ``xmin`` thus comes right after the chats' shared
    one, not after one chat's. Cost: a scan of the receipts, consents, responses, marks and
    the recent sums, comparing ``xmin`` with those of the chats and the month's event ids
    (no index can serve it: tens of milliseconds per 100,000 rows), a scan of the chat
    tables by ``age(xmin)``, and one statement per row found (tens, a minute's surveys).
    PostgreSQL only."""
    rng = rng or SYSTEM_RANDOM
    after = None if now is None else now - RECENT_WINDOW
    async with read_transaction(engine) as conn:
        found = await find_recent(conn, after)
    return await _restamp_apart(
        engine,
        (
            chats_since(found, rng, now),
            one_by_one(receipts, found.receipts, rng),
            ended_invitations(found, rng),
            one_by_one(consents, found.consents, rng),
            ended_surveys(found, since, rng),
        ),
        RECENT_LOCK_TIMEOUT,
    )


def _lock_refused(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in ("55P03", "40P01")  # lock_not_available, deadlock_detected


def _reported(job: str, stamped: bool, result: Rewritten, logged: bool = True) -> Rewritten:
    """``result`` with ``restamp`` first among the skipped when the restamp was refused a
    lock, logged (table names and counts only) as ``job`` when ``logged``."""
    if not stamped:
        result.skipped.insert(0, "restamp")
    if not logged:
        return result
    longest = max(result.seconds.items(), key=lambda kv: kv[1], default=("-", 0.0))
    log.info(
        "job=%s tables=%d skipped=%d skipped_tables=%s deferred_tables=%s held_back=%s "
        "longest_lock=%s:%.3fs",
        job,
        len(result.done),
        len(result.skipped),
        ",".join(result.skipped) or "-",
        ",".join(result.deferred) or "-",
        result.held_back,
        *longest,
    )
    return result


async def rewrite_survey_traces(engine: AsyncEngine, since: date) -> Rewritten:
    """The hourly job's work on PostgreSQL: :func:`restamp_survey_rows`, then
    :func:`rewrite_tables` (``restamp`` among the skipped when the first was refused a lock).
    Logs table names and counts only. On SQLite nothing: see :func:`rewrite_tables`."""
    if engine.dialect.name == "sqlite":
        return Rewritten()
    stamped = await restamp_survey_rows(engine, since)
    result = await rewrite_tables(engine)
    return _reported("rewrite", stamped, result)


async def rewrite_recent_traces(
    engine: AsyncEngine,
    since: date,
    rng: Random | None = None,
    now: datetime | None = None,
    max_bytes: int | None = RECENT_MAX_BYTES,
) -> Rewritten:
    """What an ended survey asks for on PostgreSQL (the runtime, within a minute):
    :func:`restamp_recent` (daily sums from ``since`` on); then, once the transactions open
    before its last step have ended (``HORIZON_WAIT_S`` at most), a rewrite without their old
    versions (``lock_timeout`` ``RECENT_LOCK_TIMEOUT``) of the survey tables (``CLUSTER``,
    key order, ``CLUSTERED``) and of the small chat tables (``VACUUM FULL``,
    ``RECENT_VACUUMED``). So no survey, consent or receipt row shares an
    ``xmin`` with a chat's, and no page keeps a version written by the chat's transaction,
    the order the surveys ended in or a ``ctid`` chain from it; a survey table larger than
    ``max_bytes`` (``RECENT_MAX_BYTES``; None: no limit) is left to the hourly run
    (``deferred``), as its lock would hold answers up too long. ``skipped`` names what was
    refused a lock and ``held_back`` says an older transaction was still open: the caller
    runs again (:class:`jobs.restamp.SurveyRestamp`). Writes no log line (see below). On
    SQLite nothing."""
    if engine.dialect.name == "sqlite":
        return Rewritten()
    stamped = await restamp_recent(engine, since, rng, now)
    held_back = not await until_older_transactions_end(engine, HORIZON_WAIT_S)
    result = await rewrite_tables(
        engine,
        vacuumed=RECENT_VACUUMED,
        lock_timeout=RECENT_LOCK_TIMEOUT,
        max_bytes=max_bytes,
        unlimited=RECENT_CHAT_TABLES,
    )
    result.held_back = held_back
    # No line: this runs only after a survey ended (at once, then a minute on), so its line
    # would give the log's reader a lone survey's end to the second (issue 10). Its failures
    # are logged by the job; a table skipped or deferred is left to the hourly run, logged.
    return _reported("restamp", stamped, result, logged=False)


async def until_older_transactions_end(engine: AsyncEngine, wait_s: float) -> bool:
    """Waits (``wait_s`` at most) until no session of the server has a transaction or a
    snapshot older than the ids assigned so far (``pg_current_snapshot``'s ``xmax``): a
    rewrite that starts then can drop every version deleted before. True when that came,
    False when one stayed open (a long report, a backup: the rewrite then copies the old
    versions it may still read). Sessions of other roles whose ``backend_xmin`` the role may
    not see are not waited for (the next run rewrites again). In other databases of the
    server only open transactions count (their ids bound every snapshot's ``xmin``), not
    their snapshots: PostgreSQL keeps a table's old versions for the snapshots of its own
    database's sessions only (``ComputeXidHorizons``, procarray.c)."""
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        horizon = await auto.exec_driver_sql(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint % 4294967296"
        )
        xid = int(horizon.scalar_one())
        deadline = time.monotonic() + wait_s
        while True:
            older = await auto.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                    "AND (age(backend_xid) > age(CAST(:x AS xid)) "
                    "OR ((datname = current_database() OR datname IS NULL) "
                    "AND age(backend_xmin) > age(CAST(:x AS xid))))"
                ),
                {"x": xid},
            )
            if older.scalar_one() == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)


async def rewrite_tables(
    engine: AsyncEngine,
    *,
    clustered: Sequence[tuple[Table, str]] = CLUSTERED,
    vacuumed: Sequence[Table] = VACUUMED,
    lock_timeout: str = LOCK_TIMEOUT,
    max_bytes: int | None = None,
    unlimited: Sequence[Table] = (),
) -> Rewritten:
    """Rewrites the survey tables (``CLUSTER``, key order) and the tables that held a
    chat next to a survey (``VACUUM FULL``) on PostgreSQL, one statement per table outside any
    transaction (VACUUM refuses one) with ``lock_timeout`` (``LOCK_TIMEOUT``): a table still
    locked then is left to the next run. ``clustered``, ``vacuumed``: the tables and how (by
    default ``CLUSTERED`` and ``VACUUMED``); with ``max_bytes``, a table larger (with its
    TOAST and indexes) is left out (``deferred``) unless it is one of ``unlimited``. Each
    statement's time is in ``seconds``. On SQLite nothing
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
        (table.name, f"CLUSTER {table.name} USING {index}") for table, index in clustered
    ] + [(table.name, f"VACUUM FULL {table.name}") for table in vacuumed]
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if max_bytes is not None:
            free = {table.name for table in unlimited}
            for name, _ in list(statements):
                size = await auto.execute(
                    text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": name}
                )
                if name not in free and size.scalar_one() > max_bytes:
                    result.deferred.append(name)
            statements = [(n, s) for n, s in statements if n not in result.deferred]
        await auto.exec_driver_sql(f"SET lock_timeout = '{lock_timeout}'")
        try:
            for name, statement in statements:
                started = time.perf_counter()
                try:
                    await auto.exec_driver_sql(statement)
                except DBAPIError as exc:
                    if not _lock_refused(exc):
                        raise
                    result.skipped.append(name)
                else:
                    result.done.append(name)
                    result.seconds[name] = time.perf_counter() - started
        finally:
            await auto.exec_driver_sql("RESET lock_timeout")
    return result
