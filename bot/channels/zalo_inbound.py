"""``POST /zalo``: Zalo's signed webhook. Checks the signature on the raw body, records the
event durably, then answers 200 (Zalo retries anything else, and the msg_id dedupes). An
event the parser cannot read is recorded as failed (and its sender told politely), then
answered 200 too; only an unavailable database gets a 500."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.zalo_events import CHANNEL, SIGNATURE_HEADER, parse_events, too_old, verify
from bot.channels.zalo_models import zalo_id
from bot.runtime.dispatch import Dispatcher
from bot.runtime.failures import Failures
from bot.web.bodies import BodyRefused, ZaloEnvelope, load_json, read_body, validated
from jobs.event_keys import account_mark
from storage import write_transaction
from storage.queries.zalo_chats import citizen_wrote, held_choices

log = logging.getLogger("bot.zalo")

#: Events stamped longer ago than this are refused (``ZALO_EVENT_MAX_AGE_MINUTES``).
MAX_EVENT_AGE = timedelta(minutes=10)
#: Longest event body accepted; a real Zalo event is well under a kilobyte.
MAX_BODY = 64_000
#: How many "timestamp" fields of a body are tried against its MAC (a real event has one).
MAX_STAMP_CANDIDATES = 4
_STAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,20})"?')


def raw_timestamps(body: bytes) -> list[str]:
    """The values of ``"timestamp"`` fields in the raw body, without parsing it as JSON."""
    found = dict.fromkeys(m.group(1).decode() for m in _STAMP.finditer(body))
    return list(found)[:MAX_STAMP_CANDIDATES]


def _raw_id(event: dict[str, Any]) -> str | None:
    """The event's message id, read without the parser (for events it cannot read)."""
    message = event.get("message")
    return zalo_id(message.get("msg_id")) if isinstance(message, dict) else None


def _raw_sender(event: dict[str, Any], oa_id: str) -> str | None:
    """Who wrote, read without the parser; None for the OA itself or when unreadable (an
    id that is an object is no one to answer)."""
    sender = event.get("sender")
    user = zalo_id(sender.get("id")) if isinstance(sender, dict) else None
    return user if user and user != oa_id else None


def zalo_webhook(
    dispatcher: Dispatcher,
    app_id: str,
    oa_id: str,
    oa_secret: str,
    admins: Collection[str] | Mapping[str, str],
    failures: Failures | None = None,
    max_age: timedelta = MAX_EVENT_AGE,
) -> Callable[[Request], Awaitable[Response]]:
    """``admins``: the Zalo officers' ids, or their ids -> the names shown on their cases."""
    names = dict(admins) if isinstance(admins, Mapping) else {}
    admin_ids = frozenset(admins)
    failures = failures or Failures(
        dispatcher.engine,
        dispatcher.catalog,
        dispatcher.settings.default_language,
        dispatcher.clock,
    )

    async def webhook(request: Request) -> Response:
        try:
            body = await read_body(request, MAX_BODY)
        except BodyRefused as refused:
            return JSONResponse({"ok": False}, status_code=refused.status)
        # The MAC is checked on the raw bytes before any JSON parser runs; the timestamp it
        # covers is read from the raw body (each candidate tried, the MAC decides).
        header = request.headers.get(SIGNATURE_HEADER)
        if not any(verify(header, app_id, body, s, oa_secret) for s in raw_timestamps(body)):
            log.warning("event=webhook_refused channel=zalo reason=signature")
            return JSONResponse({"ok": False}, status_code=403)
        try:
            event = validated(ZaloEnvelope, load_json(body))
        except BodyRefused as refused:
            log.warning("event=webhook_refused channel=zalo reason=%s", refused.reason)
            return JSONResponse({"ok": False}, status_code=refused.status)
        if not verify(header, app_id, body, str(event["timestamp"]), oa_secret):
            log.warning("event=webhook_refused channel=zalo reason=signature")
            return JSONResponse({"ok": False}, status_code=403)
        if str(event.get("app_id", app_id)) != app_id:
            return JSONResponse({"ok": False}, status_code=403)
        if too_old(str(event["timestamp"]), dispatcher.clock(), max_age):
            # A captured request replayed later, even after its msg_id was forgotten.
            # Answered 200: a 4xx would only bring Zalo's retries of the same stale event.
            log.warning("event=webhook_refused channel=zalo reason=stale")
            return JSONResponse({"ok": False})
        try:
            # Message ids are the OA's: the key that recognises a redelivery names the OA.
            via = account_mark(oa_id)
            parts = [replace(p, via=via) for p in parse_events(event, oa_id, admin_ids, names)]
        except Exception as exc:
            # Recorded and answered 200: Zalo would only send the same event again.
            try:
                # Raises only when the database is unavailable (Zalo then sends it again).
                await failures.settle_unread(
                    CHANNEL,
                    _raw_id(event),
                    exc,
                    chat_id=_raw_sender(event, oa_id),
                    via=account_mark(oa_id),
                )
            except Exception as failure:
                log.error("event=webhook_failed channel=zalo error=%s", type(failure).__name__)
                return JSONResponse({"ok": False}, status_code=500)
            return JSONResponse({"ok": True})
        if not parts:
            return JSONResponse({"ok": True})  # echoes and other events: nothing to do
        inbound, *more = parts
        try:
            # The window reopens: messages held for this chat go first, then the reply.
            async with write_transaction(dispatcher.engine) as conn:
                resent = await held_choices(conn, inbound.external_id)
                await citizen_wrote(conn, inbound.external_id, dispatcher.clock())
            # What they wrote is read as the answer to a question those messages ask.
            first = replace(inbound, resent=tuple(resent))
            # Several images of one event are submitted together: one batch, one answer.
            done = await asyncio.gather(
                *(dispatcher.submit(p) for p in (first, *more)), return_exceptions=True
            )
            failed = next((d for d in done if isinstance(d, BaseException)), None)
            if failed is not None:
                raise failed
        except Exception as exc:
            # No chat: a line per event with it would count the chat's steps (bot.logs).
            log.error("event=webhook_failed channel=zalo error=%s", type(exc).__name__)
            return JSONResponse({"ok": False}, status_code=500)
        return JSONResponse({"ok": True})

    return webhook
