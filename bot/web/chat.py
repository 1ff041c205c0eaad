"""The web chat's routes: the page, posts, uploads, the event stream, the kiosk, the widget.

The routes only translate: a post becomes an engine event (``bot.channels.web``), handed to
the same dispatcher as Telegram's and Zalo's; replies reach the page through the outbox and
``web_messages``. Every post needs the visitor cookie, the CSRF token and a same-origin
request; every body is capped; visitors and addresses are rate limited.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channels.web import (
    CHANNEL,
    CLIENT_ID,
    ChatPost,
    WebBus,
    command_event,
    parse_post,
    sniff_type,
    upload_event,
    visitor_chat_id,
)
from bot.limits import WebLimit
from bot.runtime.dispatch import Dispatcher
from conversations import InboundEvent
from storage import read_transaction, write_transaction
from storage.queries.web import (
    forget_messages,
    in_a_flow,
    message,
    message_data,
    save_upload,
)

from .bodies import BodyRefused, load_json
from .guard import (
    KIOSK_COOKIE,
    KIOSK_MAX_AGE,
    VISITOR_COOKIE,
    VISITOR_MAX_AGE,
    RateLimiter,
    WrongTries,
    address,
    cookie_header,
    csrf_ok,
    csrf_token,
    kiosk_cookie,
    kiosk_ok,
    new_token,
    pin_ok,
    read_capped,
    refuse,
    security_headers,
    visitor_token,
)
from .page import (
    STATIC_DIR,
    STATIC_PATH,
    Mode,
    asset,
    label_table,
    render_page,
    render_widget,
)
from .stream import POLL_S, Streams, cursor
from .survey_limit import address_marks

log = logging.getLogger("bot.web_chat")

Clock = Callable[[], datetime]
Handler = Callable[[Request], Awaitable[Response]]

LANG_COOKIE = "sipas_lang"


async def _favicon(request: Request) -> Response:
    return RedirectResponse(asset("icon.svg"), status_code=301)


@dataclass(frozen=True, slots=True)
class WebSettings:
    agency: str = "Sở Xây dựng"
    default_language: str = "vi"
    kiosk_pin: str | None = None
    kiosk_idle_seconds: int = 120
    widget_origins: tuple[str, ...] = ()
    #: Surveys without a receipt one client address may complete per survey period
    #: (``WEB_OPEN_SURVEYS_PER_ADDRESS``; 0: no limit); a kiosk (PIN) is exempt.
    open_surveys_per_address: int = 3


@dataclass(slots=True)
class Limiters:
    """Posts per visitor and per address (a counter's tablets share one address), and the
    kiosk PIN's wrong tries per address."""

    visitor: RateLimiter = field(default_factory=lambda: RateLimiter(rate=5, burst=20))
    address: RateLimiter = field(default_factory=lambda: RateLimiter(rate=30, burst=120))
    pin: WrongTries = field(default_factory=lambda: WrongTries(WebLimit.PIN_TRIES, 900))


class PinPost(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pin: str = Field(min_length=1, max_length=12)


def _file_name(raw: str) -> str:
    """The name the browser gave, without folders, control characters or excess length."""
    name = PurePosixPath(unquote(raw[:600]).replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[: WebLimit.MAX_FILE_NAME] or "file"


class WebChat:
    """The routes, with what they share: the dispatcher, the bus, the limits, the stop."""

    def __init__(
        self,
        engine: AsyncEngine,
        dispatcher: Dispatcher,
        bus: WebBus,
        settings: WebSettings,
        stop: asyncio.Event,
        limiters: Limiters | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.bus = bus
        self.settings = settings
        self.stop = stop
        self.limits = limiters or Limiters()
        self.headers = security_headers(settings.widget_origins)
        self.kiosk_headers = security_headers(())
        self.streams = Streams(engine, bus, stop)

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/", self.page, methods=["GET"]),
            Route("/chat/send", self.send, methods=["POST"]),
            Route("/chat/upload", self.upload, methods=["POST"]),
            Route("/chat/events", self.events, methods=["GET"]),
            Route("/chat/media/{message_id:int}", self.media, methods=["GET"]),
            Route("/widget.js", self.widget, methods=["GET"]),
            # Browsers and home-screen shortcuts ask for it whatever the page says.
            Route("/favicon.ico", _favicon, methods=["GET"]),
            Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="chat-static"),
        ]
        if self.settings.kiosk_pin:
            routes += [
                Route("/kiosk", self.kiosk, methods=["GET"]),
                Route("/kiosk/unlock", self.unlock, methods=["POST"]),
                Route("/kiosk/lock", self.lock, methods=["POST"]),
                Route("/kiosk/reset", self.reset, methods=["POST"]),
            ]
        return routes

    # --- pages --------------------------------------------------------------------------

    def _language(self, request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return wanted if wanted in ("vi", "en") else self.settings.default_language

    def _page(self, request: Request, mode: Mode, fresh: bool = False) -> Response:
        token = None if fresh else visitor_token(request)
        minted = token is None
        token = token or new_token()
        document = render_page(
            mode,
            self._language(request),
            self.settings.agency,
            csrf_token(token),
            idle_seconds=self.settings.kiosk_idle_seconds,
        )
        headers = self.kiosk_headers if mode in ("kiosk", "pin") else self.headers
        response = HTMLResponse(document, headers=headers)
        if minted:
            response.headers.append("set-cookie", self._visitor_cookie(request, token))
        return response

    def _visitor_cookie(self, request: Request, token: str) -> str:
        return cookie_header(VISITOR_COOKIE, token, request, max_age=VISITOR_MAX_AGE)

    async def page(self, request: Request) -> Response:
        embed = request.query_params.get("embed") == "1"
        return self._page(request, "embed" if embed else "chat")

    async def widget(self, _request: Request) -> Response:
        script = render_widget(label_table(self.settings.agency))
        return Response(
            script,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    # --- posts ----------------------------------------------------------------------------

    def _guard(self, request: Request) -> tuple[str | None, Response | None]:
        """The visitor's token when the post may go on, else the refusal to send."""
        token = visitor_token(request)
        if token is None or not csrf_ok(request, token):
            log.info("event=web_refused reason=csrf")
            return None, refuse(403, "web.expired")
        wait = max(
            self.limits.address.allow(address(request)),
            self.limits.visitor.allow(token),
        )
        if wait:
            # No chat, not even hashed: the times of a visitor's refused posts would follow
            # their steps through a survey.
            log.info("event=web_refused reason=rate")
            return None, refuse(429, "web.too_fast", wait)
        return token, None

    async def send(self, request: Request) -> Response:
        token, refused = self._guard(request)
        if token is None:
            return refused or refuse(403, "web.expired")
        body = await read_capped(request, WebLimit.MAX_JSON_BODY)
        if body is None:
            return refuse(413, "web.failed")
        try:
            post = ChatPost.model_validate(load_json(body))
        except (BodyRefused, ValidationError):
            return refuse(422, "web.failed")
        chat = visitor_chat_id(token)
        pressed = None
        if post.choice is not None and post.message is not None:
            async with read_transaction(self.engine) as conn:
                pressed = await message(conn, chat, post.message)
        event = parse_post(post, chat, pressed)
        if event is not None:
            event = replace(event, address_marks=self._address_marks(request))
        if event is not None and not await self._submit(event):
            return refuse(500, "web.failed")
        return await self._state(chat)

    def _address_marks(self, request: Request) -> tuple[str, ...]:
        """The post's address marks (``bot.web.survey_limit``); none from a kiosk, which
        serves many citizens at the counter from one address."""
        if self.settings.kiosk_pin and kiosk_ok(request, self._pin()):
            return ()
        rules = self.dispatcher.settings
        now = self.dispatcher.clock().astimezone(rules.tz)
        limit = self.settings.open_surveys_per_address
        return address_marks(
            rules.survey_mark_key, address(request), now, rules.open_survey_period, limit
        )

    async def upload(self, request: Request) -> Response:
        token, refused = self._guard(request)
        if token is None:
            return refused or refuse(403, "web.expired")
        client_id = request.headers.get("x-client-id", "")
        if not re.fullmatch(CLIENT_ID, client_id):
            return refuse(422, "web.failed")
        data = await read_capped(request, WebLimit.MAX_UPLOAD)
        if data is None:
            return refuse(413, "web.too_large")
        if not data:
            return refuse(422, "web.failed")
        chat = visitor_chat_id(token)
        name = _file_name(request.headers.get("x-file-name", ""))
        mime = sniff_type(data)
        file_token = secrets.token_urlsafe(24)
        async with write_transaction(self.engine) as conn:
            await save_upload(conn, file_token, chat, name, mime, data, self.dispatcher.clock())
        event = upload_event(chat, client_id, file_token, name, mime, len(data))
        if not await self._submit(event):
            return refuse(500, "web.failed")
        return await self._state(chat)

    async def _submit(self, event: InboundEvent) -> bool:
        try:
            await self.dispatcher.submit(event)
        except Exception as exc:
            # No chat: a line per event with it would count the chat's steps (bot.logs).
            log.error("event=web_failed error=%s", type(exc).__name__)
            return False
        return True

    async def _state(self, chat: str) -> Response:
        """What a post answers: whether the visitor is inside a task (the kiosk resets once a
        task ends); the replies themselves come through the event stream."""
        async with read_transaction(self.engine) as conn:
            busy = await in_a_flow(conn, CHANNEL, chat)
        return JSONResponse({"ok": True, "busy": busy}, headers=self.headers)

    # --- the event stream -------------------------------------------------------------------

    async def events(self, request: Request) -> Response:
        token = visitor_token(request)
        if token is None:
            return refuse(403, "web.expired")
        chat = visitor_chat_id(token)
        where = address(request)
        if self.streams.full(chat, where):
            return refuse(429, "web.too_fast", POLL_S)
        after = cursor(request.headers.get("last-event-id") or request.query_params.get("after"))
        headers = {**self.headers, "X-Accel-Buffering": "no"}
        return StreamingResponse(
            self.streams.stream(chat, where, after),
            media_type="text/event-stream",
            headers=headers,
        )

    async def media(self, request: Request) -> Response:
        token = visitor_token(request)
        if token is None:
            return refuse(403, "web.expired")
        async with read_transaction(self.engine) as conn:
            data = await message_data(
                conn, visitor_chat_id(token), int(request.path_params["message_id"])
            )
        if data is None:
            return refuse(404, "web.failed")
        kind = sniff_type(data)
        media_type = kind if kind.startswith("image/") else "application/octet-stream"
        return Response(data, media_type=media_type, headers=self.headers)

    # --- the counter kiosk ------------------------------------------------------------------

    def _pin(self) -> str:
        assert self.settings.kiosk_pin is not None
        return self.settings.kiosk_pin

    async def kiosk(self, request: Request) -> Response:
        if kiosk_ok(request, self._pin()):
            # Every kiosk page starts a fresh anonymous visitor: nothing of the last one shows.
            return self._page(request, "kiosk", fresh=True)
        return self._page(request, "pin")

    async def _pin_post(self, request: Request) -> Response | None:
        """None when the posted PIN is right; else the refusal to send."""
        token = visitor_token(request)
        if token is None or not csrf_ok(request, token):
            return refuse(403, "web.expired")
        where = address(request)
        if self.limits.pin.blocked(where):
            return refuse(429, "web.kiosk_pin_wait", self.limits.pin.window_s)
        body = await read_capped(request, WebLimit.MAX_JSON_BODY)
        if body is None:
            return refuse(413, "web.failed")
        try:
            given = PinPost.model_validate(load_json(body)).pin
        except (BodyRefused, ValidationError):
            given = ""
        if not pin_ok(given, self._pin()):
            self.limits.pin.wrong(where)
            log.warning("event=kiosk_pin_wrong")
            return refuse(403, "web.kiosk_pin_wrong")
        return None

    async def unlock(self, request: Request) -> Response:
        refused = await self._pin_post(request)
        if refused is not None:
            return refused
        response = JSONResponse({"ok": True}, headers=self.kiosk_headers)
        cookie = cookie_header(
            KIOSK_COOKIE,
            kiosk_cookie(self._pin()),
            request,
            max_age=KIOSK_MAX_AGE,
            cross_site=False,
        )
        response.headers.append("set-cookie", cookie)
        log.info("event=kiosk_unlocked")
        return response

    async def lock(self, request: Request) -> Response:
        refused = await self._pin_post(request)
        if refused is not None:
            return refused
        response = JSONResponse({"ok": True}, headers=self.kiosk_headers)
        cookie = cookie_header(KIOSK_COOKIE, "", request, max_age=0, cross_site=False)
        response.headers.append("set-cookie", cookie)
        log.info("event=kiosk_locked")
        return response

    async def reset(self, request: Request) -> Response:
        """The next citizen: the last one's task is closed (a half-done survey counts as
        partial), what they were shown is dropped, and a fresh anonymous visitor begins."""
        if not kiosk_ok(request, self._pin()):
            return refuse(403, "web.expired")
        token, refused = self._guard(request)
        if token is None:
            return refused or refuse(403, "web.expired")
        chat = visitor_chat_id(token)
        async with read_transaction(self.engine) as conn:
            busy = await in_a_flow(conn, CHANNEL, chat)
        if busy:
            await self._submit(command_event(chat, secrets.token_hex(8), "huy"))
        async with write_transaction(self.engine) as conn:
            await forget_messages(conn, chat)
        fresh = new_token()
        response = JSONResponse({"ok": True, "csrf": csrf_token(fresh)}, headers=self.headers)
        response.headers.append("set-cookie", self._visitor_cookie(request, fresh))
        return response
