"""The web chat's rows: delivered messages in order, a reconnect's cursor, purges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.web import (
    append_message,
    forget_messages,
    message,
    message_data,
    messages_after,
    purge,
    save_upload,
    upload,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_messages_in_order_after_a_cursor(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        ids = [
            await append_message(conn, "wA", {"kind": "text", "text": f"m{n}"}, NOW)
            for n in range(5)
        ]
        other = await append_message(conn, "wB", {"kind": "text", "text": "theirs"}, NOW)
        picture = await append_message(conn, "wA", {"kind": "image"}, NOW, b"PNG")
    async with read_transaction(engine) as conn:
        everything = await messages_after(conn, "wA", 0)
        newest = await messages_after(conn, "wA", 0, limit=2)
        later = await messages_after(conn, "wA", ids[2])
        assert await message(conn, "wA", other) is None  # not theirs
        assert (await message(conn, "wB", other)) is not None
        assert await message_data(conn, "wA", picture) == b"PNG"
        assert await message_data(conn, "wB", picture) is None
    assert [m.body["text"] for m in everything[:5]] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m.id for m in newest] == [ids[4], picture]  # the newest, oldest first
    assert [m.id for m in later] == [ids[3], ids[4], picture]
    assert [m.has_data for m in later] == [False, False, True]


async def test_old_rows_are_purged_and_a_kiosk_forgets(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await append_message(conn, "wA", {"kind": "text", "text": "old"}, NOW - timedelta(days=2))
        kept = await append_message(conn, "wA", {"kind": "text", "text": "new"}, NOW)
        await append_message(conn, "wK", {"kind": "text", "text": "kiosk"}, NOW)
        await save_upload(
            conn, "tok-old", "wA", "a.png", "image/png", b"1", NOW - timedelta(days=3)
        )
        await save_upload(conn, "tok-new", "wA", "b.png", "image/png", b"22", NOW)
    async with write_transaction(engine) as conn:
        dropped = await purge(conn, NOW - timedelta(days=1), NOW - timedelta(days=2))
        assert await forget_messages(conn, "wK") == 1
    assert dropped == 2
    async with read_transaction(engine) as conn:
        assert [m.id for m in await messages_after(conn, "wA", 0)] == [kept]
        assert await messages_after(conn, "wK", 0) == []
        assert await upload(conn, "tok-old") is None
        found = await upload(conn, "tok-new")
    assert found is not None
    assert (found.name, found.mime, found.size, found.data) == ("b.png", "image/png", 2, b"22")
