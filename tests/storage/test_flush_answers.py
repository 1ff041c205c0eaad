"""Survey answers as a batch writes them (``write_flush.flush``): one column per kind of value,
the last value of an answer wins, and a chat deleting its data reaches its own survey in
progress only. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import WriteSet, flush, read_transaction, write_transaction
from storage.schema import answers, survey_responses

AT = datetime(2026, 11, 30, 3, tzinfo=UTC)


async def _flush(engine: AsyncEngine, ws: WriteSet) -> None:
    async with write_transaction(engine) as conn:
        await flush(conn, ws)


async def _responses(engine: AsyncEngine) -> dict[int, str]:
    async with read_transaction(engine) as conn:
        rows = await conn.execute(select(survey_responses.c.id, survey_responses.c.status))
        return {int(r[0]): r[1] for r in rows}


async def test_each_answer_is_kept_in_the_column_of_its_kind(engine: AsyncEngine) -> None:
    ws = WriteSet()
    ws.start_response(1, "sipas-2640", AT, None, None, None)
    ws.save_answer(1, "1.1", 4)
    ws.save_answer(1, "comment", "Phòng chờ chật")
    ws.save_answer(1, "info", "posted,staff")
    await _flush(engine, ws)
    ws = WriteSet()
    ws.save_answer(1, "1.1", 2)  # answered again: the last wins
    ws.save_answer(1, "comment", "Cần thêm ghế")
    await _flush(engine, ws)
    async with read_transaction(engine) as conn:
        rows = await conn.execute(
            select(answers.c.item, answers.c.value_int, answers.c.value_text).order_by(
                answers.c.item
            )
        )
        stored = [tuple(r) for r in rows]
    assert stored == [
        ("1.1", 2, None),
        ("comment", None, "Cần thêm ghế"),
        ("info", None, "posted,staff"),
    ]


async def test_deleting_ones_data_reaches_ones_own_survey_in_progress_only(
    engine: AsyncEngine,
) -> None:
    ws = WriteSet()
    for rid in (1, 2, 3):
        ws.start_response(rid, "sipas-2640", AT, None, None, None)
        ws.save_answer(rid, "1.1", 4)
    ws.end_response(3, "completed", AT)
    await _flush(engine, ws)
    ws = WriteSet()
    ws.forget(11, 1)  # this chat's survey in progress
    ws.forget(12, 3)  # a completed survey is anonymous: no chat's deletion reaches it
    await _flush(engine, ws)
    assert await _responses(engine) == {2: "in_progress", 3: "completed"}
    async with read_transaction(engine) as conn:
        left = sorted((await conn.execute(select(answers.c.response_id))).scalars().all())
    assert left == [2, 3]


async def test_an_answer_taken_back_is_gone(engine: AsyncEngine) -> None:
    """Skipping a question answered before (after going back) takes its answer away."""
    ws = WriteSet()
    for rid in (1, 2):
        ws.start_response(rid, "sipas-2640", AT, None, None, None)
        ws.save_answer(rid, "1.1", 4)
        ws.save_answer(rid, "1.2", 5)
    await _flush(engine, ws)
    ws = WriteSet()
    ws.clear_answer(1, "1.1")  # stored in an earlier batch
    ws.save_answer(1, "1.3", 3)
    ws.clear_answer(1, "1.3")  # given and taken back in this one
    await _flush(engine, ws)
    async with read_transaction(engine) as conn:
        rows = await conn.execute(
            select(answers.c.response_id, answers.c.item).order_by(
                answers.c.response_id, answers.c.item
            )
        )
        left = [tuple(r) for r in rows]
    assert left == [(1, "1.2"), (2, "1.1"), (2, "1.2")]
