"""Complaint files on a real database: the copy queue, stored bytes, and metadata listings."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.complaint_files import (
    FileInfo,
    PendingFile,
    StoredFile,
    complaint_files,
    file_failed,
    pending_files,
    store_file,
    stored_file,
)
from storage.schema import complaint_files as files_table
from storage.schema import complaints
from tests.support.rows import complaint_row

NOW = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
LATER = datetime(2026, 3, 5, 2, 31, tzinfo=UTC)
# Binary with NUL bytes and every byte value, ~200 KB: text handling anywhere would corrupt it.
BLOB = b"\x00\x00" + random.Random(7).randbytes(200_000) + bytes(range(256)) + b"\x00"


async def add_complaint(conn: AsyncConnection, code: str = "PA-2026-0001") -> int:
    """A complaint without a contact (anonymous, e.g. from the web form)."""
    result = await conn.execute(
        insert(complaints).values(
            complaint_row(
                code,
                NOW,
                category="trat_tu_xay_dung",
                description="Công trình xây dựng không phép",
                due_on=date(2026, 3, 20),
            )
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


async def add_file(
    conn: AsyncConnection,
    complaint_id: int,
    channel_file_id: str,
    *,
    media: str = "photo",
    file_name: str | None = None,
    mime: str | None = "image/jpeg",
    size: int = 1234,
    channel: str = "telegram",
    status: str = "pending",
) -> int:
    """A file row as the dialogue writes it: pending, with only the channel's file id."""
    result = await conn.execute(
        insert(files_table).values(
            complaint_id=complaint_id,
            media=media,
            file_name=file_name,
            mime=mime,
            size=size,
            channel=channel,
            channel_file_id=channel_file_id,
            status=status,
            created_at=NOW,
            attempts=0,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


async def seed(engine: AsyncEngine) -> tuple[int, int, int]:
    """A complaint with a photo and a PDF, both pending: (complaint, photo, pdf)."""
    async with write_transaction(engine) as conn:
        complaint = await add_complaint(conn)
        photo = await add_file(conn, complaint, "AgAD-photo")
        pdf = await add_file(
            conn,
            complaint,
            "BQAD-pdf",
            media="document",
            file_name="đơn phản ánh.pdf",
            mime="application/pdf",
            size=len(BLOB),
        )
    return complaint, photo, pdf


async def row(engine: AsyncEngine, file_id: int) -> dict[str, Any]:
    async with read_transaction(engine) as conn:
        found = (await conn.execute(select(files_table).where(files_table.c.id == file_id))).one()
    return dict(found._mapping)


async def test_pending_files_lists_the_channels_pending_files_oldest_first(
    engine: AsyncEngine,
) -> None:
    complaint, photo, pdf = await seed(engine)
    async with write_transaction(engine) as conn:
        await add_file(conn, complaint, "zalo-1", channel="zalo")
        await add_file(conn, complaint, "done", status="stored")
        await add_file(conn, complaint, "lost", status="failed")

    async with read_transaction(engine) as conn:
        pending = await pending_files(conn, "telegram")
        first = await pending_files(conn, "telegram", limit=1)
        zalo = await pending_files(conn, "zalo")

    assert pending == [
        PendingFile(
            photo, complaint, "photo", None, "image/jpeg", 1234, "telegram", "AgAD-photo", 0
        ),
        PendingFile(
            pdf,
            complaint,
            "document",
            "đơn phản ánh.pdf",
            "application/pdf",
            len(BLOB),
            "telegram",
            "BQAD-pdf",
            0,
        ),
    ]
    assert [f.id for f in first] == [photo]
    assert [f.channel_file_id for f in zalo] == ["zalo-1"]


async def test_store_file_keeps_the_bytes_and_leaves_the_queue(engine: AsyncEngine) -> None:
    _, photo, pdf = await seed(engine)
    digest = hashlib.sha256(BLOB).hexdigest()

    async with write_transaction(engine) as conn:
        await store_file(conn, pdf, BLOB, digest, LATER)

    stored = await row(engine, pdf)
    assert stored["status"] == "stored"
    assert stored["sha256"] == digest
    assert stored["size"] == len(BLOB)
    assert stored["stored_at"] == LATER
    assert stored["channel_file_id"] == "BQAD-pdf"  # kept: the channel may still resend it
    assert stored["attempts"] == 0
    async with read_transaction(engine) as conn:
        assert [f.id for f in await pending_files(conn, "telegram")] == [photo]


async def test_store_file_size_is_the_real_length_not_the_channels_claim(
    engine: AsyncEngine,
) -> None:
    _, photo, _ = await seed(engine)  # the channel said 1234 bytes
    async with write_transaction(engine) as conn:
        await store_file(
            conn, photo, b"\xff\xd8\xff", hashlib.sha256(b"\xff\xd8\xff").hexdigest(), LATER
        )
    assert (await row(engine, photo))["size"] == 3


async def test_file_failed_counts_attempts_then_gives_up(engine: AsyncEngine) -> None:
    _, photo, pdf = await seed(engine)

    async with write_transaction(engine) as conn:
        await file_failed(conn, photo, 1, give_up=False)
    first = await row(engine, photo)
    assert (first["status"], first["attempts"]) == ("pending", 1)
    async with read_transaction(engine) as conn:
        assert [f.attempts for f in await pending_files(conn, "telegram")] == [1, 0]

    async with write_transaction(engine) as conn:
        await file_failed(conn, photo, 2, give_up=True)
    gave_up = await row(engine, photo)
    assert (gave_up["status"], gave_up["attempts"], gave_up["data"]) == ("failed", 2, None)
    async with read_transaction(engine) as conn:
        assert [f.id for f in await pending_files(conn, "telegram")] == [pdf]


async def test_a_late_failure_never_undoes_a_stored_file(engine: AsyncEngine) -> None:
    _, photo, _ = await seed(engine)
    async with write_transaction(engine) as conn:
        await store_file(conn, photo, b"jpeg", hashlib.sha256(b"jpeg").hexdigest(), LATER)
        await file_failed(conn, photo, 1, give_up=True)
    kept = await row(engine, photo)
    assert (kept["status"], kept["attempts"], kept["data"]) == ("stored", 0, b"jpeg")


async def test_stored_file_round_trips_binary_bytes_exactly(engine: AsyncEngine) -> None:
    complaint, photo, pdf = await seed(engine)
    async with write_transaction(engine) as conn:
        await store_file(conn, pdf, BLOB, hashlib.sha256(BLOB).hexdigest(), LATER)

    async with read_transaction(engine) as conn:
        got = await stored_file(conn, pdf)
        not_yet = await stored_file(conn, photo)
        missing = await stored_file(conn, pdf + 1000)

    assert got == StoredFile(
        pdf, complaint, "document", "đơn phản ánh.pdf", "application/pdf", len(BLOB), BLOB
    )
    assert got is not None
    assert type(got.data) is bytes
    assert hashlib.sha256(got.data).hexdigest() == hashlib.sha256(BLOB).hexdigest()
    assert not_yet is None  # pending: there are no bytes to give yet
    assert missing is None


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL the engine runs inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_complaint_files_lists_metadata_only(engine: AsyncEngine) -> None:
    complaint, photo, pdf = await seed(engine)
    async with write_transaction(engine) as conn:
        other = await add_complaint(conn, "PA-2026-0002")
        await add_file(conn, other, "someone-else")
        await store_file(conn, pdf, BLOB, hashlib.sha256(BLOB).hexdigest(), LATER)
        await file_failed(conn, photo, 5, give_up=True)

    with statements(engine) as seen:
        async with read_transaction(engine) as conn:
            listed = await complaint_files(conn, complaint)

    assert listed == [
        FileInfo(photo, "photo", None, "image/jpeg", 1234, "failed"),
        FileInfo(pdf, "document", "đơn phản ánh.pdf", "application/pdf", len(BLOB), "stored"),
    ]
    assert [f.name for f in dataclasses.fields(FileInfo)] == [
        "id", "media", "file_name", "mime", "size", "status",
    ]  # fmt: skip
    query = next(sql for sql in seen if "complaint_files" in sql)
    assert "complaint_files.data" not in query  # the bytes are never read for a listing
    async with read_transaction(engine) as conn:
        assert await complaint_files(conn, other + 1000) == []
