"""Issue 10, point 4, in the pages: someone holding the database files must not find a chat
next to a survey in an old row version. PostgreSQL leaves the old version of every updated or
deleted row in its page ((auto)VACUUM only marks the space free), so the conversation's state
with the response id and the answers, the consent with its contact id, the replies echoing
the answers to a chat id, the chat's leases and event ids stay readable in the files after the
rows changed or went. The hourly ``shuffle`` job rewrites those tables; this reads every page
of them (``pageinspect``: heap, TOAST and indexes) before and after it.

One survey through the dispatcher, its replies leased, sent and scrubbed as the sender does,
then a month on the prune job forgets the event ids and leases. The markers: the chat id, a
typed comment, the response id as the state's JSON writes it, the event ids, and (consents)
the contact id as PostgreSQL stores a bigint. On SQLite the same sequence, and the database
file and its log are read whole (``secure_delete`` and checkpoints already erase)."""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations import Choice, Command, Inbound, InboundEvent, Text, default_catalog
from jobs.runner import JobsRunner
from storage import read_transaction, write_transaction
from storage.queries.leases import claim_chats
from storage.queries.outbox import mark_sent, pending, scrub_sent
from tests.jobs.test_leadership import DIGESTS
from tests.support.clock import SequentialClock
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES, Database, migrated

CHAT = "918273645501"
COMMENT_MARK = "ZQXJ-7741"  # ASCII: JSON writes the rest of the comment as \u escapes
COMMENT = f"Ghi chú {COMMENT_MARK}: phòng chờ thiếu ghế"
RESPONSE_ID = 646_464_646_464_646
CONTACT_ID = 5_151_515_151  # the contact's id: a value no other column holds by chance
EVENT_MARK = "evQZV"  # in every event id of the chat
START = datetime(2026, 3, 9, 2, 17, 41, tzinfo=UTC)
#: Tables whose old versions held the chat next to its survey, rewritten by the job.
TABLES = ("conversations", "consents", "outbox", "outbox_leases", "processed_events")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated database of its own: on PostgreSQL a whole database, so that no other
    test's transaction keeps old versions alive while the job rewrites (a rewrite copies the
    versions an open snapshot may still need)."""
    if request.param == "sqlite":
        engine = await migrated(Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"))
        yield engine
        await engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    name = f"pages_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = await migrated(Database(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name))
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _send(dispatcher: Dispatcher, payload: Inbound, n: int) -> list[str]:
    """One message of the chat, its replies sent at once; the choices of the question it is
    answered with."""
    (handled,) = await dispatcher.process(
        [InboundEvent(f"{EVENT_MARK}-{n}", "telegram", CHAT, payload)]
    )
    assert not isinstance(handled, Exception)
    await _deliver(dispatcher.engine, dispatcher.clock)
    return [value for m in handled.messages for value, _ in (m.choices or ())]


async def _survey_with_a_comment(dispatcher: Dispatcher) -> None:
    """/khaosat, consent, every question skipped but the comment, typed; submitted."""
    choices = await _send(dispatcher, Command("khaosat"), 0)
    choices = await _send(dispatcher, Choice("consent:yes"), 1)
    for n in range(2, 200):
        if "comment:skip" in choices:
            await _send(dispatcher, Text(COMMENT), n)
            choices = []
        elif "summary:submit" in choices or (not choices and n > 40):
            break
        else:
            choices = await _send(dispatcher, Text("bỏ qua"), n)
    await _send(dispatcher, Text("gửi phiếu"), 999)


async def _deliver(engine: AsyncEngine, clock: Callable[[], datetime]) -> None:
    """What the Telegram sender does with the chat's replies: lease the chat, send, mark sent,
    then the scrub of an ended survey's replies."""
    now = clock()
    async with write_transaction(engine) as conn:
        await claim_chats(
            conn, "telegram", "p1", now, now + timedelta(seconds=1), chats=10, burst=30, at=0.0
        )
        rows = await pending(conn, "telegram", now, chat_id=CHAT)
        await mark_sent(conn, [r.id for r in rows], now)
    await scrub_sent(engine)


def _markers(dialect: str) -> dict[str, bytes]:
    contact = (
        struct.pack("<q", CONTACT_ID)  # PostgreSQL: int8, little-endian on x86
        if dialect == "postgresql"
        else struct.pack(">q", CONTACT_ID)[2:]  # SQLite: 6-byte big-endian integer
    )
    return {
        "chat id": CHAT.encode(),
        "comment": COMMENT_MARK.encode(),
        "response id": str(RESPONSE_ID).encode(),
        "event id": EVENT_MARK.encode(),
        "contact id": contact,
    }


