"""A ZNS notice waiting for Zalo's sending hours (``bot.errors.Deferred``), on SQLite and
PostgreSQL: it is known to have waited (told and counted once), and when the citizen writes
it goes at once with the held ones, counted as re-sent; other chats' waits stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import WriteSet, flush, write_transaction
from storage.outbound import TextMessage
from storage.queries.outbox import mark_retry, pending
from storage.queries.zalo_chats import (
    DEFERRED,
    citizen_wrote,
    held_choices,
    notices_between,
    waits_for_zns,
)
from storage.schema import outbox

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 23:00 in Hanoi
OPENING = NOW + timedelta(hours=7)
CHAT = "8756112331268738712"
OTHER = "5512300000000000001"
NOTICE = TextMessage("PA-2026-000001 đã giải quyết", (("rate:1:5", "5"),), "notice.resolved")


async def test_a_notice_waiting_for_zns_goes_at_once_when_the_citizen_writes(
    engine: AsyncEngine,
) -> None:
    async with write_transaction(engine) as conn:
        ws = WriteSet()
        for chat in (CHAT, OTHER):
            ws.enqueue("zalo", chat, NOTICE, NOW)
        await flush(conn, ws)
        assert not await waits_for_zns(conn, CHAT, NOTICE.key, NOTICE.text)
        for row in (await conn.execute(select(outbox.c.id))).scalars():
            await mark_retry(conn, int(row), OPENING, DEFERRED, spend=False)
        assert await waits_for_zns(conn, CHAT, NOTICE.key, NOTICE.text)
        assert not await waits_for_zns(conn, CHAT, NOTICE.key, "another notice")
        assert await pending(conn, "zalo", NOW + timedelta(hours=1)) == []
    async with write_transaction(engine) as conn:
        assert await held_choices(conn, CHAT) == [("rate:1:5",)]
        assert await citizen_wrote(conn, CHAT, NOW + timedelta(hours=2)) == 1
        due = await pending(conn, "zalo", NOW + timedelta(hours=2))
        counts = await notices_between(conn, NOW, OPENING)
    assert [r.chat_id for r in due] == [CHAT]  # the other chat still waits for 06:00
    assert counts == {"held": 0, "resent": 1, "template": 0}
