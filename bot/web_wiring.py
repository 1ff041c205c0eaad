"""The web chat's wiring: its outbox sender, routes and background tasks, built from the
settings; and the address it is served at on this machine."""

from __future__ import annotations

import asyncio
from functools import partial

from starlette.routing import BaseRoute

from bot.channels.web import CHANNEL as WEB
from bot.channels.web import WebBus, WebChannel, purge_loop, read_upload
from bot.config import Settings
from bot.runtime.build import Runtime
from bot.runtime.dispatch import utc_now
from bot.runtime.send_budget import Limits
from bot.runtime.sender import OutboxSender
from bot.web.chat import WebChat, WebSettings
from jobs.attachments import LOOP_EVERY_S, attachments_loop
from jobs.file_notices import FileNotices


def chat_address(settings: Settings) -> str:
    """The address to open the web chat at, on this machine."""
    host = settings.listen_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}/"


def web_channel(
    settings: Settings, runtime: Runtime, stop: asyncio.Event
) -> tuple[OutboxSender, list[BaseRoute], list[asyncio.Task[None]]]:
    """The web chat: its outbox sender, its routes, and its background tasks (uploads copied
    into complaint files, old deliveries purged)."""
    bus = WebBus()
    channel = WebChannel(runtime.engine, bus, utc_now)
    # Nothing to protect downstream: a browser takes what it is sent.
    sender = OutboxSender(
        runtime.engine,
        channel,
        utc_now,
        Limits(per_second=500, per_chat_per_second=50, chat_burst=50),
    )
    pin = settings.web_kiosk_pin
    chat = WebChat(
        runtime.engine,
        runtime.dispatcher,
        bus,
        WebSettings(
            agency=settings.agency_name,
            default_language=settings.default_language,
            kiosk_pin=pin.get_secret_value() if pin is not None else None,
            kiosk_idle_seconds=settings.web_kiosk_idle_seconds,
            open_surveys_per_address=settings.web_open_surveys_per_address,
            widget_origins=tuple(settings.web_widget_origins),
        ),
        stop,
    )
    tasks = [
        asyncio.create_task(
            attachments_loop(
                runtime.engine,
                WEB,
                partial(read_upload, runtime.engine),
                utc_now,
                stop,
                every_s=LOOP_EVERY_S,
                tell=FileNotices(runtime.dispatcher.catalog, settings.default_language).tell,
            ),
            name="attachments-web",
        ),
        asyncio.create_task(purge_loop(runtime.engine, utc_now, stop), name="web-purge"),
    ]
    return sender, chat.routes(), tasks
