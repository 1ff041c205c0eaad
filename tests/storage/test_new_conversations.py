"""What the dispatcher's first read of a batch writes and returns (issue 17's mutants of
``storage.queries.dialogue``): each new chat's row as it will be read back, without reading
it back; a known chat's row whole; a chat another process created meanwhile read back; the
rows locked for the event's transaction on PostgreSQL; and an event's key kept to the hour,
like the contact's ``created_at``, so that the two tables cannot be joined on the second. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries import dialogue
from storage.queries.dialogue import ContactKey, ConversationRow, claim_events, load_conversations
from storage.schema import contacts, conversations, processed_events

AT = datetime(2026, 12, 3, 10, 37, 12, 512_000, tzinfo=UTC)
HOUR = datetime(2026, 12, 3, 10, tzinfo=UTC)
#: The same external id on two channels is two chats.
NEW: list[ContactKey] = [("telegram", "501"), ("zalo", "501"), ("web", "w-7f3a")]


@contextmanager
def selects(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SELECT statements run on ``engine`` meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_new_chats_come_back_as_they_will_be_read_without_reading_them_back(
    engine: AsyncEngine,
) -> None:
    with selects(engine) as seen:
        async with write_transaction(engine) as conn:
            made = await load_conversations(conn, NEW, AT)
    # The one look for existing rows; a second would mean the new rows were not recognised
    # as the ones asked for.
    assert len(seen) == 1
    assert set(made) == set(NEW)
    async with read_transaction(engine) as conn:
        read = await load_conversations(conn, NEW, AT, lock=False)
    assert made == read
    for key, row in made.items():
        assert row.key == key
        assert (row.channel, row.external_id) == key
        assert row.stopped is False
        assert (row.language, row.flow, row.step, row.state) == (None, None, None, {})
        assert row.expires_at is None
        assert row.remind_at is None


async def test_known_and_new_chats_in_one_batch(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        first = await load_conversations(conn, NEW[:1], AT)
    async with write_transaction(engine) as conn:
        both = await load_conversations(conn, NEW[:2], AT)
    assert both[NEW[0]] == first[NEW[0]]
    assert both[NEW[1]].contact_id != both[NEW[0]].contact_id
    assert both[NEW[1]].key == NEW[1]


@pytest.mark.parametrize(
    "at",
    [
        AT,
        datetime(2026, 12, 3, 10, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 12, 3, 10, 0, 59, tzinfo=UTC),
        datetime(2026, 12, 3, 10, 59, 59, 999_999, tzinfo=UTC),
    ],
    ids=["mid-hour", "a-microsecond-past", "a-minute-short", "the-last-moment"],
)
async def test_an_event_key_is_kept_to_the_hour(engine: AsyncEngine, at: datetime) -> None:
    async with write_transaction(engine) as conn:
        fresh = await claim_events(conn, ["telegram:bot:1", "telegram:bot:2"], at)
    assert fresh == {"telegram:bot:1", "telegram:bot:2"}
    async with read_transaction(engine) as conn:
        kept = list((await conn.execute(select(processed_events.c.processed_at))).scalars())
    assert kept == [HOUR] * 2
    async with write_transaction(engine) as conn:
        again = await claim_events(conn, ["telegram:bot:2", "telegram:bot:3"], at)
    assert again == {"telegram:bot:3"}


@pytest.mark.parametrize(
    ("language", "stopped", "flow"),
    [("en", True, None), ("vi", False, "survey"), ("en", True, "complaint")],
    ids=["stopped-idle", "in-a-survey", "stopped-mid-complaint"],
)
async def test_a_known_chat_comes_back_whole(
    engine: AsyncEngine, language: str, stopped: bool, flow: str | None
) -> None:
    async with write_transaction(engine) as conn:
        made = (await load_conversations(conn, NEW[:1], AT))[NEW[0]]
        await conn.execute(
            update(contacts)
            .where(contacts.c.id == made.contact_id)
            .values(language=language, stopped=stopped)
        )
        await conn.execute(
            update(conversations).where(conversations.c.contact_id == made.contact_id).values(
                flow=flow, step="q3", state={"answers": {"q1": "a"}}, version=77,
                expires_at=HOUR, remind_at=AT, notice_question="q2",
            )
        )  # fmt: skip
    async with read_transaction(engine) as conn:
        row = (await load_conversations(conn, NEW[:1], AT, lock=False))[NEW[0]]
    assert row == ConversationRow(
        made.contact_id, "telegram", "501", language, stopped, flow, "q3",
        {"answers": {"q1": "a"}}, 77, HOUR, AT, "q2",
    )  # fmt: skip


async def test_a_chat_another_process_created_meanwhile_is_read_back(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with write_transaction(engine) as conn:
        theirs = (await load_conversations(conn, NEW[:1], AT))[NEW[0]]
    real = dialogue._select
    looks: list[Sequence[ContactKey]] = []

    async def late(conn: AsyncConnection, who: Sequence[ContactKey], lock: bool) -> Any:
        # The first look ran before the other process committed: it found nothing.
        looks.append(list(who))
        return {} if len(looks) == 1 else await real(conn, who, lock)

    monkeypatch.setattr(dialogue, "_select", late)
    async with write_transaction(engine) as conn:
        found = await load_conversations(conn, NEW[:2], AT)
    assert looks == [NEW[:2], NEW[:1]]
    assert found[NEW[0]] == theirs
    assert found[NEW[1]].key == NEW[1]


async def _waits(engine: AsyncEngine, *, lock: bool) -> bool:
    """Whether loading NEW[0] waits while another transaction holds it for an event."""
    async with engine.connect() as other:
        started = asyncio.Event()

        async def second() -> None:
            async with other.begin():
                started.set()
                await load_conversations(other, NEW[:1], AT, lock=lock)

        async with write_transaction(engine) as conn:
            await load_conversations(conn, NEW[:1], AT)
            task = asyncio.create_task(second())
            await started.wait()
            done, _ = await asyncio.wait([task], timeout=0.5)
            waited = not done
        await asyncio.wait_for(task, timeout=10)
    return waited


async def test_an_events_transaction_holds_its_chats_on_postgresql(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises write transactions as a whole")
    async with write_transaction(engine) as conn:
        await load_conversations(conn, NEW[:1], AT)
    assert await _waits(engine, lock=True)
    assert not await _waits(engine, lock=False)
    # Read back after another process created it, the chat is held just the same.
    real = dialogue._select
    calls: list[int] = []

    async def late(conn: AsyncConnection, who: Sequence[ContactKey], lock: bool) -> Any:
        calls.append(1)
        return {} if len(calls) == 1 else await real(conn, who, lock)

    monkeypatch.setattr(dialogue, "_select", late)
    assert await _waits(engine, lock=True)
