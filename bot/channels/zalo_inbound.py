"""``POST /zalo``: Zalo's signed webhook. Checks the signature on the raw body, records the
event durably, then answers 200 (Zalo retries anything else, and the msg_id dedupes)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.zalo import CHANNEL, SIGNATURE_HEADER, parse_event, verify
from bot.limits import TelegramLimit
from bot.logs import chat_hash
from bot.runtime.dispatch import Dispatcher

log = logging.getLogger("bot.zalo")


def zalo_webhook(
    dispatcher: Dispatcher, app_id: str, oa_id: str, oa_secret: str, admins: Collection[str]
) -> Callable[[Request], Awaitable[Response]]:
    admin_ids = frozenset(admins)

    async def webhook(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > TelegramLimit.MAX_WEBHOOK_BODY:
                return JSONResponse({"ok": False}, status_code=413)
        try:
            event = json.loads(bytes(body))
        except ValueError:
            return JSONResponse({"ok": False}, status_code=400)
        if not isinstance(event, dict):
            return JSONResponse({"ok": False}, status_code=400)
        stamp = str(event.get("timestamp", ""))
        if not verify(request.headers.get(SIGNATURE_HEADER), app_id, bytes(body), stamp, oa_secret):
            log.warning("event=webhook_refused channel=zalo reason=signature")
            return JSONResponse({"ok": False}, status_code=403)
        if str(event.get("app_id", app_id)) != app_id:
            return JSONResponse({"ok": False}, status_code=403)
        inbound = parse_event(event, oa_id, admin_ids)
        if inbound is None:
            return JSONResponse({"ok": True})  # echoes and other events: nothing to do
        try:
            await dispatcher.submit(inbound)
        except Exception as exc:
            log.error(
                "event=webhook_failed channel=zalo chat=%s error=%s",
                chat_hash(CHANNEL, inbound.external_id),
                type(exc).__name__,
            )
            return JSONResponse({"ok": False}, status_code=500)
        return JSONResponse({"ok": True})

    return webhook