async def _pages(engine: AsyncEngine, table: str) -> bytes:
    """Every page of ``table``, its TOAST table and all their indexes (``pageinspect``)."""
    async with read_transaction(engine) as conn:
        rels = await conn.execute(
            text(
                "WITH t AS (SELECT oid, reltoastrelid FROM pg_class WHERE oid = CAST(:t AS regclass)) "
                "SELECT c.oid::regclass::text, "
                "pg_relation_size(c.oid) / current_setting('block_size')::int FROM pg_class c "
                "WHERE c.oid IN (SELECT oid FROM t UNION SELECT reltoastrelid FROM t) "
                "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN "
                "(SELECT oid FROM t UNION SELECT reltoastrelid FROM t))"
            ),
            {"t": table},
        )
        found = b""
        for name, blocks in rels.all():
            for n in range(int(blocks)):
                page = await conn.execute(
                    text("SELECT get_raw_page(:rel, :n)"), {"rel": name, "n": n}
                )
                found += bytes(page.scalar_one())
    return found


async def _until_no_older_transaction(engine: AsyncEngine, wait_s: float = 60.0) -> None:
    """Waits until every transaction running on the server (other databases included: their
    transaction ids bound every snapshot's horizon, so the rewrite's own) and every snapshot
    of this database started after the last change of this test, so that the rewrite may drop
    every old version it left. Other test runs share the server; in production, the next
    hourly run drops what one left."""
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        now = (await auto.execute(text("SELECT txid_current() % 4294967296"))).scalar_one()
        for _ in range(int(wait_s / 0.2)):
            older = await auto.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                    "AND (backend_xid::text::bigint < :x OR ((datname = current_database() "
                    "OR datname IS NULL) AND backend_xmin::text::bigint < :x))"
                ),
                {"x": now},
            )
            if older.scalar_one() == 0:
                return
            await asyncio.sleep(0.2)
    pytest.fail(f"another transaction on the server stayed open over {wait_s} s")


#: A chat's side and a survey's: the transaction ids (``xmin``, ``xmax``) in any row version
#: in the pages of one side must not be found in the pages of the other.
CHAT_SIDE = (
    "conversations", "contacts", "processed_events", "outbox", "outbox_leases",
    "web_messages", "zalo_chats",
)  # fmt: skip
SURVEY_SIDE = (
    "survey_responses", "answers", "consents", "receipts", "survey_marks", "survey_daily",
    "survey_daily_counts",
)  # fmt: skip


async def _versions(engine: AsyncEngine, table: str) -> list[tuple[str, int, int, str, str, str]]:
    """Every row version in the pages of ``table`` and of its TOAST table, live or dead
    (``heap_page_items``): relation, page, line, ``xmin``, ``xmax`` (text) and ``t_ctid``."""
    async with read_transaction(engine) as conn:
        rels = await conn.execute(
            text(
                "SELECT c.oid::regclass::text, "
                "pg_relation_size(c.oid) / current_setting('block_size')::int FROM pg_class c "
                "WHERE c.oid = CAST(:t AS regclass) OR c.oid = "
                "(SELECT reltoastrelid FROM pg_class WHERE oid = CAST(:t AS regclass))"
            ),
            {"t": table},
        )
        found: list[tuple[str, int, int, str, str, str]] = []
        for name, blocks in rels.all():
            for n in range(int(blocks)):
                items = await conn.execute(
                    text(
                        "SELECT lp, t_xmin::text, t_xmax::text, t_ctid::text "
                        "FROM heap_page_items(get_raw_page(:rel, :n)) WHERE lp_flags = 1"
                    ),
                    {"rel": name, "n": n},
                )
                found += [(name, n, int(lp), x, m, c) for lp, x, m, c in items.tuples()]
    return found


async def _links_in_pages(engine: AsyncEngine) -> dict[str, object]:
    """What the pages still tie together: transaction ids found in a row version of a chat
    table and in one of a survey table; survey tables' versions that are not their live
    rows (dead, or linked by ``t_ctid`` to a newer one)."""
    ids: dict[str, set[str]] = {"chat": set(), "survey": set()}
    where: dict[str, list[tuple[str, int, int, str, str, str]]] = {}
    stale: dict[str, int] = {}
    for side, tables in (("chat", CHAT_SIDE), ("survey", SURVEY_SIDE)):
        for table in tables:
            versions = await _versions(engine, table)
            for v in versions:
                for x in v[3:5]:
                    if x != "0":
                        ids[side].add(x)
                        where.setdefault(x, []).append(v)
            if side == "survey":
                chained = [v for v in versions if v[5] != f"({v[1]},{v[2]})" or v[4] != "0"]
                if chained:
                    stale[table] = len(chained)
    shared = ids["chat"] & ids["survey"]
    return {"shared ids": {x: where[x] for x in shared}, "old survey versions": stale}


