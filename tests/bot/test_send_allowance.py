"""The overall tokens a sender holds ahead of need for answers (``bot.runtime.send_budget``):
how many it takes from the shared budget, when, for which rows, and what a database away
leaves (issue 17: the allowance's sizes and thresholds had no test of their own)."""

from __future__ import annotations

import time
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.runtime.send_budget import Allowance, Limits
from storage import write_transaction
from storage.outbound import TextMessage
from storage.queries.outbox import OutboxRow
from storage.schema_runtime import rate_buckets

ANSWER = OutboxRow(1, "telegram", "7001", TextMessage("câu hỏi", (), "k"), 0, priority=0)
BULK = OutboxRow(2, "telegram", "staff", TextMessage("bản tin", (), "k"), 0, priority=1)


async def _bucket(engine: AsyncEngine) -> float | None:
    async with engine.connect() as conn:
        got = await conn.execute(
            select(rate_buckets.c.tokens).where(rate_buckets.c.channel == "telegram")
        )
        value = got.scalar_one_or_none()
    return None if value is None else float(value)


async def _set_bucket(engine: AsyncEngine, tokens: float, stamp: float) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(
            rate_buckets.insert().values(channel="telegram", tokens=tokens, stamp=stamp)
        )


@pytest.mark.parametrize(
    ("per_second", "chunk"),
    [(30, 8), (20, 5), (8, 2), (5, 2), (4, 1), (1, 1), (0.5, 1)],
)
def test_a_chunk_is_a_quarter_second_of_the_overall_rate_at_least_one(
    per_second: float, chunk: int
) -> None:
    unused = cast(AsyncEngine, None)  # the chunk asks no database
    allowance = Allowance(unused, "telegram", Limits(per_second))
    assert allowance.chunk == chunk


@pytest.mark.parametrize(
    ("held", "taken"),
    [
        (0, 8),  # empty: a whole chunk
        (3, 5),  # below half a chunk: topped up
        (4, 4),  # exactly half a chunk missing: topped up
        (5, 0),  # less than half a chunk missing: no write at all
        (8, 0),  # full
    ],
)
async def test_take_tops_up_to_a_chunk_only_when_half_of_it_is_missing(
    engine: AsyncEngine, held: int, taken: int
) -> None:
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    allowance.tokens = held
    await allowance.take()
    assert allowance.tokens == held + taken
    bucket = await _bucket(engine)
    if taken == 0:
        assert bucket is None  # the shared budget was not touched
    else:
        assert bucket is not None
        assert 30 - taken <= bucket < 30 - taken + 1  # taken from the shared budget


async def test_take_gets_only_what_the_shared_budget_has(engine: AsyncEngine) -> None:
    # Another process spent the budget: 3 tokens left, refilled from now on.
    await _set_bucket(engine, 3.0, time.time() + 60)
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    await allowance.take()
    assert allowance.tokens == 3
    assert await _bucket(engine) == 0


async def test_an_answer_spends_a_token_bulk_none(engine: AsyncEngine) -> None:
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    assert await allowance.allow(BULK) is False  # bulk spends what its pass was granted
    assert allowance.tokens == 0
    assert await _bucket(engine) is None
    assert await allowance.allow(ANSWER) is True
    assert allowance.tokens == 7  # a chunk of 8 taken, one spent


async def test_no_token_left_anywhere_refuses_the_answer(engine: AsyncEngine) -> None:
    await _set_bucket(engine, 0.0, time.time() + 60)
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    assert await allowance.allow(ANSWER) is False
    assert allowance.tokens == 0


async def test_below_half_a_chunk_it_takes_more_in_the_background(engine: AsyncEngine) -> None:
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    allowance.tokens = 5
    assert await allowance.allow(ANSWER) is True  # 4 left: not below half of 8 yet
    assert allowance._prefetch is None
    assert await allowance.allow(ANSWER) is True  # 3 left: below half, a top-up starts
    prefetch = allowance._prefetch
    assert prefetch is not None
    await prefetch
    assert allowance.tokens == 8
    assert await allowance.allow(ANSWER) is True
    assert allowance._prefetch is prefetch  # no new top-up while above half


async def test_a_database_away_leaves_the_allowance_as_it_was() -> None:
    # Nothing listens on port 1: every connection is refused.
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    allowance.tokens = 2
    await allowance.take()  # no error: the table's pass sends those messages instead
    assert allowance.tokens == 2
    await engine.dispose()


async def test_the_last_token_is_spent_without_waiting_for_the_database(
    engine: AsyncEngine,
) -> None:
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    allowance.tokens = 1
    assert await allowance.allow(ANSWER) is True
    assert allowance.tokens == 0  # spent at once; the top-up runs behind it
    prefetch = allowance._prefetch
    assert prefetch is not None
    await prefetch
    assert allowance.tokens == 8


async def test_the_one_token_left_in_the_shared_budget_is_used(engine: AsyncEngine) -> None:
    await _set_bucket(engine, 1.0, time.time() + 60)
    allowance = Allowance(engine, "telegram", Limits(per_second=30))
    assert await allowance.allow(ANSWER) is True
    assert allowance.tokens == 0
    assert allowance._prefetch is not None
    await allowance._prefetch  # the top-up finds none left
    assert allowance.tokens == 0
