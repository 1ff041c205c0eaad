"""Files sent with complaints: the copy job's queue, the stored bytes, and staff listings.

A row starts ``pending`` with only the channel's file id (written by the dialogue). The
attachments job downloads the bytes and stores them here (``stored``), or gives up after too
many failed downloads or when the file is over the size limit (``failed``). Once stored, the
project keeps the file itself: the channel's copy may expire without loss.

Listings for staff (:func:`complaint_files`) never read the ``data`` column, so showing a
complaint with many photos does not pull megabytes out of the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import complaint_files as files
from ..schema import complaints, contacts

PENDING = "pending"
STORED = "stored"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A file still to be copied from its channel; ``size`` is what the channel reported."""

    id: int
    complaint_id: int
    media: str
    file_name: str | None
    mime: str | None
    size: int
    channel: str
    channel_file_id: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file whose bytes are kept by the project, ready to be sent to staff."""

    id: int
    complaint_id: int
    media: str
    file_name: str | None
    mime: str | None
    size: int
    data: bytes


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What a staff view shows about a file: its metadata and status, never its bytes."""

    id: int
    media: str
    file_name: str | None
    mime: str | None
    size: int
    status: str


async def pending_files(conn: AsyncConnection, channel: str, limit: int = 20) -> list[PendingFile]:
    """Files of ``channel`` still waiting to be copied, oldest first (ids grow with time)."""
    rows = await conn.execute(
        select(
            files.c.id,
            files.c.complaint_id,
            files.c.media,
            files.c.file_name,
            files.c.mime,
            files.c.size,
            files.c.channel,
            files.c.channel_file_id,
            files.c.attempts,
        )
        .where(files.c.status == PENDING, files.c.channel == channel)
        .order_by(files.c.id)
        .limit(limit)
    )
    return [
        PendingFile(
            id=int(r.id),
            complaint_id=int(r.complaint_id),
            media=r.media,
            file_name=r.file_name,
            mime=r.mime,
            size=int(r.size),
            channel=r.channel,
            channel_file_id=r.channel_file_id,
            attempts=int(r.attempts),
        )
        for r in rows
    ]


async def store_file(
    conn: AsyncConnection,
    file_id: int,
    data: bytes,
    sha256: str,
    now: datetime,
    *,
    mime: str | None = None,
    file_name: str | None = None,
) -> None:
    """Keeps the downloaded bytes; ``size`` becomes the real length, not the channel's claim,
    and ``mime``/``file_name``, when given, replace the declared ones (read from the bytes).

    The channel's file id stays: it lets the bot resend the file cheaply while the channel
    still has it, and ties the row to the citizen's original message.
    """
    values: dict[str, object] = {
        "status": STORED,
        "data": data,
        "sha256": sha256,
        "size": len(data),
        "stored_at": now,
    }
    if mime is not None:
        values["mime"] = mime
        values["file_name"] = file_name
    await conn.execute(update(files).where(files.c.id == file_id).values(**values))


async def file_failed(conn: AsyncConnection, file_id: int, attempts: int, give_up: bool) -> None:
    """Records a failed copy: ``attempts`` is the new total (the row's attempts + 1).

    With ``give_up`` the file leaves the queue as ``failed``. Only a pending row changes, so a
    late failure report (say, from a second job process) never undoes a stored file.
    """
    values: dict[str, object] = {"attempts": attempts}
    if give_up:
        values["status"] = FAILED
    await conn.execute(
        update(files).where(files.c.id == file_id, files.c.status == PENDING).values(**values)
    )


async def stored_file(conn: AsyncConnection, file_id: int) -> StoredFile | None:
    """The file with its bytes, or None when there is no such file or it is not stored yet."""
    row = (
        await conn.execute(
            select(
                files.c.id,
                files.c.complaint_id,
                files.c.media,
                files.c.file_name,
                files.c.mime,
                files.c.size,
                files.c.data,
            ).where(files.c.id == file_id, files.c.status == STORED)
        )
    ).first()
    if row is None or row.data is None:
        return None
    return StoredFile(
        id=int(row.id),
        complaint_id=int(row.complaint_id),
        media=row.media,
        file_name=row.file_name,
        mime=row.mime,
        size=int(row.size),
        # Drivers may hand back a memoryview; callers compare and send plain bytes.
        data=bytes(row.data),
    )


async def complaint_files(conn: AsyncConnection, complaint_id: int) -> list[FileInfo]:
    """The complaint's files in the order they were sent, metadata only (for staff views)."""
    rows = await conn.execute(
        select(
            files.c.id,
            files.c.media,
            files.c.file_name,
            files.c.mime,
            files.c.size,
            files.c.status,
        )
        .where(files.c.complaint_id == complaint_id)
        .order_by(files.c.id)
    )
    return [
        FileInfo(
            id=int(r.id),
            media=r.media,
            file_name=r.file_name,
            mime=r.mime,
            size=int(r.size),
            status=r.status,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class FileSender:
    """Who sent a file with a complaint, to be told when it could not be kept."""

    code: str
    channel: str
    external_id: str
    language: str | None


async def file_sender(conn: AsyncConnection, file_id: int) -> FileSender | None:
    """The chat that sent file ``file_id`` and its complaint's code; None when the complaint
    has no chat (a web form, a deleted contact) or the chat blocked the bot."""
    found = await conn.execute(
        select(complaints.c.code, contacts.c.channel, contacts.c.external_id, contacts.c.language)
        .select_from(files)
        .join(complaints, complaints.c.id == files.c.complaint_id)
        .join(contacts, contacts.c.id == complaints.c.contact_id)
        .where(files.c.id == file_id, contacts.c.stopped.is_(False))
    )
    row = found.first()
    return None if row is None else FileSender(row[0], row[1], row[2], row[3])
