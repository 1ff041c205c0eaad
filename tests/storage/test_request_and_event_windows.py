"""Two time windows in storage, at their edges (issue 17's mutants): whether a chat's request
of a kind was answered since a moment (``/ketqua`` is answered from what was built once), and
which event ids the monthly cleanup forgets. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.dialogue import forget_events_before
from storage.queries.jobs import answered_since
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
