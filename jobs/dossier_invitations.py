"""Dossiers over time: the one reminder of an invitation to rate (daytime only), its expiry,
the deletion of follow links after the retention period, and old request signatures."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import Catalog
from conversations.dossier_events import invitation_reminder
from storage import WriteSet, flush, write_transaction
from storage.outbound import TextMessage
from storage.queries.dossiers import (
    due_invitation_reminders,
    expire_invitations,
    followers,
    forget_follows,
    forget_signatures_before,
    mark_reminded,
)

from .reminders import is_daytime

log = logging.getLogger("jobs.dossiers")

#: Signatures are kept well past the API's timestamp window (5 minutes either way).
SIGNATURE_MEMORY = timedelta(hours=1)
#: Links to a dossier nothing has happened to for this long are deleted, closed or not.
STALE_AFTER = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class DossierJobSettings:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    default_language: str = "vi"
    #: How long a chat's link to a dossier is kept once the dossier closed.
    retention: timedelta = timedelta(days=30)


async def remind_invitations(
    engine: AsyncEngine,
    catalog: Catalog,
    now: datetime,
    settings: DossierJobSettings,
    limit: int = 200,
) -> int:
    """Queues the one reminder of each invitation nobody took up, to every chat following the
    dossier; at night nothing is sent (they wait for 7:00). Returns the reminders queued."""
    if not is_daytime(now, settings.tz):
        return 0
    async with write_transaction(engine) as conn:
        due = await due_invitation_reminders(conn, now, limit)
        if not due:
            return 0
        chats = await followers(conn, [d.id for d in due])
        writes = WriteSet()
        for dossier in due:
            until = dossier.invite_expires_at or now
            reply = invitation_reminder(dossier.id, dossier.code, until, settings.tz)
            for chat in (c for c in chats if c.dossier_id == dossier.id):
                message = catalog.render(reply, chat.language or settings.default_language)
                writes.enqueue(
                    chat.channel,
                    chat.external_id,
                    TextMessage(message.text, message.choices, message.key),
                    now,
                    bulk=True,
                )
        await mark_reminded(conn, [d.id for d in due])
        await flush(conn, writes)
    log.info("job=invitations due=%d queued=%d", len(due), len(writes.outbox))
    return len(writes.outbox)


async def expire_and_forget(
    engine: AsyncEngine, now: datetime, settings: DossierJobSettings
) -> None:
    """Closes invitations past their end, deletes links past retention, forgets signatures."""
    async with write_transaction(engine) as conn:
        expired = await expire_invitations(conn, now)
        forgotten = await forget_follows(
            conn, closed_before=now - settings.retention, untouched_before=now - STALE_AFTER
        )
        await forget_signatures_before(conn, now - SIGNATURE_MEMORY)
    if expired or forgotten:
        log.info("job=dossiers expired=%d links_deleted=%d", expired, forgotten)
