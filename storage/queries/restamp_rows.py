"""Which rows a restamp writes again, and how (PostgreSQL; issue 10, point 4): the steps
:mod:`storage.queries.rewrites` runs each in a transaction of its own. The chats written in
the window get one shared ``xmin``; receipts, consents and survey rows are updated to
themselves one by one in random order, so neither their ``xmin`` nor their place
(``ctid``) follows the order surveys ended in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random, SystemRandom

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import (
    answers,
    consents,
    contacts,
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
from ..schema_dossiers import INVITE_ENDED
from ..schema_runtime import outbox, outbox_leases
from .leases import forget_idle_leases

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
SYSTEM_RANDOM = SystemRandom()


@dataclass(slots=True)
class Recent:
    """The rows a chat's transaction wrote last, found before any is restamped (a restamp of
    the chats changes the ``xmin`` they are found by): ids of the ended responses, the
    consents and the used receipts; ``oldest``, the age (transactions, PostgreSQL's
    ``age(xmin)``) of the oldest of them when found, None when there is none, and
    ``oldest_xid``, its ``xmin``: ages grow with every transaction of the server, so the
    steps that run later compare with the age of that id then (:func:`no_older`), not with
    ``oldest`` (which would leave out the oldest rows' marks and sums)."""

    responses: list[int] = field(default_factory=list)
    consents: list[int] = field(default_factory=list)
    receipts: list[int] = field(default_factory=list)
    oldest: int | None = None
    oldest_xid: int | None = None


def no_older(table: Table, found: Recent) -> ColumnElement[bool]:
    """Rows of ``table`` written no earlier than the oldest row of ``found`` (ages taken now,
    in the same transaction: a later step's own age of ``found.oldest_xid``)."""
    oldest: ColumnElement[object] = literal_column(f"CAST('{int(found.oldest_xid or 0)}' AS xid)")
    return func.age(_xmin(table)) <= func.age(oldest)


async def find_recent(conn: AsyncConnection, after: datetime | None) -> Recent:
    """Ended responses and consents a chat's transaction wrote last, and, when ``after`` is
    given, every one ended (``ended_at``, ``decided_at``) since then, whatever wrote it last;
    then the used receipts a chat's transaction wrote last or written no earlier than the
    oldest of those (the earlier runs' restamps)."""
    found = Recent()
    ages: list[int] = []
    xids: list[int] = []

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
            select(table.c.id, func.age(_xmin(table)), _xid(table)).where(condition, picked)
        )
        for row_id, age, xid in rows.tuples():
            into.append(int(row_id))
            ages.append(int(age))
            xids.append(int(xid))
    used = receipts.c.survey_status.is_not(None)
    picked = _by_a_chat(receipts)
    if after is not None and ages:
        picked = or_(picked, func.age(_xmin(receipts)) <= max(ages))
    rows = await conn.execute(
        select(receipts.c.id, func.age(_xmin(receipts)), _xid(receipts)).where(used, picked)
    )
    for row_id, age, xid in rows.tuples():
        found.receipts.append(int(row_id))
        ages.append(int(age))
        xids.append(int(xid))
    if ages:
        found.oldest, found.oldest_xid = max(zip(ages, xids, strict=True))
    return found


def _xid(table: Table) -> ColumnElement[object]:
    return literal_column(f"{table.name}.xmin::text::bigint")


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


def chats_since(found: Recent, rng: Random, now: datetime | None = None) -> Step:
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
        within = no_older(conversations, found)
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
            .where(no_older(contacts, found))
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
                    f"SELECT ctid FROM {table.name} WHERE age(xmin) <= age(CAST(:oldest AS xid))"
                    " FOR UPDATE SKIP LOCKED))"
                ),
                {"oldest": found.oldest_xid},
            )

    return restamp


def one_by_one(table: Table, ids: list[int], rng: Random) -> Step:
    """``ids`` of ``table`` updated to themselves one by one, in random order."""

    async def restamp(conn: AsyncConnection) -> None:
        order = list(ids)
        rng.shuffle(order)
        for row_id in order:
            await conn.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))

    return restamp


