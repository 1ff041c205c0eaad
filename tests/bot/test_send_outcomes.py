"""What each failed send does to its outbox row (``bot.runtime.send_record.record_failure``),
one outcome per row of the table: status, attempts spent, when it is tried again, the error
kept (a retried row keeps only the error's class), and the kind tallied for the minute's
activity line (issue 17: the held, deferred and paused cases and the tallies had no test
that would notice them change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import (
    ChatBlocked,
    Deferred,
    Paused,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unreachable,
)
from bot.runtime.activity import ACTIVITY
from bot.runtime.send_budget import Limits
from bot.runtime.send_record import MAX_ATTEMPTS, Chain, record_failure, record_pass
from storage import write_transaction
from storage.outbound import TextMessage
from storage.queries.leases import Budget
from storage.queries.outbox import OutboxRow
from storage.schema import contacts
from storage.schema_runtime import outbox
from tests.bot.test_sender import NOW, _queue

LATER = NOW + timedelta(hours=3)


def _told(reason: str) -> Unreachable:
    outcome = Unreachable("outside the window", reason=reason)
    outcome.told = True
    return outcome


@dataclass(frozen=True)
class Case:
    name: str
    outcome: BaseException
    attempts_before: int
    status: str
    attempts: int
    not_before: datetime | None
    last_error: str | None
    tally: str | None  # the activity line's kind:class, None: no tally


CASES = [
    Case("held, window", Unreachable("outside the window"), 0, "held", 1, None,
         "[window] Unreachable: outside the window", "telegram_unreachable:Unreachable"),
    Case("held, told, billed", _told("billed"), 2, "held", 3, None,
         "told: [billed] Unreachable: outside the window", "telegram_unreachable:Unreachable"),
    Case("deferred", Deferred(LATER, "quota"), 2, "pending", 2, LATER,
         "Deferred", "telegram_deferred:Deferred"),
    Case("rate limited", RateLimited(7), 1, "pending", 2, NOW + timedelta(seconds=7),
         "RateLimited", "telegram_rate_limited:RateLimited"),
    Case("paused", Paused(60, "token refused"), 1, "pending", 1, NOW + timedelta(seconds=60),
         "Paused", "telegram_rate_limited:Paused"),
    Case("transient, first", TransientSendError("Bad Gateway"), 0, "pending", 1,
         NOW + timedelta(seconds=0.5), "TransientSendError",
         "telegram_retry:TransientSendError"),
    Case("transient, fourth", TransientSendError("Bad Gateway"), 3, "pending", 4,
         NOW + timedelta(seconds=4), "TransientSendError",
         "telegram_retry:TransientSendError"),
    Case("transient, backoff capped", TransientSendError("x"), 10, "pending", 11,
         NOW + timedelta(seconds=300), "TransientSendError", "telegram_retry:TransientSendError"),
    Case("transient, last attempt", TransientSendError("x"), MAX_ATTEMPTS - 1, "dead",
         MAX_ATTEMPTS - 1, None, "TransientSendError: x", "telegram_dead:TransientSendError"),
    Case("permanent", PermanentSendError("Bad Request: chat not found"), 0, "dead", 0, None,
         "PermanentSendError: Bad Request: chat not found", "telegram_dead:PermanentSendError"),
]  # fmt: skip


async def _row(
    engine: AsyncEngine, message_id: int
) -> tuple[str, int, datetime | None, str | None]:
    async with engine.connect() as conn:
        got = (
            await conn.execute(
                select(
                    outbox.c.status, outbox.c.attempts, outbox.c.not_before, outbox.c.last_error
                ).where(outbox.c.id == message_id)
            )
        ).one()
    return got[0], got[1], got[2], got[3]


async def _ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return [
            int(i)
            for i in (await conn.execute(select(outbox.c.id).order_by(outbox.c.id))).scalars()
        ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_failed_send_leaves_its_row_as_its_outcome_says(
    engine: AsyncEngine, case: Case
) -> None:
    await _queue(engine, [("7001", "câu hỏi"), ("7001", "câu sau")])
    first, second = await _ids(engine)
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(outbox).where(outbox.c.id == first).values(attempts=case.attempts_before)
        )
    row = OutboxRow(
        first, "telegram", "7001", TextMessage("câu hỏi", (), "k"), case.attempts_before
    )
    ACTIVITY.take()  # a fresh tally
    async with write_transaction(engine) as conn:
        await record_failure(conn, "telegram", row, case.outcome, NOW)
    assert await _row(engine, first) == (
        case.status,
        case.attempts,
        case.not_before,
        case.last_error,
    )
    assert (await _row(engine, second))[0] == "pending"  # the next message is untouched
    said = ACTIVITY.take()
    tallied = None if said is None else said[1].split("errors=", 1)[1]
    assert tallied == case.tally


async def test_a_blocked_chat_is_stopped_and_everything_queued_for_it_dropped(
    engine: AsyncEngine,
) -> None:
    await _queue(engine, [("7001", "câu hỏi"), ("7001", "câu sau"), ("7002", "khác")])
    first, second, other = await _ids(engine)
    row = OutboxRow(first, "telegram", "7001", TextMessage("câu hỏi", (), "k"), 0)
    ACTIVITY.take()
    async with write_transaction(engine) as conn:
        await record_failure(conn, "telegram", row, ChatBlocked("Forbidden: blocked"), NOW)
    for message_id in (first, second):
        assert await _row(engine, message_id) == ("dead", 0, None, "chat blocked")
    assert (await _row(engine, other))[0] == "pending"
    async with engine.connect() as conn:
        stopped = dict(
            (await conn.execute(select(contacts.c.external_id, contacts.c.stopped))).tuples().all()
        )
    assert stopped == {"7001": True, "7002": False}
    assert ACTIVITY.take() is None  # a line of its own, not a tally


async def test_a_pass_records_what_was_sent_and_the_failure_of_every_chain(
    engine: AsyncEngine,
) -> None:
    """One record for three chats that finished: the sent row is marked sent at that moment,
    and both failures after it are recorded, whatever their place among the chains."""
    await _queue(engine, [("7001", "một"), ("7002", "hai"), ("7003", "ba")])
    ids = await _ids(engine)
    rows = [
        OutboxRow(i, "telegram", chat, TextMessage(text, (), "k"), 0)
        for i, (chat, text) in zip(
            ids, [("7001", "một"), ("7002", "hai"), ("7003", "ba")], strict=True
        )
    ]
    done = [
        Chain("7001", [rows[0]], Budget(3.0, 0.0), 1, sent=[rows[0]], used=1),
        Chain("7002", [rows[1]], Budget(3.0, 0.0), 1, failed=(rows[1], TransientSendError("x"))),
        Chain("7003", [rows[2]], Budget(3.0, 0.0), 1, failed=(rows[2], PermanentSendError("y"))),
    ]
    async with write_transaction(engine) as conn:
        recorded = await record_pass(conn, "telegram", "me", Limits(), done, [rows[0]], (), NOW)
    assert recorded == 1
    async with engine.connect() as conn:
        sent_at = (
            await conn.execute(select(outbox.c.sent_at).where(outbox.c.id == ids[0]))
        ).scalar_one()
    assert sent_at == NOW
    assert (await _row(engine, ids[0]))[0:2] == ("sent", 1)
    assert await _row(engine, ids[1]) == (
        "pending",
        1,
        NOW + timedelta(seconds=0.5),
        "TransientSendError",
    )
    assert await _row(engine, ids[2]) == ("dead", 0, None, "PermanentSendError: y")
