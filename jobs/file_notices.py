"""Tells a citizen that a file sent with their complaint could not be kept (too big once
downloaded, or not a kind of file we keep), so that no file is dropped in silence.

A file whose size the channel did not declare (a Zalo file, a forwarded document) is accepted
by the dialogue and measured only while the attachments job downloads it; this is how the
citizen learns what the job found.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from conversations import Catalog, Reply
from conversations.limits import MAX_FILE_BYTES
from storage import WriteSet, flush
from storage.outbound import TextMessage
from storage.queries.complaint_files import PendingFile, file_sender

#: Why the attachments job gave a file up -> the sentence the citizen gets.
REASONS = {"too_large": "harden.file_refused.too_large", "type_refused": "harden.file_refused.type"}


class FileNotices:
    """``tell(conn, file, reason, now)``: queues the message for ``reason`` (a key of
    ``REASONS``; other reasons are not the citizen's to fix and say nothing) in the sender's
    language, inside the caller's transaction."""

    def __init__(self, catalog: Catalog, default_language: str = "vi") -> None:
        self.catalog = catalog
        self.default_language = default_language

    async def tell(
        self, conn: AsyncConnection, pending: PendingFile, reason: str, now: datetime
    ) -> bool:
        key = REASONS.get(reason)
        if key is None:
            return False
        sender = await file_sender(conn, pending.id)
        if sender is None:
            return False
        reply = Reply(key, (("code", sender.code), ("max", MAX_FILE_BYTES // (1024 * 1024))))
        message = self.catalog.render(reply, sender.language or self.default_language)
        text = TextMessage(message.text, message.choices, message.key)
        writes = WriteSet()
        # Bulk: nobody is waiting for this answer at this moment.
        writes.enqueue(sender.channel, sender.external_id, text, now, bulk=True)
        await flush(conn, writes)
        return True