def ended_invitations(found: Recent, rng: Random) -> Step:
    """The dossiers whose invitation's survey ended (``invite_status`` ``ended``, written by
    the transaction that ended it, with the chat's conversation) that a chat's transaction wrote
    last or that are no older than the oldest row of ``found``, updated to themselves one by
    one in random order (:func:`by_key_in_random_order`): else their ``xmin`` and their place
    kept the order, and the time, those surveys ended in, to be set against the responses'
    hour. A dossier the one-stop system's API holds locked is skipped (never waited for: no
    deadlock with the API, which locks dossiers in id order); the API's write moves it and
    stamps it with a transaction of its own. In a transaction of its own: stamped with the
    responses, a dossier would share their ``xmin``."""

    async def restamp(conn: AsyncConnection) -> None:
        written = _by_a_chat(dossiers)
        if found.oldest is not None:
            written = or_(written, no_older(dossiers, found))
        ended = dossiers.c.invite_status == INVITE_ENDED
        await by_key_in_random_order(conn, dossiers, ended & written, rng)

    return restamp


def ended_surveys(found: Recent, since: date, rng: Random) -> Step:
    """The ended responses of ``found`` one by one in random order, each after all its answers
    (written by earlier transactions, found by the key's index, not a scan of every answer),
    then the marks, and the daily sums and counts from ``since`` on, that a chat's
    transaction wrote or that are no older than the oldest row of ``found``, each table's
    rows one by one in random order too (:func:`by_key_in_random_order`)."""

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
            return or_(_by_a_chat(table), no_older(table, found))

        await by_key_in_random_order(conn, survey_marks, picked(survey_marks), rng)
        for table in DAILY_SUMS:
            await by_key_in_random_order(conn, table, (table.c.day >= since) & picked(table), rng)

    return restamp


#: The per-day sums a chat's transaction adds to: a row is created by the first survey of the
#: day with its key (an answer's value, a status; a whole number of days after a hand-over,
#: counted when the invitation's survey starts), so the order of their creation is the order
#: the first such surveys ended (or started) in.
DAILY_SUMS: tuple[Table, ...] = (survey_daily, survey_daily_counts, dossier_answer_days)


async def by_key_in_random_order(
    conn: AsyncConnection, table: Table, where: ColumnElement[bool], rng: Random
) -> None:
    """The rows of ``table`` matching ``where`` updated to themselves (a column that is not
    part of the key set to itself), one statement per row by primary key, in an order drawn
    from ``rng``.

    Why not one ``UPDATE``: it writes the new versions in the order it scans the rows, which
    is the order they lie in, so a table's physical order (``ctid``) would stay the order its
    rows were created or last counted in: the order the surveys ended. One by one, each new
    version takes the next free place, and the rows lie in the drawn order. Rows another
    transaction holds locked (a chat's end adding to a sum) are skipped, never waited for
    (``SKIP LOCKED``: no deadlock with a chat's upsert): that transaction writes them again
    with its own ``xmin``, and the next run picks them. The statements go as one batch
    (``executemany``, run in the list's order): a run's rows are tens to a few thousand."""
    key = list(table.primary_key.columns)
    rows = await conn.execute(
        select(*key).where(where).with_for_update(skip_locked=True, key_share=True)
    )
    order = [tuple(row) for row in rows]
    if not order:
        return
    rng.shuffle(order)
    column = next((c for c in table.columns if not c.primary_key), key[0])
    itself = update(table).where(*(c == bindparam(f"k_{c.name}") for c in key))
    await conn.execute(
        itself.values({column.name: column}),
        [{f"k_{c.name}": value for c, value in zip(key, row, strict=True)} for row in order],
    )


def every_survey_row(since: date) -> Step:
    """Every response, answer and mark, and the daily sums from ``since`` on, updated to
    themselves, one statement per table (their physical order is then reset by the
    ``CLUSTER`` that follows, :data:`storage.queries.rewrites.CLUSTERED`)."""

    async def restamp(conn: AsyncConnection) -> None:
        await conn.execute(update(survey_responses).values(id=survey_responses.c.id))
        await conn.execute(update(answers).values(item=answers.c.item))
        await conn.execute(update(survey_marks).values(period=survey_marks.c.period))
        for table in DAILY_SUMS:
            await conn.execute(
                update(table).where(table.c.day >= since).values(count=table.c.count)
            )

    return restamp
