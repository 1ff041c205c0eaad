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
(:func:`rewrite_recent_traces`, only the rows a chat's transaction wrote last); the hourly job
restamps every survey row (:func:`rewrite_survey_traces`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random, SystemRandom

from sqlalchemy import (
    ColumnElement,
    Table,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..db import read_transaction, write_transaction
from ..schema import (
    answers,
    consents,
    contacts,
    conversations,
    processed_events,
    receipts,
    survey_daily,
    survey_daily_counts,
    survey_marks,
    survey_responses,
)
from ..schema_channels import web_messages, zalo_chats
from ..schema_runtime import outbox, outbox_leases
from .leases import forget_idle_leases

log = logging.getLogger("storage.rewrites")

#: How long a rewrite waits for its table's lock before it leaves that table to the next run:
#: a citizen's message waits at most this long behind a busy table, never for a long report.
LOCK_TIMEOUT = "5s"
#: The same for the rewrite an ended survey asks for (minutes apart, not hours): shorter, as
#: every message of every chat queues behind a lock being waited for on ``conversations``.
RECENT_LOCK_TIMEOUT = "1s"

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


#: Rewritten with ``VACUUM FULL`` by the restamp an ended survey asks for: the tables whose
#: old versions hold the chat next to the survey just ended (its conversation's state with the
#: answers, the replies echoing them), all small (one row per chat, or rows deleted once sent).
#: The survey tables, the consents and the sums grow with the years: left to the hourly run.
RECENT_VACUUMED: tuple[Table, ...] = (
    conversations,
    outbox,
    outbox_leases,
    web_messages,
    zalo_chats,
)

#: A restamp step: statements run in one transaction of its own.
Step = Callable[[AsyncConnection], Awaitable[None]]


def _xmin(table: Table) -> ColumnElement[object]:
    return literal_column(f"{table.name}.xmin")


def _by_a_chat(table: Table) -> ColumnElement[bool]:
    """Rows of ``table`` last written by a transaction that also wrote a chat's row: its
    ``xmin`` is that of a conversation or contact row, or of an event id (every transaction of
    the dispatcher records the ids of its events, kept ``jobs.runner.EVENT_MEMORY``, a month;
    the restamps record none)."""
    written = union_all(
        *(select(_xmin(t)).select_from(t) for t in (conversations, contacts, processed_events))
    )
    return _xmin(table).in_(written)


#: Every per-minute run (given the time) restamps all the surveys ended within this long,
#: not only those a chat's transaction wrote last: ``ended_at`` and ``decided_at`` are rounded
#: to the hour, and the hourly job restamps everything, so two hours cover every survey ended
#: since its last run. A survey whose rows a chat's later writes no longer share an ``xmin``
#: with is thus restamped again with the others, after the chats' shared ``xmin``.
RECENT_WINDOW = timedelta(hours=2)

#: Conversations not written since the oldest survey row a chat's transaction wrote, picked at
#: random and restamped with the ones that were (so the restamp's transaction id is not that
#: of exactly the chats active in the window).
CHAT_SAMPLE = 8

#: The order rows are restamped in: a new row version goes to the next free slot, so the
#: rows' physical order (``ctid``) follows it, and it must not follow who ended first.
_SYSTEM_RANDOM = SystemRandom()


@dataclass(slots=True)
class Recent:
    """The rows a chat's transaction wrote last, found before any is restamped (a restamp of
    the chats changes the ``xmin`` they are found by): ids of the ended responses, the
    consents and the used receipts; ``oldest``, the age (transactions, PostgreSQL's
    ``age(xmin)``) of the oldest of them, None when there is none."""

    responses: list[int] = field(default_factory=list)
    consents: list[int] = field(default_factory=list)
    receipts: list[int] = field(default_factory=list)
    oldest: int | None = None


async def _find_recent(conn: AsyncConnection, after: datetime | None) -> Recent:
    """Ended responses and consents a chat's transaction wrote last, and, when ``after`` is
    given, every one ended (``ended_at``, ``decided_at``) since then, whatever wrote it last;
    then the used receipts a chat's transaction wrote last or written no earlier than the
    oldest of those (the earlier runs' restamps)."""
    found = Recent()
    ages: list[int] = []

    def since(column: ColumnElement[datetime]) -> ColumnElement[bool]:
        return true() if after is None else column >= after

    queries = (
        (
            found.responses,
            survey_responses,
            survey_responses.c.status != "in_progress",
            since(survey_responses.c.ended_at),
        ),
        (
            found.consents,
            consents,
            true(),
            consents.c.contact_id.is_(None) & since(consents.c.decided_at),
        ),
    )
    for into, table, condition, recent in queries:
        picked = _by_a_chat(table) if after is None else or_(_by_a_chat(table), recent)
        rows = await conn.execute(
            select(table.c.id, func.age(_xmin(table))).where(condition, picked)
        )
        for row_id, age in rows.tuples():
            into.append(int(row_id))
            ages.append(int(age))
    used = receipts.c.survey_status.is_not(None)
    picked = _by_a_chat(receipts)
    if after is not None and ages:
        picked = or_(picked, func.age(_xmin(receipts)) <= max(ages))
    rows = await conn.execute(select(receipts.c.id, func.age(_xmin(receipts))).where(used, picked))
    for row_id, age in rows.tuples():
        found.receipts.append(int(row_id))
        ages.append(int(age))
    found.oldest = max(ages) if ages else None
    return found


#: Tables other than ``conversations`` and ``contacts`` whose rows a chat's transaction
#: writes (a reply, a lease, a Zalo chat's last message, a web chat's history, an event id),
#: with a column to update each to itself: restamped with the chats, so that no row of theirs
#: keeps one chat's transaction id between the chats' shared one and the survey rows'.
CHAT_BEARING: tuple[tuple[Table, str], ...] = (
    (outbox, "id"),
    (outbox_leases, "chat_id"),
    (zalo_chats, "chat_id"),
    (web_messages, "id"),
    (processed_events, "event_key"),
)


def _chats_since(found: Recent, rng: Random, now: datetime | None = None) -> Step:
    """Every conversation and contact row written since the oldest row of ``found`` (its
    ``age(xmin)`` no greater), with ``CHAT_SAMPLE`` other conversations at random, updated to
    themselves one by one in random order in this one transaction: all chats active in the
    window then share its ``xmin``, and the order their surveys ended in is gone from it.
    Rows a chat holds locked are skipped (``SKIP LOCKED``: a chat never waits on this); that
    chat's own transaction writes them anew, and they are looked at again next run."""

    async def restamp(conn: AsyncConnection) -> None:
        if now is not None:
            await forget_idle_leases(conn, now)
        if found.oldest is None:
            return
        within = func.age(_xmin(conversations)) <= found.oldest
        ids = await conn.execute(
            select(conversations.c.contact_id)
            .where(within)
            .with_for_update(skip_locked=True, key_share=True)
        )
        chats = [int(i) for i in ids.scalars()]
        sample = await conn.execute(
            select(conversations.c.contact_id)
            .where(~within)
            .order_by(func.random())
            .limit(CHAT_SAMPLE)
            .with_for_update(skip_locked=True, key_share=True)
        )
        chats += [int(i) for i in sample.scalars()]
        ids = await conn.execute(
            select(contacts.c.id)
            .where(func.age(_xmin(contacts)) <= found.oldest)
            .with_for_update(skip_locked=True, key_share=True)
        )
        people = [int(i) for i in ids.scalars()]
        rng.shuffle(chats)
        rng.shuffle(people)
        for chat in chats:
            await conn.execute(
                update(conversations)
                .where(conversations.c.contact_id == chat)
                .values(flow=conversations.c.flow)
            )
        for person in people:
            await conn.execute(
                update(contacts).where(contacts.c.id == person).values(stopped=contacts.c.stopped)
            )
        for table, column in CHAT_BEARING:
            await conn.execute(
                text(
                    f"UPDATE {table.name} SET {column} = {column} WHERE ctid = ANY(ARRAY("
                    f"SELECT ctid FROM {table.name} WHERE age(xmin) <= :oldest"
                    " FOR UPDATE SKIP LOCKED))"
                ),
                {"oldest": found.oldest},
            )

    return restamp


def _one_by_one(table: Table, ids: list[int], rng: Random) -> Step:
    """``ids`` of ``table`` updated to themselves one by one, in random order."""

    async def restamp(conn: AsyncConnection) -> None:
        order = list(ids)
        rng.shuffle(order)
        for row_id in order:
            await conn.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))

    return restamp


def _ended_surveys(found: Recent, since: date, rng: Random) -> Step:
    """The ended responses of ``found`` one by one in random order, each after all its answers
    (written by earlier transactions, found by the key's index, not a scan of every answer),
    then the marks and the daily sums from ``since`` on a chat's transaction wrote."""

    async def restamp(conn: AsyncConnection) -> None:
        order = list(found.responses)
        rng.shuffle(order)
        for response in order:
            await conn.execute(
                update(answers).where(answers.c.response_id == response).values(item=answers.c.item)
            )
            await conn.execute(
                update(survey_responses)
                .where(survey_responses.c.id == response)
                .values(id=survey_responses.c.id)
            )

        def picked(table: Table) -> ColumnElement[bool]:
            if found.oldest is None:
                return _by_a_chat(table)
            return or_(_by_a_chat(table), func.age(_xmin(table)) <= found.oldest)

        await conn.execute(
            update(survey_marks).where(picked(survey_marks)).values(period=survey_marks.c.period)
        )
        for table in (survey_daily, survey_daily_counts):
            await conn.execute(
                update(table).where(table.c.day >= since, picked(table)).values(count=table.c.count)
            )

    return restamp


def _every_survey_row(since: date) -> Step:
    async def restamp(conn: AsyncConnection) -> None:
        await conn.execute(update(survey_responses).values(id=survey_responses.c.id))
        await conn.execute(update(answers).values(item=answers.c.item))
        await conn.execute(update(survey_marks).values(period=survey_marks.c.period))
        for table in (survey_daily, survey_daily_counts):
            await conn.execute(
                update(table).where(table.c.day >= since).values(count=table.c.count)
            )

    return restamp


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
        found = await _find_recent(conn, None)
    return await _restamp_apart(
        engine,
        (
            _chats_since(found, _SYSTEM_RANDOM),
            _one_by_one(receipts, found.receipts, _SYSTEM_RANDOM),
            _one_by_one(consents, found.consents, _SYSTEM_RANDOM),
            _every_survey_row(since),
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
    rng = rng or _SYSTEM_RANDOM
    after = None if now is None else now - RECENT_WINDOW
    async with read_transaction(engine) as conn:
        found = await _find_recent(conn, after)
    return await _restamp_apart(
        engine,
        (
            _chats_since(found, rng, now),
            _one_by_one(receipts, found.receipts, rng),
            _one_by_one(consents, found.consents, rng),
            _ended_surveys(found, since, rng),
        ),
        RECENT_LOCK_TIMEOUT,
    )


def _lock_refused(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in ("55P03", "40P01")  # lock_not_available, deadlock_detected


def _reported(job: str, stamped: bool, result: Rewritten) -> Rewritten:
    """``result`` with ``restamp`` first among the skipped when the restamp was refused a
    lock, logged (table names and counts only) as ``job``."""
    if not stamped:
        result.skipped.insert(0, "restamp")
    log.info(
        "job=%s tables=%d skipped=%d skipped_tables=%s",
        job,
        len(result.done),
        len(result.skipped),
        ",".join(result.skipped) or "-",
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
    engine: AsyncEngine, since: date, rng: Random | None = None, now: datetime | None = None
) -> Rewritten:
    """What an ended survey asks for on PostgreSQL (the runtime, within a minute):
    :func:`restamp_recent` (daily sums from ``since`` on), then ``VACUUM FULL`` of the small
    chat tables (``RECENT_VACUUMED``, ``lock_timeout`` ``RECENT_LOCK_TIMEOUT``), so that no
    survey, consent or receipt row shares an ``xmin`` with a chat's, and the conversation's
    versions from during the survey go. Old versions in the survey tables, the consents and the sums
    stay until the hourly :func:`rewrite_survey_traces`. Logs table names and counts only.
    On SQLite nothing."""
    if engine.dialect.name == "sqlite":
        return Rewritten()
    stamped = await restamp_recent(engine, since, rng, now)
    result = await rewrite_tables(
        engine, clustered=(), vacuumed=RECENT_VACUUMED, lock_timeout=RECENT_LOCK_TIMEOUT
    )
    return _reported("restamp", stamped, result)


async def rewrite_tables(
    engine: AsyncEngine,
    *,
    clustered: Sequence[tuple[Table, str]] = CLUSTERED,
    vacuumed: Sequence[Table] = VACUUMED,
    lock_timeout: str = LOCK_TIMEOUT,
) -> Rewritten:
    """Rewrites the survey tables (``CLUSTER``, random id order) and the tables that held a
    chat next to a survey (``VACUUM FULL``) on PostgreSQL, one statement per table outside any
    transaction (VACUUM refuses one) with ``lock_timeout`` (``LOCK_TIMEOUT``): a table still
    locked then is left to the next run. ``clustered``, ``vacuumed``: the tables and how (by
    default ``CLUSTERED`` and ``VACUUMED``). On SQLite nothing
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
        await auto.exec_driver_sql(f"SET lock_timeout = '{lock_timeout}'")
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