async def _shuffle(runner: JobsRunner) -> None:
    if runner.engine.dialect.name == "postgresql":
        await _until_no_older_transaction(runner.engine)
    await runner.jobs["shuffle"][0]()


async def _shared_xmins(engine: AsyncEngine) -> set[str]:
    """Transaction ids (``xmin``) found both on a row of the chat's side and a survey row."""
    async with read_transaction(engine) as conn:
        chat_side = await conn.execute(
            text("SELECT xmin::text FROM conversations UNION SELECT xmin::text FROM consents")
        )
        survey_side = await conn.execute(
            text("SELECT xmin::text FROM survey_responses UNION "
                 "SELECT xmin::text FROM answers UNION SELECT xmin::text FROM survey_daily "
                 "UNION SELECT xmin::text FROM survey_daily_counts "
                 "UNION SELECT xmin::text FROM survey_marks")
        )  # fmt: skip
        return set(chat_side.scalars()) & set(survey_side.scalars())


async def _traces(engine: AsyncEngine, tmp_path: Path) -> dict[str, set[str]]:
    """Which markers each table's pages hold (SQLite: the database file and its log, as
    "file", with the copies the live rows must keep taken off)."""
    markers = _markers(engine.dialect.name)
    if engine.dialect.name == "sqlite":
        files = b"".join(p.read_bytes() for p in tmp_path.glob("bot.db*"))
        # Kept by live rows: the chat in contacts (row and unique index), the comment in its
        # answer row, the contact id in the indexes of contacts (its unique index) and of
        # conversations (expires_at, remind_at): none in consents any more.
        kept = {"chat id": 2, "comment": 1, "contact id": 3}
        return {
            "file": {k for k, m in markers.items() if files.count(m) > kept.get(k, 0)},
        }
    found: dict[str, set[str]] = {}
    for table in TABLES:
        pages = await _pages(engine, table)
        # A conversation row is the contact's, under its id, for good.
        live = {"contact id"} if table == "conversations" else set()
        found[table] = {k for k, m in markers.items() if m in pages and k not in live}
    return found


async def test_no_old_row_version_keeps_a_chat_next_to_its_survey(
    fresh: AsyncEngine, tmp_path: Path
) -> None:
    engine = fresh
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            await auto.execute(
                text("SELECT setval(pg_get_serial_sequence('contacts', 'id'), :n, false)"),
                {"n": CONTACT_ID},
            )
    else:
        async with write_transaction(engine) as conn:  # the next rowid is CONTACT_ID
            await conn.execute(
                text(
                    "INSERT INTO contacts (id, channel, external_id, stopped, created_at) "
                    "VALUES (:n, 'telegram', 'placeholder', 0, '2026-01-01 00:00:00')"
                ),
                {"n": CONTACT_ID - 1},
            )
    clock = SequentialClock(start=START)
    dispatcher = Dispatcher(
        engine, DispatchSettings(survey_ttl=timedelta(days=7)), clock=clock,
        new_id=lambda: RESPONSE_ID,
    )  # fmt: skip
    await _survey_with_a_comment(dispatcher)
    async with read_transaction(engine) as conn:
        status = await conn.execute(
            text("SELECT status FROM survey_responses WHERE id = :r"), {"r": RESPONSE_ID}
        )
        assert status.scalar_one() == "completed"
        contact = await conn.execute(
            text("SELECT id FROM contacts WHERE external_id = :c"), {"c": CHAT}
        )
        assert contact.scalar_one() == CONTACT_ID
    runner = JobsRunner(engine, dispatcher, DIGESTS, default_catalog(), clock)
    before = await _traces(engine, tmp_path)
    if engine.dialect.name == "postgresql":
        # What the job is for: every table still holds what it once held of the chat (the
        # event ids and the lease are still live rows: they go a month on, below).
        assert all(before[t] for t in TABLES), before
        assert "comment" in before["conversations"]
        assert "contact id" in before["consents"]

    # The hourly job, within the hour.
    clock.advance(timedelta(minutes=50))
    await _shuffle(runner)
    after = await _traces(engine, tmp_path)
    kept_a_month = {  # live rows for now ("file": SQLite's, where they lie with the rest)
        "processed_events": {"event id"},
        "outbox_leases": {"chat id"},
        "file": {"event id", "chat id"},
    }
    assert after == {k: kept_a_month.get(k, set()) for k in after}, after
    if engine.dialect.name == "postgresql":
        # The transaction that ended the survey wrote the chat's conversation row and
        # consent too: once restamped, no survey row carries its id (``xmin``).
        assert await _shared_xmins(engine) == set()

    # A month on, the prune job forgets the chat's event ids and its lease (deleted rows),
    # and the next hourly run leaves nothing of them in the pages.
    clock.advance(timedelta(days=31))
    await runner.jobs["prune"][0]()
    await _shuffle(runner)
    await dispatcher.close()
    after = await _traces(engine, tmp_path)
    assert after == {k: set() for k in after}, after
    # Nothing lost: the answer is still there.
    async with read_transaction(engine) as conn:
        kept = await conn.execute(
            text("SELECT value_text FROM answers WHERE response_id = :r AND item = 'comment'"),
            {"r": RESPONSE_ID},
        )
        assert kept.scalar_one() == COMMENT


