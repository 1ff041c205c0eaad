"""Shared sending across processes: which process sends to a chat now, and the send budgets.

A chat is sent to by the process holding its lease (``outbox_leases``), so its messages leave
in order even with several processes draining one outbox. A lease ends when its holder
releases it after a pass, or by itself at ``until`` (a holder killed mid-pass): the next
process then sends what was left, and at most the message in flight at the kill is sent
twice. Budgets are token buckets kept in the database, so the limits hold for the whole bot,
not per process: one row per channel (``rate_buckets``) and one per chat (on its lease).
Times for buckets are epoch seconds (real time, whatever clock the caller uses for rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import outbox, outbox_leases, rate_buckets


@dataclass(slots=True)
class Budget:
    """A token bucket: ``tokens`` now (may be negative: a pause), refilled since ``stamp``."""

    tokens: float
    stamp: float

    def refill(self, at: float, rate: float, burst: float) -> None:
        self.tokens = min(burst, self.tokens + max(0.0, at - self.stamp) * rate)
        self.stamp = max(self.stamp, at)


def _insert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (PostgreSQL and SQLite alike)."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


async def claim_chats(
    conn: AsyncConnection,
    channel: str,
    holder: str,
    now: datetime,
    until: datetime,
    *,
    chats: int,
    burst: float,
    at: float,
    chat_rate: float = 1.0,
) -> dict[str, Budget]:
    """Leases, until ``until``, up to ``chats`` chats with a message due now: chats with a
    message someone waits for first, then bulk, each group oldest first. Skips chats another
    holder's lease still covers, chats whose oldest pending message waits for a retry, and
    chats that spent their own budget (refilled at ``chat_rate`` a second). Returns each
    claimed chat's budget. Run it in a write transaction.

    First deletes the leases ended ``LEASE_REST`` ago or longer (longer still if a budget takes
    longer to refill, ``burst / chat_rate`` seconds: a chat leased anew gets ``burst``, what
    its old lease would have given it by then)."""
    await forget_leases(conn, idle_before(now, burst, chat_rate))
    heads = (
        select(
            outbox.c.chat_id,
            func.min(outbox.c.id).label("head"),
            func.min(outbox.c.priority).label("urgency"),
        )
        .where(outbox.c.status == "pending", outbox.c.channel == channel)
        .group_by(outbox.c.chat_id)
        .subquery()
    )
    first = outbox.alias("first")
    taken = outbox_leases.alias("taken")
    candidates = (
        select(heads.c.chat_id)
        .join(first, first.c.id == heads.c.head)
        .outerjoin(taken, (taken.c.channel == channel) & (taken.c.chat_id == heads.c.chat_id))
        .where(
            or_(first.c.not_before.is_(None), first.c.not_before <= now),
            or_(taken.c.until.is_(None), taken.c.until <= now, taken.c.holder == holder),
            # A chat that spent its own budget waits until a message's worth came back.
            or_(taken.c.tokens.is_(None), taken.c.tokens + (at - taken.c.stamp) * chat_rate >= 1),
        )
        .order_by(heads.c.urgency, heads.c.head)  # someone waiting first, then bulk
        .limit(chats)
    )
    wanted = [str(c) for c in (await conn.execute(candidates)).scalars()]
    return await lease_chats(conn, channel, holder, wanted, now, until, burst=burst, at=at)


async def lease_chats(
    conn: AsyncConnection,
    channel: str,
    holder: str,
    chats: Sequence[str],
    now: datetime,
    until: datetime,
    *,
    burst: float,
    at: float,
) -> dict[str, Budget]:
    """Leases these chats to ``holder`` until ``until`` (or extends its lease), one statement
    for them all; a chat another holder's lease still covers is left out. Returns each leased
    chat's budget (``burst`` tokens at ``at`` for a chat never leased). Run it in a write
    transaction; the event's own transaction does, so its replies may leave at once."""
    if not chats:
        return {}
    stmt = _insert(conn, outbox_leases).values(
        [
            {
                "channel": channel,
                "chat_id": chat,
                "holder": holder,
                "until": until,
                "tokens": burst,
                "stamp": at,
            }
            for chat in chats
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel", "chat_id"],
        set_={"holder": stmt.excluded.holder, "until": stmt.excluded.until},
        where=or_(outbox_leases.c.until <= now, outbox_leases.c.holder == holder),
    ).returning(outbox_leases.c.chat_id, outbox_leases.c.tokens, outbox_leases.c.stamp)
    got = await conn.execute(stmt)
    return {str(r.chat_id): Budget(float(r.tokens), float(r.stamp)) for r in got}


async def release_chats(
    conn: AsyncConnection,
    channel: str,
    holder: str,
    budgets: Mapping[str, Budget],
    now: datetime,
) -> None:
    """Ends this holder's leases on these chats and keeps their budgets for the next pass
    (one statement for them all, whatever the number of chats)."""
    if not budgets:
        return
    await conn.execute(
        update(outbox_leases)
        .where(
            outbox_leases.c.channel == bindparam("b_channel"),
            outbox_leases.c.chat_id == bindparam("b_chat"),
            outbox_leases.c.holder == bindparam("b_holder"),
        )
        .values(
            until=bindparam("b_until"), tokens=bindparam("b_tokens"), stamp=bindparam("b_stamp")
        ),
        [
            {
                "b_channel": channel,
                "b_chat": chat,
                "b_holder": holder,
                "b_until": now,
                "b_tokens": budget.tokens,
                "b_stamp": budget.stamp,
            }
            for chat, budget in budgets.items()
        ],
    )


async def take_tokens(
    conn: AsyncConnection,
    channel: str,
    wanted: int,
    *,
    rate: float,
    burst: float,
    at: float,
    keep: float = 0.0,
) -> int:
    """Takes up to ``wanted`` whole tokens from the channel's budget, leaving at least
    ``keep`` (bulk sends keep half the budget for answers); returns how many.
    Run it in a write transaction (the row is locked until it ends)."""
    await conn.execute(
        _insert(conn, rate_buckets)
        .values(channel=channel, tokens=burst, stamp=at)
        .on_conflict_do_nothing(index_elements=["channel"])
    )
    row = (
        await conn.execute(
            select(rate_buckets.c.tokens, rate_buckets.c.stamp)
            .where(rate_buckets.c.channel == channel)
            .with_for_update()
        )
    ).one()
    budget = Budget(float(row.tokens), float(row.stamp))
    budget.refill(at, rate, burst)
    granted = max(0, min(wanted, int(budget.tokens - keep)))
    budget.tokens -= granted
    await _save(conn, channel, budget)
    return granted


async def give_back(
    conn: AsyncConnection, channel: str, unused: int, *, burst: float, pause_s: float, rate: float
) -> None:
    """Returns tokens taken but not used; ``pause_s`` > 0 (a 429's retry_after) empties the
    budget for that long, for every process."""
    if unused <= 0 and pause_s <= 0:
        return
    row = (
        await conn.execute(
            select(rate_buckets.c.tokens, rate_buckets.c.stamp)
            .where(rate_buckets.c.channel == channel)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        return
    budget = Budget(min(burst, float(row.tokens) + unused), float(row.stamp))
    if pause_s > 0:
        budget.tokens = min(budget.tokens, -pause_s * rate)
    await _save(conn, channel, budget)


async def _save(conn: AsyncConnection, channel: str, budget: Budget) -> None:
    await conn.execute(
        update(rate_buckets)
        .where(rate_buckets.c.channel == channel)
        .values(tokens=budget.tokens, stamp=budget.stamp)
    )


async def holders(conn: AsyncConnection, channel: str, now: datetime) -> set[str]:
    """The holders of leases still running on this channel."""
    found = await conn.execute(
        select(outbox_leases.c.holder)
        .where(outbox_leases.c.channel == channel, outbox_leases.c.until > now)
        .distinct()
    )
    return {str(h) for h in found.scalars()}


async def end_leases_of(
    conn: AsyncConnection, channel: str, gone: Sequence[str], now: datetime
) -> int:
    """Ends the leases of holders known to be gone (a process killed on this machine)."""
    if not gone:
        return 0
    done = await conn.execute(
        update(outbox_leases)
        .where(outbox_leases.c.channel == channel, outbox_leases.c.holder.in_(list(gone)))
        .values(until=now)
    )
    return int(done.rowcount or 0)


#: A lease ended this long ago is deleted by the next sender pass (and the restamp run): it
#: kept the chat's budget (full again after ``chat_burst / per_chat_per_second`` seconds, 3 s
#: by default) and the exact time of the chat's last reply (``until``, ``stamp``, to the
#: microsecond), which next to a log's times tells which chat ended a survey.
LEASE_REST = timedelta(seconds=10)


def idle_rest(burst: float, chat_rate: float) -> timedelta:
    """How long after its end a lease is idle and may go: ``LEASE_REST``, or the time a
    budget of ``burst`` messages takes to refill at ``chat_rate`` a second if longer (a chat
    leased anew gets ``burst``: what its old lease would have given it by then)."""
    full = timedelta(seconds=burst / chat_rate) if chat_rate > 0 else LEASE_REST
    return max(LEASE_REST, full)


def idle_before(now: datetime, burst: float, chat_rate: float) -> datetime:
    """Leases ended before this are idle and may go (``idle_rest`` before ``now``)."""
    return now - idle_rest(burst, chat_rate)


async def forget_idle_leases(conn: AsyncConnection, now: datetime) -> int:
    """Deletes the leases ended ``LEASE_REST`` before ``now`` or earlier: an idle chat keeps
    no lease row. Run it in a write transaction."""
    return await forget_leases(conn, now - LEASE_REST)


async def forget_leases(conn: AsyncConnection, before: datetime) -> int:
    """Drops leases of chats nobody has sent to since ``before`` (their budgets are full)."""
    done = await conn.execute(outbox_leases.delete().where(outbox_leases.c.until < before))
    return int(done.rowcount or 0)
