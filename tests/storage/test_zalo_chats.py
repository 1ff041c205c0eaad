"""Zalo's window bookkeeping on SQLite and PostgreSQL: a chat's last message, held messages
put back in line in their order, the digest's counts, and receipts found by their short code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import WriteSet, flush, read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.outbox import held_since, mark_held, pending
from storage.queries.receipts import NewReceipt, issue_receipts
from storage.queries.surveys import receipts_by_short_code
from storage.queries.zalo_chats import (
    citizen_wrote,
    last_wrote,
    notices_between,
    record_notices,
)
from storage.schema import outbox

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
CHAT = "8756112331268738712"
OTHER = "5512300000000000001"


async def test_held_messages_go_back_in_line_in_their_order(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        ws = WriteSet()
        for chat, text in ((CHAT, "1"), (OTHER, "x"), (CHAT, "2")):
            ws.enqueue("zalo", chat, TextMessage(text, (), "notice.resolved"), NOW)
        await flush(conn, ws)
        ids = [int(i) for i in (await conn.execute(select(outbox.c.id))).scalars()]
        for held in ids:
            await mark_held(conn, held, "UnreachableOnZalo")
    async with write_transaction(engine) as conn:
        assert await last_wrote(conn, CHAT) is None
        assert await citizen_wrote(conn, CHAT, NOW + timedelta(days=9)) == 2
        assert await citizen_wrote(conn, CHAT, NOW + timedelta(days=9, seconds=1)) == 0
        assert await last_wrote(conn, CHAT) == NOW + timedelta(days=9, seconds=1)
        queued = await pending(conn, "zalo", NOW + timedelta(days=10))
        await record_notices(conn, ["template", "template", "nonsense"], NOW)
    assert [(r.chat_id, r.message.text) for r in queued] == [(CHAT, "1"), (CHAT, "2")]  # type: ignore[union-attr]
    async with read_transaction(engine) as conn:
        counts = await notices_between(conn, NOW, NOW + timedelta(days=30))
        earlier = await notices_between(conn, NOW - timedelta(days=1), NOW)
    assert counts == {"held": 0, "resent": 2, "template": 2}
    assert earlier == {"held": 0, "resent": 0, "template": 0}


async def test_a_message_already_told_by_template_counts_neither_as_held_nor_as_resent(
    engine: AsyncEngine,
) -> None:
    async with write_transaction(engine) as conn:
        ws = WriteSet()
        for text in ("told", "untold"):
            ws.enqueue("zalo", CHAT, TextMessage(text, (), "notice.resolved"), NOW)
        await flush(conn, ws)
        told, untold = [int(i) for i in (await conn.execute(select(outbox.c.id))).scalars()]
        await mark_held(conn, told, "ButtonsHeld", told=True)
        await mark_held(conn, untold, "UnreachableOnZalo")
    async with read_transaction(engine) as conn:
        assert await held_since(conn, NOW - timedelta(days=1)) == 1
    async with write_transaction(engine) as conn:
        assert await citizen_wrote(conn, CHAT, NOW + timedelta(days=9)) == 2  # both go again
        counts = await notices_between(conn, NOW, NOW + timedelta(days=30))
    assert counts == {"held": 0, "resent": 1, "template": 0}


async def test_receipts_are_found_by_their_short_code(engine: AsyncEngine) -> None:
    code = "4821773015"
    async with write_transaction(engine) as conn:
        await issue_receipts(conn, [NewReceipt("t" * 24, "1.009972", short_code=code)], NOW)
        found = await receipts_by_short_code(conn, [code, "1111111111"])
        assert list(found) == [code]
        assert found[code].token == "t" * 24
