"""Issue 10, point 4, on disk: the order survey rows lie in must not follow the order people
answered. On PostgreSQL a table's rows lie in the order they were written (each update moved
to the end), so ``ctid`` order, or a ``pg_dump``, lists responses in the order they were
started or finished, which the times of a chat's messages tell. The scheduled shuffle rewrites
both tables in the order of their random ids. On SQLite they always lie in id order.

Not statistical: the ids are chosen so that id order differs from both the order the surveys
started and the order they ended; six surveys, interleaved step by step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher
from conversations import default_catalog
from jobs.runner import SHUFFLE_EVERY_S, JobsRunner
from storage import WriteSet, flush, read_transaction, write_transaction
from tests.jobs.test_leadership import DIGESTS
from tests.support.clock import SequentialClock, SequentialIds

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
#: Response ids in the order the six surveys started…
STARTED = [5_000_000_004, 5_000_000_001, 5_000_000_006, 5_000_000_003, 5_000_000_005, 5_000_000_002]
#: …and the order they were completed (neither is the id order).
COMPLETED = [
    5_000_000_006,
    5_000_000_002,
    5_000_000_004,
    5_000_000_005,
    5_000_000_001,
    5_000_000_003,
]
ITEMS = ["1.1", "1.2", "comment"]


async def _write(engine: AsyncEngine, ws: WriteSet) -> None:
    async with write_transaction(engine) as conn:
        await flush(conn, ws)


async def _answer_interleaved(engine: AsyncEngine) -> None:
    for n, rid in enumerate(STARTED):
        ws = WriteSet()
        ws.start_response(rid, "sipas-2640", START + timedelta(minutes=n), None, None, None)
        await _write(engine, ws)
    for item in ITEMS:  # one answer of each survey in turn, as the chats answer
        for rid in STARTED:
            ws = WriteSet()
            ws.save_answer(rid, item, f"góp ý {rid}" if item == "comment" else 4)
            await _write(engine, ws)
    for n, rid in enumerate(COMPLETED):
        ws = WriteSet()
        ws.end_response(rid, "completed", START + timedelta(minutes=30 + n))
        await _write(engine, ws)


async def _on_disk(engine: AsyncEngine) -> tuple[list[int], list[int]]:
    """Response ids as the rows lie: in ``ctid`` order (PostgreSQL) or as stored (SQLite)."""
    order = "" if engine.dialect.name == "sqlite" else " ORDER BY ctid"
    async with read_transaction(engine) as conn:
        responses = [
            r[0] for r in await conn.execute(text(f"SELECT id FROM survey_responses{order}"))
        ]
        answer_rows = await conn.execute(text(f"SELECT response_id FROM answers{order}"))
        answers = list(dict.fromkeys(r[0] for r in answer_rows))
    return responses, answers


async def test_survey_rows_lie_in_random_id_order_once_shuffled(engine: AsyncEngine) -> None:
    await _answer_interleaved(engine)
    before = await _on_disk(engine)
    if engine.dialect.name != "sqlite":
        # What the shuffle is for: PostgreSQL keeps the last write of each row at the end.
        assert before[0] == COMPLETED
    # The scheduled job, as the leader runs it (at least every hour: response times are cut
    # to the hour, so only the rows of about the last hour lie in the order answered).
    clock = SequentialClock(start=START)
    dispatcher = Dispatcher(engine, clock=clock, new_id=SequentialIds())
    runner = JobsRunner(engine, dispatcher, DIGESTS, default_catalog(), clock)
    job, every_s = runner.jobs["shuffle"]
    assert every_s == SHUFFLE_EVERY_S <= 3600
    assert await job() is (engine.dialect.name != "sqlite")
    await dispatcher.close()
    responses, answers = await _on_disk(engine)
    assert responses == sorted(STARTED)
    assert answers == sorted(STARTED)
    assert responses not in (STARTED, COMPLETED)
    # Nothing lost or changed by the rewrite.
    async with read_transaction(engine) as conn:
        kept = (await conn.execute(text("SELECT count(*) FROM answers"))).scalar_one()
        done = (await conn.execute(text(
            "SELECT count(*) FROM survey_responses WHERE status = 'completed'"))).scalar_one()  # fmt: skip
    assert (kept, done) == (len(STARTED) * len(ITEMS), len(STARTED))
