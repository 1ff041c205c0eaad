"""What becomes of an inbound event that cannot be read or handled.

One such event must not stop a channel: polling would never confirm it, so every update
behind it would wait, and a webhook would be sent it again and again. Unless the database
itself is unavailable (then the event stays unconfirmed and comes again), the event is
settled in a transaction of its own: its id is claimed (a redelivery is dropped), a
``failed_events`` row says which event, at which stage and with which error class (never
what it said), and the chat, when it can be told, gets a polite message with a reference
staff can look up. The caller then confirms the event, and the digest counts it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from traceback import extract_tb
from typing import Literal

from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.replies import as_text
from conversations import Catalog, InboundEvent, Message, Reply
from storage import WriteSet, database_unavailable, flush, write_transaction
from storage.queries.contacts import languages
from storage.queries.dialogue import claim_events
from storage.queries.failed_events import FailedEvent, record_failed_event

log = logging.getLogger("bot.failures")

#: The message a chat gets for an event that could not be handled.
MESSAGE_KEY = "common.not_processed"
_ROOT = Path(__file__).resolve().parents[2]

Stage = Literal["parse", "process"]


def claim_key(channel: str, event_id: str, via: str = "") -> str:
    """The key an event's id is claimed under: the dispatcher's ``event_key``.
    ``<channel>:<via>:<id>`` for an event that came through an account (``InboundEvent.via``:
    a Telegram bot, a Zalo OA), whose ids are unique per account only; ``<channel>:<id>``
    otherwise, as every key was before accounts were named (:func:`alias_key`)."""
    return (f"{channel}:{via}:{event_id}" if via else f"{channel}:{event_id}")[:160]


def alias_key(channel: str, event_id: str, via: str) -> dict[str, str]:
    """``{key: the key the same event was claimed under before keys named the account}``,
    for ``claim_events``: an update claimed by the release before, and delivered again
    after the upgrade (polling confirms an offset only at its next call), is still
    recognised. Empty when the event names no account."""
    if not via:
        return {}
    return {claim_key(channel, event_id, via): claim_key(channel, event_id)}


def error_name(error: BaseException) -> str:
    """The error's class, and the driver's underneath it: ``DBAPIError(DataError)``."""
    inner: BaseException | None = error.orig if isinstance(error, sa.DBAPIError) else None
    while inner is not None and inner.__cause__ is not None:
        inner = inner.__cause__
    if isinstance(inner, BaseException) and type(inner) is not type(error):
        return f"{type(error).__name__}({type(inner).__name__})"
    return type(error).__name__


def where(error: BaseException) -> str:
    """The innermost line of our own code the error passed through (file:line), "?" when
    none, or ``conversations`` when it is in the dialogue code."""
    ours = [
        frame
        for frame in extract_tb(error.__traceback__)
        if frame.filename.startswith(str(_ROOT)) and "site-packages" not in frame.filename
    ]
    if not ours:
        return "?"
    place = Path(ours[-1].filename).relative_to(_ROOT)
    if place.parts[0] == "conversations":
        # The dialogue's own line would say at which step (of a survey, at which question)
        # the event failed: only that it failed in the dialogue (issue 10, anonymity).
        return "conversations"
    return f"{place}:{ours[-1].lineno}"


@dataclass(frozen=True, slots=True)
class Settled:
    """A failed event, settled: ``duplicate`` when its id had been claimed already (nothing
    recorded or sent), else the messages its chat was sent (none when it had no chat)."""

    duplicate: bool
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True, slots=True)
class Failures:
    """Records failed events; ``listeners`` are woken when a message was queued (the
    outbox senders), as after the dispatcher's commits."""

    engine: AsyncEngine
    catalog: Catalog
    language: str
    clock: Callable[[], datetime]
    listeners: Sequence[Callable[[], None]] = ()

    def poison(self, event: InboundEvent, error: Exception) -> bool:
        """True when the event itself is at fault; False when the database is unavailable
        (the event must stay unconfirmed, to be delivered again)."""
        if database_unavailable(error):
            log.warning(
                "event=failed channel=%s error=%s retry=later", event.channel, error_name(error)
            )
            return False
        return True

    async def settle(self, event: InboundEvent, key: str, error: Exception) -> Settled | None:
        """For the dispatcher, once the event has failed on its own: recorded and answered,
        or None when it must be delivered again (the database is unavailable)."""
        if not self.poison(event, error):
            return None
        try:
            return await self.record(
                event.channel,
                event.event_id,
                error,
                chat_id=event.external_id,
                key=key,
                via=event.via,
            )
        except Exception as failure:
            return _not_recorded(event.channel, failure, error)

    async def settle_unread(
        self,
        channel: str,
        event_id: str | None,
        error: BaseException,
        *,
        chat_id: str | None,
        via: str = "",
    ) -> Settled:
        """For a channel, an update it could not read (stage ``parse``): recorded and
        answered as :meth:`record` does; when even that fails for any other reason than an
        unavailable database (a bug, a value the database refuses), logged and settled all
        the same, so the channel confirms the update. Raises only when the database is
        unavailable (the update must then come again)."""
        try:
            return await self.record(
                channel, event_id, error, chat_id=chat_id, stage="parse", via=via
            )
        except Exception as failure:
            settled = _not_recorded(channel, failure, error)
            if settled is None:
                raise
            return settled

    async def record(
        self,
        channel: str,
        event_id: str | None,
        error: BaseException,
        *,
        chat_id: str | None,
        stage: Stage = "process",
        key: str | None = None,
        via: str = "",
    ) -> Settled:
        """Records one failed event in its own transaction and queues the polite message
        when ``chat_id`` is known; raises when the database cannot take it."""
        if key is None and event_id is not None:
            key = claim_key(channel, event_id, via)
        aliases = alias_key(channel, event_id, via) if event_id is not None else {}
        now = self.clock()
        ref = uuid.uuid4().hex[:8]
        message: Message | None = None
        async with write_transaction(self.engine) as conn:
            if key is not None and not await claim_events(conn, [key], now, aliases=aliases):
                return Settled(duplicate=True)  # seen before: recorded (or handled) already
            if chat_id is not None:
                chosen = await languages(conn, [(channel, chat_id)])
                language = chosen.get((channel, chat_id), self.language)
                message = self.catalog.render(Reply(MESSAGE_KEY, (("ref", ref),)), language)
                writes = WriteSet()
                writes.enqueue(channel, chat_id, as_text(message), now)
                await flush(conn, writes)
            failed = FailedEvent(
                channel, event_id, stage, error_name(error), ref, message is not None, now
            )
            await record_failed_event(conn, failed)
        # No event id and no chat: the ref (told to the citizen) finds the row; a chat on a
        # line per failed event would count that chat's steps, and ``where`` may name one.
        log.error(
            "event=event_failed channel=%s stage=%s ref=%s error=%s where=%s",
            channel,
            stage,
            ref,
            failed.error,
            where(error),
        )
        if message is None:
            return Settled(duplicate=False)
        for listener in self.listeners:
            listener()
        return Settled(duplicate=False, messages=(message,))


def _not_recorded(channel: str, failure: Exception, cause: BaseException) -> Settled | None:
    """A failed event whose record failed too (``failure``): None when the database is
    unavailable (the event is left unconfirmed, to come again); otherwise settled with
    nothing recorded or sent, so that the channel confirms it: a record that fails for the
    event's own sake would fail on every redelivery, and the event would hold back the ones
    behind it for ever (issue 10). Logged with the error classes only, never what the event
    said nor its chat."""
    unavailable = database_unavailable(failure)
    log.error(
        "event=failure_not_recorded channel=%s error=%s cause=%s confirmed=%s",
        channel,
        error_name(failure),
        error_name(cause),
        "no" if unavailable else "yes",
    )
    return None if unavailable else Settled(duplicate=False)