async def test_the_run_an_ended_survey_asks_for_leaves_no_link_in_any_page(
    fresh: AsyncEngine, tmp_path: Path
) -> None:
    """The per-minute run (``jobs.restamp``), not the hourly one: once it has run, no page of
    any table (heap and TOAST) holds a survey row version that shares a transaction id with a
    chat table's row version, nor an old survey row version (dead, or chained by ``t_ctid``
    to its restamped copy, in the order the surveys ended); and the chat's tables hold none
    of the chat's survey traces. Again after the run owed a minute on."""
    engine = fresh
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's pages (SQLite: secure_delete, see the test above)")
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        await auto.execute(
            text("SELECT setval(pg_get_serial_sequence('contacts', 'id'), :n, false)"),
            {"n": CONTACT_ID},
        )
    clock = SequentialClock(start=START)
    dispatcher = Dispatcher(
        engine, DispatchSettings(survey_ttl=timedelta(days=7)), clock=clock,
        new_id=lambda: RESPONSE_ID,
    )  # fmt: skip
    runner = JobsRunner(engine, dispatcher, DIGESTS, default_catalog(), clock)
    restamp = runner.restamp
    assert restamp is not None
    await _survey_with_a_comment(dispatcher)
    assert restamp.pending  # the ended survey asked for it
    before = await _links_in_pages(engine)
    assert before["shared ids"], before
    assert before["old survey versions"], before

    for run in (1, 2):  # the run, then the one owed a minute on
        clock.advance(timedelta(minutes=1))
        await _until_no_older_transaction(engine)
        assert await restamp.tick()
        assert restamp.runs == run
        after = await _links_in_pages(engine)
        assert after == {"shared ids": {}, "old survey versions": {}}, (run, after)
        traces = await _traces(engine, tmp_path)
        # Live rows for now: the event ids (a month), the chat's lease if not idle yet.
        assert traces == {
            t: traces[t] & {"event id", "chat id"} if t in ("processed_events", "outbox_leases")
            else set()
            for t in TABLES
        }, (run, traces)  # fmt: skip
        assert await _shared_xmins(engine) == set()
    assert not restamp.pending
    await dispatcher.close()
    async with read_transaction(engine) as conn:
        kept = await conn.execute(
            text("SELECT value_text FROM answers WHERE response_id = :r AND item = 'comment'"),
            {"r": RESPONSE_ID},
        )
        assert kept.scalar_one() == COMMENT


async def test_a_table_still_locked_is_rewritten_at_the_next_run(fresh: AsyncEngine) -> None:
    """A survey table whose lock the per-minute run could not get within its timeout is not
    forgotten: the run stays pending, and the next one (a minute on) rewrites it."""
    engine = fresh
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (SQLite rewrites nothing)")
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    clock = SequentialClock(start=START)
    dispatcher = Dispatcher(
        engine, DispatchSettings(survey_ttl=timedelta(days=7)), clock=clock,
        new_id=lambda: RESPONSE_ID,
    )  # fmt: skip
    runner = JobsRunner(engine, dispatcher, DIGESTS, default_catalog(), clock)
    restamp = runner.restamp
    assert restamp is not None
    await _survey_with_a_comment(dispatcher)
    clock.advance(timedelta(minutes=1))
    restamp.wake()  # and no follow-up owed: only the lock keeps it pending
    restamp.follow_up = False
    async with engine.connect() as holder:
        await holder.execute(text("LOCK TABLE survey_marks IN ACCESS SHARE MODE"))
        await _until_no_older_transaction(engine)
        assert await restamp.tick()
        left = await _links_in_pages(engine)
        await holder.rollback()
    assert list(left["old survey versions"]) == ["survey_marks"], left  # type: ignore[call-overload]
    assert restamp.pending  # survey_marks was refused its lock: owed again
    assert not await restamp.tick()  # not within the minute
    clock.advance(timedelta(minutes=1))
    await _until_no_older_transaction(engine)
    assert await restamp.tick()
    assert not restamp.pending
    after = await _links_in_pages(engine)
    assert after == {"shared ids": {}, "old survey versions": {}}, after
    await dispatcher.close()
