"""The one-survey-per-period record (``survey_marks``) on a real database: a mark names one chat
in one period under one key, is found only when it was recorded, and a mark recorded twice keeps
its first row. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.survey_marks import marked, record_marks, survey_mark
from storage.schema import survey_marks

KEY = b"k" * 32


def test_a_mark_is_the_keyed_hash_of_channel_chat_and_period() -> None:
    """Marks are stored: the same chat and period must give the same mark after an upgrade,
    so its form is fixed (HMAC-SHA256 of ``channel:chat:period``, in hex)."""
    expected = hmac.new(KEY, b"telegram:12345:2026-03", hashlib.sha256).hexdigest()
    assert survey_mark(KEY, "telegram", "12345", "2026-03") == expected
    assert len(expected) == 64


@pytest.mark.parametrize(
    "other",
    [
        (b"j" * 32, "telegram", "12345", "2026-03"),
        (KEY, "zalo", "12345", "2026-03"),
        (KEY, "telegram", "12346", "2026-03"),
        (KEY, "telegram", "12345", "2026-04"),
    ],
    ids=["key", "channel", "chat", "period"],
)
def test_another_key_channel_chat_or_period_is_another_mark(
    other: tuple[bytes, str, str, str],
) -> None:
    assert survey_mark(*other) != survey_mark(KEY, "telegram", "12345", "2026-03")


MINE = survey_mark(KEY, "telegram", "1", "2026-03")
OTHER_CHAT = survey_mark(KEY, "telegram", "2", "2026-03")
LAST_MONTH = survey_mark(KEY, "telegram", "1", "2026-02")


async def _rows(engine: AsyncEngine) -> dict[str, str]:
    async with read_transaction(engine) as conn:
        found = await conn.execute(select(survey_marks.c.mark, survey_marks.c.period))
        return {str(r.mark): str(r.period) for r in found}


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ([], set()),
        ([MINE], {MINE}),
        ([MINE, MINE, LAST_MONTH], {MINE}),
        ([LAST_MONTH], set()),  # another period's mark of the same chat: not recorded
        ([OTHER_CHAT, MINE], {OTHER_CHAT, MINE}),
    ],
    ids=["nothing", "mine", "twice-and-unknown", "unknown", "two"],
)
async def test_only_recorded_marks_are_found(
    engine: AsyncEngine, asked: list[str], found: set[str]
) -> None:
    async with write_transaction(engine) as conn:
        await record_marks(conn, {OTHER_CHAT: "2026-03", MINE: "2026-03"})
    async with read_transaction(engine) as conn:
        assert await marked(conn, iter(asked)) == found  # any iterable, read once


async def test_a_mark_recorded_again_keeps_its_row_and_the_new_ones_are_added(
    engine: AsyncEngine,
) -> None:
    async with write_transaction(engine) as conn:
        await record_marks(conn, {MINE: "2026-03"})
    async with write_transaction(engine) as conn:
        await record_marks(conn, {})  # nothing to record: nothing happens
        await record_marks(conn, {OTHER_CHAT: "2026-03", MINE: "2026-04"})
    assert await _rows(engine) == {MINE: "2026-03", OTHER_CHAT: "2026-03"}
