"""The web server: Telegram's webhook and a health check (Starlette, run by uvicorn)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Bot

from bot.channels.telegram_inbound import TelegramInbound
from bot.channels.zalo_tokens import error_parts
from bot.limits import TelegramLimit
from bot.runtime.health import ChannelHealth
from bot.web.bodies import BodyRefused, TelegramEnvelope, load_json, read_body, validated
from bot.web.drain import DrainUnread
from storage import can_write, read_transaction
from storage.queries.outbox import dead_since
from storage.queries.zalo_chats import template_refused_at
from storage.queries.zalo_tokens import get_tokens

log = logging.getLogger("bot.web")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


#: /healthz shows messages given up (``dead``) within this.
DEAD_WINDOW = timedelta(hours=24)


def create_app(
    engine: AsyncEngine,
    *,
    telegram: tuple[Bot, TelegramInbound, str] | None = None,
    extra: Sequence[BaseRoute] = (),
    health: ChannelHealth | None = None,
) -> Starlette:
    """The app: ``/healthz``, the public read-only routes in ``extra`` (Open311), and
    ``POST /telegram`` when the bot runs in webhook mode (``telegram`` = bot, inbound, secret).
    An early answer (413, 403 ...) reaches the client: the unread body is drained first.
    ``health``: the channels whose token is refused, which make /healthz answer 503."""
    routes: list[BaseRoute] = [Route("/healthz", _health(engine, health), methods=["GET"])]
    if telegram is not None:
        routes.append(Route("/telegram", _webhook(*telegram), methods=["POST"]))
    routes.extend(extra)
    return Starlette(routes=routes, middleware=[Middleware(DrainUnread)])


def _health(
    engine: AsyncEngine, channels: ChannelHealth | None = None
) -> Callable[[Request], Awaitable[Response]]:
    refusals = (channels or ChannelHealth()).refusals

    async def healthz(_request: Request) -> Response:
        try:
            writable = await can_write(engine)
            async with read_transaction(engine) as conn:
                tokens = await get_tokens(conn)
                refused = await template_refused_at(conn)
                dead, reasons = await dead_since(conn, datetime.now(UTC) - DEAD_WINDOW)
        except Exception as exc:
            log.error("event=health_failed error=%s", type(exc).__name__)
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        if not writable:
            # Readers still work, but no event can be recorded: the bot answers nobody.
            log.error("event=health_failed error=locked")
            return JSONResponse({"ok": False, "database": "locked"}, status_code=503)
        body: dict[str, object] = {"ok": True, "database": "ok"}
        if tokens is not None and tokens.failed_at is not None:
            # Zalo's messages cannot go out: not ok. A failed refresh needs a person
            # (ZALO.md), not a restart, so the answer stays 200 ("degraded", not down), with
            # what Zalo said (never a token).
            body.update(ok=False, status="degraded")
            body["zalo_token"] = {
                "status": "refresh_failed",
                "at": tokens.failed_at.isoformat(),
                "detail": tokens.last_error or "",
                **error_parts(tokens),
            }
        elif tokens is not None:
            body["zalo_token"] = {"status": "ok", "expires_at": tokens.expires_at.isoformat()}
        if dead:
            # Messages given up for good in the last day, with why: lost to their readers,
            # though the bot itself works (ok is not changed).
            body["dead_messages"] = {"count": dead, "reasons": dict(reasons)}
        if refused is not None:
            # Notices outside the window are held instead of sent: ZALO_TEMPLATE_NOTICE
            # names a template Zalo refuses (fix the setting); cleared by the next one sent.
            body.update(ok=False, status="degraded")
            body["zalo_template"] = {"status": "refused", "at": refused.isoformat()}
        down = refusals()
        if down:
            # A channel whose token is refused answers nobody there until a person sets a
            # valid one: down, not degraded (the process may stay up for other channels).
            body.update(ok=False, status="down")
            for channel, since in sorted(down.items()):
                body[channel] = {"status": "token_refused", "since": since.isoformat()}
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    return healthz


def _webhook(
    _bot: Bot, inbound: TelegramInbound, secret: str
) -> Callable[[Request], Awaitable[Response]]:
    expected = secret.encode()

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("event=webhook_refused reason=secret")
            return JSONResponse({"ok": False}, status_code=403)
        try:
            update = validated(
                TelegramEnvelope,
                load_json(await read_body(request, TelegramLimit.MAX_WEBHOOK_BODY)),
            )
        except BodyRefused as refused:
            log.warning("event=webhook_refused reason=%s", refused.reason)
            return JSONResponse({"ok": False}, status_code=refused.status)
        try:
            # An update PTB cannot parse is recorded as failed and answered 200 like any
            # other: a 4xx would only make Telegram send it again.
            await inbound.accept(update)
        except Exception as exc:
            # Not stored: a 500 makes Telegram deliver the update again later.
            log.error("event=webhook_failed error=%s", type(exc).__name__)
            return JSONResponse({"ok": False}, status_code=500)
        return JSONResponse({"ok": True})

    return telegram_webhook
