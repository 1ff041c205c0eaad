"""How a pass shares the bot's overall send budget among the chats it claimed
(``bot.runtime.send_budget.grant_tokens``), and what a record gives back (issue 17: the
answers-first rule, bulk's half and the chats with nothing left had no test of their own).

The shared budget starts full: 30 tokens (Telegram's 30 messages a second, ``Limits``)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import RateLimited
from bot.runtime.send_budget import Limits, grant_tokens
from bot.runtime.send_record import Chain, record_pass
from storage import write_transaction
from storage.outbound import EditMessage, Outbound, TextMessage
from storage.queries.leases import Budget
from storage.queries.outbox import OutboxRow
from storage.schema_runtime import rate_buckets
from tests.bot.test_sender import NOW

#: A chat's pending rows, written as kinds: "a" an answer, "b" bulk, "e" an edit (an answer's).
Pending = dict[str, str]


def _rows(pending: Pending) -> dict[str, list[OutboxRow]]:
    found: dict[str, list[OutboxRow]] = {}
    for chat, kinds in pending.items():
        for i, kind in enumerate(kinds):
            message: Outbound = (
                EditMessage("1", "đã chọn", ()) if kind == "e" else TextMessage("x", (), "k")
            )
            found.setdefault(chat, []).append(
                OutboxRow(i, "telegram", chat, message, 0, priority=1 if kind == "b" else 0)
            )
    return found


async def _bucket(engine: AsyncEngine) -> float | None:
    async with engine.connect() as conn:
        got = await conn.execute(select(rate_buckets.c.tokens))
        value = got.scalar_one_or_none()
    return None if value is None else float(value)


CASES = [
    # answers may take the whole budget
    ({"u": "a" * 30}, ["u"], {"u": 30}),
    # answers first; bulk gets only what leaves half the budget (10 left < 15 kept: none)
    ({"u": "a" * 20, "k": "b" * 20}, ["u", "k"], {"u": 20, "k": 0}),
    # bulk alone: half the budget
    ({"k": "b" * 20}, ["k"], {"k": 15}),
    # bulk chats share their half in the order they were claimed
    ({"k1": "b" * 10, "k2": "b" * 10}, ["k1", "k2"], {"k1": 10, "k2": 5}),
    # a chat claimed whose rows were gone by the read gets nothing, the others theirs
    ({"u": "aa"}, ["gone", "u"], {"gone": 0, "u": 2}),
    # edits spend nothing; an answer's edit makes its chat an answer's
    ({"u": "ea", "k": "bbb"}, ["u", "k"], {"u": 1, "k": 3}),
]


@pytest.mark.parametrize(("pending", "claimed", "grants"), CASES)
async def test_answers_first_then_bulk_within_half(
    engine: AsyncEngine, pending: Pending, claimed: list[str], grants: dict[str, int]
) -> None:
    at = time.time()
    budgets = {chat: Budget(3.0, at) for chat in claimed}
    async with write_transaction(engine) as conn:
        got = await grant_tokens(conn, "telegram", Limits(), budgets, _rows(pending), at)
    assert got == grants
    left = await _bucket(engine)
    assert left is not None
    assert 30 - sum(grants.values()) <= left < 30 - sum(grants.values()) + 1


async def test_nothing_to_send_leaves_the_shared_budget_alone(engine: AsyncEngine) -> None:
    at = time.time()
    budgets = {"u": Budget(3.0, at), "gone": Budget(3.0, at)}
    async with write_transaction(engine) as conn:
        got = await grant_tokens(conn, "telegram", Limits(), budgets, _rows({"u": "ee"}), at)
    assert got == {"u": 0, "gone": 0}
    assert await _bucket(engine) is None  # not even read: no row made


@pytest.mark.parametrize(
    ("chains", "after"),
    [
        ([(3, 1), (2, 2)], 12.0),  # 2 tokens unused: given back
        ([(1, 1)], 10.0),  # all used: nothing back
        ([(20, 0), (20, 0)], 30.0),  # never past the burst
    ],
)
async def test_a_record_gives_back_the_tokens_its_chains_did_not_use(
    engine: AsyncEngine, chains: list[tuple[int, int]], after: float
) -> None:
    later = time.time() + 3600  # no refill in between: only what is given back counts
    async with write_transaction(engine) as conn:
        await conn.execute(
            rate_buckets.insert().values(channel="telegram", tokens=10.0, stamp=later)
        )
    done = [
        Chain(str(i), [], Budget(3.0, later), tokens, used=used)
        for i, (tokens, used) in enumerate(chains)
    ]
    async with write_transaction(engine) as conn:
        await record_pass(conn, "telegram", "me", Limits(), done, [], (), NOW)
    assert await _bucket(engine) == after


async def test_a_429_in_a_record_empties_the_budget_for_its_retry_after(
    engine: AsyncEngine,
) -> None:
    later = time.time() + 3600
    async with write_transaction(engine) as conn:
        await conn.execute(
            rate_buckets.insert().values(channel="telegram", tokens=10.0, stamp=later)
        )
    row = OutboxRow(1, "telegram", "7001", TextMessage("x", (), "k"), 0)
    done = [
        Chain("7001", [row], Budget(3.0, later), 2, failed=(row, RateLimited(4))),
        Chain("7002", [], Budget(3.0, later), 2, failed=(row, RateLimited(7))),
    ]
    async with write_transaction(engine) as conn:
        await record_pass(conn, "telegram", "me", Limits(), done, [], (), NOW)
    assert await _bucket(engine) == -7 * 30  # the longest retry_after, for every process
