"""What a batch's ``WriteSet`` keeps before it is flushed, for the rules a flush alone cannot
show: times cut to the hour, and a contact's conversation written once per batch against the
version it was read at.

A batch whose conversation update misses its version fails and is retried event by event
(``bot/runtime/dispatch.py``), so a wrong expected version in a batch would not lose an answer;
it would turn every batch holding two events of one chat into a failure and a retry, which is
the load the batching exists to avoid. So it is pinned here, where it is decided.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import WriteSet, flush, read_transaction, versions, write_transaction
from storage.outbound import DocumentMessage
from storage.queries.jobs import pending_jobs
from storage.schema import contacts, conversations, outbox_blobs
from storage.writes import ConcurrentUpdate, to_the_hour

HOUR = datetime(2026, 11, 30, 3, tzinfo=UTC)


@given(st.datetimes(timezones=st.just(UTC)))
def test_times_are_kept_to_the_hour(at: datetime) -> None:
    cut = to_the_hour(at)
    assert (cut.minute, cut.second, cut.microsecond) == (0, 0, 0)
    assert timedelta(0) <= at - cut < timedelta(hours=1)
    assert cut.tzinfo is at.tzinfo


def test_a_response_started_at_a_microsecond_is_kept_to_the_hour() -> None:
    ws = WriteSet()
    ws.start_response(
        1, "sipas-2640", datetime(2026, 11, 30, 3, 59, 59, 999_999, UTC), None, None, None
    )
    assert ws.new_responses[1]["started_at"] == datetime(2026, 11, 30, 3, tzinfo=UTC)


def test_two_events_of_one_chat_write_its_conversation_once_from_the_version_read() -> None:
    ws = WriteSet()
    at = datetime(2026, 11, 30, 3, 17, 5, 123, UTC)
    read = 41
    second = versions.next_version(read)
    ws.save_conversation(7, read, "survey", "1.1", {"n": 1}, None, at)
    after_first = ws.conversations[7]["b_new_version"]
    ws.save_conversation(7, after_first, "survey", "1.2", {"n": 2}, None, at)
    ws.save_conversation(8, second, None, None, {}, None, at)  # another chat: its own row
    mine = ws.conversations[7]
    assert mine["b_version"] == read  # what the row holds in the database
    assert (mine["b_step"], mine["b_state"]) == ("1.2", {"n": 2})
    assert mine["b_updated_at"] == datetime(2026, 11, 30, 3, tzinfo=UTC)
    assert ws.conversations[8]["b_version"] == second


async def _conversations(engine: AsyncEngine, n: int) -> list[int]:
    """``n`` chats with a conversation row at version 41, as read by an event."""
    async with write_transaction(engine) as conn:
        for i in range(n):
            found = await conn.execute(
                insert(contacts)
                .values(channel="test", external_id=f"c{i}", created_at=HOUR)
                .returning(contacts.c.id)
            )
            await conn.execute(
                insert(conversations).values(
                    contact_id=found.scalar_one(), state={}, version=41, updated_at=HOUR
                )
            )
        return list((await conn.execute(select(contacts.c.id))).scalars().all())


@pytest.mark.parametrize("stale", [[True], [True, False], [False, True]])
async def test_a_conversation_changed_since_it_was_read_fails_the_batch(
    engine: AsyncEngine, stale: list[bool]
) -> None:
    """Another process wrote the chat's row after this batch read it: the batch fails and is
    retried (nothing of it is written), never overwriting the other's write."""
    if len(stale) > 1 and engine.dialect.name != "sqlite":
        # asyncpg counts no rows of an executemany; there the rows read are locked FOR UPDATE
        # until the batch commits (queries.dialogue), so no other writer gets in between.
        pytest.skip("several rows: guarded by the row locks on PostgreSQL")
    ids = await _conversations(engine, len(stale))
    ws = WriteSet()
    for contact, is_stale in zip(ids, stale, strict=True):
        ws.save_conversation(contact, 40 if is_stale else 41, "survey", "1.1", {}, None, HOUR)
    with pytest.raises(ConcurrentUpdate):
        async with write_transaction(engine) as conn:
            await flush(conn, ws)
    async with read_transaction(engine) as conn:
        steps = (await conn.execute(select(conversations.c.step))).scalars().all()
    assert steps == [None] * len(stale)


async def test_a_conversation_unchanged_since_it_was_read_is_written(engine: AsyncEngine) -> None:
    ids = await _conversations(engine, 2)
    ws = WriteSet()
    for contact in ids:
        ws.save_conversation(contact, 41, "survey", "1.1", {}, None, HOUR)
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    async with read_transaction(engine) as conn:
        steps = (await conn.execute(select(conversations.c.step))).scalars().all()
    assert steps == ["1.1", "1.1"]


async def test_a_files_name_is_cut_to_its_column(engine: AsyncEngine) -> None:
    """A chart or spreadsheet's name is cut to the 200 characters ``outbox_blobs.name`` holds
    (PostgreSQL would refuse a longer one and lose the whole batch)."""
    ws = WriteSet()
    ws.enqueue("telegram", "a", DocumentMessage(b"xlsx", "bao-cao-" + "x" * 300 + ".xlsx"), HOUR)
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    async with read_transaction(engine) as conn:
        name = (await conn.execute(select(outbox_blobs.c.name))).scalar_one()
    assert name == ("bao-cao-" + "x" * 300)[:200]


def test_what_a_batch_keeps_for_a_job_a_language_and_a_follow_it_drops() -> None:
    ws = WriteSet()
    at = datetime(2026, 11, 30, 3, 17, 5, tzinfo=UTC)
    ws.request_job("export", "telegram", "42", "en", {"period": "2026-11"}, at)
    ws.set_language(7, "en")
    ws.set_language(8, None)  # back to the agency's default
    ws.follow(3, 7, at)
    ws.unfollow(3, 8)
    assert ws.jobs == [
        {
            "kind": "export",
            "channel": "telegram",
            "chat_id": "42",
            "language": "en",
            "args": {"period": "2026-11"},
            "status": "pending",
            "created_at": at,  # a staff request, not an answer: its minute is kept
        }
    ]
    assert ws.languages == {7: "en", 8: None}
    assert ws.follows == {(3, 7): at, (3, 8): None}


async def test_a_requested_job_is_flushed_pending_with_what_it_was_asked_for(
    engine: AsyncEngine,
) -> None:
    ws = WriteSet()
    at = datetime(2026, 11, 30, 3, 17, 5, tzinfo=UTC)
    ws.request_job("report", "zalo", "u-9", "vi", {"from": "2026-11-01"}, at)
    ws.request_job("export", "telegram", "42", "en", {}, at)
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    async with read_transaction(engine) as conn:
        found = await pending_jobs(conn)
    assert [(j.kind, j.channel, j.chat_id, j.language, j.args) for j in found] == [
        ("report", "zalo", "u-9", "vi", {"from": "2026-11-01"}),
        ("export", "telegram", "42", "en", {}),
    ]
