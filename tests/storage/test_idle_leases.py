"""Issue 10, point 4 (re-test): a chat's lease row kept, never rounded and never deleted, the
exact time of its last reply (``until``, ``stamp``, to the microsecond), which next to a log's
times told which chat cancelled a survey; and, on PostgreSQL, the id of that chat's last
transaction. A sender pass now deletes leases ended ``LEASE_REST`` ago (or as long as a
budget takes to refill, if longer): an idle chat keeps no lease row. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.leases import LEASE_REST, Budget, claim_chats, lease_chats, release_chats
from storage.schema import outbox_leases

NOW = datetime(2026, 12, 2, 9, 41, 7, 123456, tzinfo=UTC)


async def _leased(engine: AsyncEngine) -> set[str]:
    async with read_transaction(engine) as conn:
        return {str(c) for c in (await conn.execute(select(outbox_leases.c.chat_id))).scalars()}


async def _pass(engine: AsyncEngine, now: datetime, burst: float, rate: float) -> None:
    """A sender pass (nothing due: it claims no chat)."""
    async with write_transaction(engine) as conn:
        await claim_chats(
            conn,
            "telegram",
            "p2",
            now,
            now + timedelta(seconds=20),
            chats=10,
            burst=burst,
            at=now.timestamp(),
            chat_rate=rate,
        )


@pytest.mark.parametrize(
    ("later", "burst", "rate", "kept"),
    [
        (timedelta(seconds=1), 3, 1, {"7106", "7107"}),  # just ended: its budget still counts
        (LEASE_REST + timedelta(seconds=1), 3, 1, {"7107"}),
        (timedelta(minutes=5), 3, 1, set()),  # 7107 idle too by then
        (LEASE_REST, 60, 1, {"7106", "7107"}),  # a budget refilled over a minute: kept
        (timedelta(seconds=61), 60, 1, {"7107"}),
    ],
)
async def test_a_pass_deletes_the_leases_of_idle_chats(
    engine: AsyncEngine, later: timedelta, burst: float, rate: float, kept: set[str]
) -> None:
    async with write_transaction(engine) as conn:
        await lease_chats(
            conn,
            "telegram",
            "p1",
            ["7106", "7107"],
            NOW,
            NOW + timedelta(seconds=20),
            burst=3,
            at=NOW.timestamp(),
        )
        # 7106's replies are sent: its lease ends now; 7107's still runs (being sent to).
        await release_chats(conn, "telegram", "p1", {"7106": Budget(1.0, NOW.timestamp())}, NOW)
    assert await _leased(engine) == {"7106", "7107"}
    await _pass(engine, NOW + later, burst, rate)
    assert await _leased(engine) == kept
