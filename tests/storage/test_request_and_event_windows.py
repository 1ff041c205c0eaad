"""Time windows and queues in storage, at their edges (issue 17's mutants): whether a chat's
request of a kind was answered since a moment (``/ketqua`` is answered from what was built
once), which event ids the monthly cleanup forgets, how long an old-form event key still marks
a redelivery, and the on-demand job queue. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.dialogue import claim_events, forget_events_before
from storage.queries.jobs import answered_since, finish_job, pending_jobs
from storage.schema import processed_events
from storage.schema_runtime import job_requests

SINCE = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
#: The request every case looks for: results, asked on Telegram by chat 42.
ASKED = {"kind": "results", "channel": "telegram", "chat_id": "42"}


@pytest.mark.parametrize(
    ("row", "answered"),
    [
        ({}, True),
        ({"done_at": SINCE}, True),  # answered at that very moment counts
        ({"done_at": SINCE - timedelta(seconds=1)}, False),
        ({"kind": "report"}, False),
        ({"channel": "zalo"}, False),
        ({"chat_id": "43"}, False),
        ({"status": "pending", "done_at": None}, False),
        ({"status": "failed"}, False),
    ],
    ids=["answered", "at-the-moment", "before", "other-kind", "other-channel", "other-chat",
         "not-yet", "failed"],
)  # fmt: skip
async def test_answered_since_needs_the_same_kind_channel_chat_and_a_done_request(
    engine: AsyncEngine, row: dict[str, object], answered: bool
) -> None:
    values = {
        **ASKED, "language": "vi", "args": {}, "status": "done",
        "created_at": SINCE - timedelta(minutes=5), "done_at": SINCE + timedelta(minutes=1),
        **row,
    }  # fmt: skip
    async with write_transaction(engine) as conn:
        await conn.execute(insert(job_requests), [values, {**values, "chat_id": "other"}])
    async with read_transaction(engine) as conn:
        assert await answered_since(conn, since=SINCE, **ASKED) is answered


async def test_forgetting_events_keeps_the_one_at_the_cutoff_and_counts_what_it_dropped(
    engine: AsyncEngine,
) -> None:
    rows = [
        {"event_key": "telegram:a:1", "processed_at": SINCE - timedelta(days=40)},
        {"event_key": "telegram:a:2", "processed_at": SINCE - timedelta(seconds=1)},
        {"event_key": "telegram:a:3", "processed_at": SINCE},
        {"event_key": "telegram:a:4", "processed_at": SINCE + timedelta(hours=1)},
    ]
    async with write_transaction(engine) as conn:
        await conn.execute(insert(processed_events), rows)
        assert await forget_events_before(conn, SINCE) == 2
        assert await forget_events_before(conn, SINCE) == 0
    async with read_transaction(engine) as conn:
        kept = (await conn.execute(select(processed_events.c.event_key))).scalars().all()
    assert sorted(kept) == ["telegram:a:3", "telegram:a:4"]


#: An event at 10:37:42.5; the old-form key's window starts 25 hours before 10:00.
NOW = datetime(2026, 12, 3, 10, 37, 42, 500_000, tzinfo=UTC)
WINDOW_START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("alias_claimed_at", "redelivery"),
    [
        (WINDOW_START, True),
        (WINDOW_START + timedelta(minutes=59), True),
        (WINDOW_START - timedelta(microseconds=1), False),
        (None, False),
    ],
    ids=["at-the-window-start", "in-the-window", "just-before", "never"],
)
async def test_an_old_form_key_marks_a_redelivery_within_its_window(
    engine: AsyncEngine, alias_claimed_at: datetime | None, redelivery: bool
) -> None:
    """``processed_at`` is kept to the hour, so the window starts on the hour (issue 10's
    bot-named keys: an update claimed under ``telegram:<update id>`` before the upgrade)."""
    async with write_transaction(engine) as conn:
        if alias_claimed_at is not None:
            await conn.execute(
                insert(processed_events),
                {"event_key": "telegram:700", "processed_at": alias_claimed_at},
            )
        fresh = await claim_events(
            conn, ["telegram:h1:700", "telegram:h1:701"], NOW,
            aliases={"telegram:h1:700": "telegram:700", "telegram:h1:701": "telegram:701"},
        )  # fmt: skip
    assert fresh == ({"telegram:h1:701"} if redelivery else {"telegram:h1:700", "telegram:h1:701"})


async def test_pending_jobs_are_the_ten_oldest_pending_in_order(engine: AsyncEngine) -> None:
    ids = [7, 3, 12, 1, 9, 4, 11, 2, 8, 6, 10, 5]  # inserted out of order
    rows = [
        {"id": i, **ASKED, "language": "vi", "args": {"n": i}, "status": "pending",
         "created_at": SINCE}
        for i in ids
    ] + [{"id": 99, **ASKED, "language": "vi", "args": {}, "status": "done", "created_at": SINCE,
          "done_at": SINCE}]  # fmt: skip
    async with write_transaction(engine) as conn:
        await conn.execute(insert(job_requests), rows)
    async with read_transaction(engine) as conn:
        found = await pending_jobs(conn)
        assert [j.id for j in found] == list(range(1, 11))
        assert [j.id for j in await pending_jobs(conn, limit=3)] == [1, 2, 3]


async def test_a_job_is_finished_once(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(
            insert(job_requests),
            {"id": 1, **ASKED, "language": "vi", "args": {}, "status": "pending",
             "created_at": SINCE},
        )  # fmt: skip
        assert await finish_job(conn, 1, "done", SINCE + timedelta(minutes=1))
        assert not await finish_job(conn, 1, "failed", SINCE + timedelta(minutes=2))
    async with read_transaction(engine) as conn:
        row = (await conn.execute(select(job_requests.c.status, job_requests.c.done_at))).one()
    assert tuple(row) == ("done", SINCE + timedelta(minutes=1))
