"""The Zalo OA's wiring: its outbox sender, webhook route, token store and ZNS, built from the
settings; and the copy of a citizen's file from the URL Zalo gives."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute, Route

from bot.channels.zalo import ZaloSender
from bot.channels.zalo_inbound import zalo_webhook
from bot.channels.zalo_texts import NAV_HINT, ZaloTexts, rendered
from bot.channels.zalo_tokens import TokenStore
from bot.channels.zalo_window import WINDOW_KEYS, Window, filed_note_key, zns_filed_note_key
from bot.channels.zalo_zns import ZNS_PATH, Zns
from bot.channels.zns_schedule import ZnsSchedule, parse_hours
from bot.config import Settings
from bot.errors import PermanentSendError, TransientSendError
from bot.runtime.build import Runtime
from bot.runtime.dispatch import utc_now
from bot.runtime.failures import Failures
from bot.runtime.send_budget import Limits
from bot.runtime.sender import OutboxSender
from conversations import default_catalog
from storage.schema import COMPLAINT_STATUSES


async def download_url(client: httpx.AsyncClient, url: str) -> bytes:
    """Zalo gives a citizen's image or file as a URL; its bytes are copied like Telegram's."""
    from jobs.attachments import MAX_BYTES, FileTooLarge

    try:
        async with client.stream("GET", url, timeout=30) as response:
            if response.status_code >= 400:
                raise PermanentSendError(f"HTTP {response.status_code}")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    # Given up at once (not retried): the same file is as large next time.
                    raise FileTooLarge
            return bytes(data)
    except httpx.HTTPError as exc:
        raise TransientSendError(type(exc).__name__) from exc


def zalo_channel(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, failures: Failures
) -> tuple[OutboxSender, BaseRoute, TokenStore]:
    """The Zalo OA: its outbox sender, its webhook route and its token store."""
    if not (settings.zalo_app_id and settings.zalo_app_secret and settings.zalo_oa_secret):
        raise RuntimeError("Zalo settings were validated at start")
    tokens = TokenStore(
        runtime.engine,
        client,
        settings.zalo_oauth_base_url,
        settings.zalo_app_id,
        settings.zalo_app_secret.get_secret_value(),
        utc_now,
    )
    texts = channel_texts(runtime.engine, settings.default_language)
    window = Window(
        runtime.engine,
        utc_now,
        settings.zalo_template_notice,
        settings.zalo_send_billed,
        texts,
    )
    note = filed_note_key(bool(settings.zalo_template_notice), settings.zalo_send_billed)
    zalo = ZaloSender(
        client, settings.zalo_api_base_url, tokens, texts, window, note, _zns(runtime, settings)
    )
    # Zalo allows far more than Telegram; its own -32 answer slows us down when needed.
    sender = OutboxSender(
        runtime.engine, zalo, utc_now, Limits(per_second=50, per_chat_per_second=5, chat_burst=5)
    )
    route = Route(
        "/zalo",
        zalo_webhook(
            runtime.dispatcher,
            settings.zalo_app_id,
            settings.zalo_oa_id or "",
            settings.zalo_oa_secret.get_secret_value(),
            settings.zalo_officers,
            failures,
            max_age=timedelta(minutes=settings.zalo_event_max_age_minutes),
        ),
        methods=["POST"],
    )
    return sender, route, tokens


def channel_texts(engine: AsyncEngine | None, default_language: str) -> ZaloTexts:
    """The Zalo sender's own sentences (``bot/channels/zalo_texts.py``) in every language:
    each filing note, the rating hints, the staff corrections, the numbered options' hint."""
    keys = [NAV_HINT, *WINDOW_KEYS]
    for template, billed in itertools.product((False, True), repeat=2):
        keys.append(filed_note_key(template, billed))
        keys.append(zns_filed_note_key(billed))
    return rendered(default_catalog(), keys, default_language, engine)


def _zns(runtime: Runtime, settings: Settings) -> Zns | None:
    """ZNS by phone number, when configured and no OA template by user id is."""
    template = settings.zalo_zns_template_notice
    if not template or settings.zalo_template_notice:
        return None
    catalog = default_catalog()
    lang = settings.default_language
    statuses = {s: catalog.text(lang, f"status.{s}") for s in COMPLAINT_STATUSES}
    url = settings.zalo_zns_base_url.rstrip("/") + ZNS_PATH
    note = zns_filed_note_key(settings.zalo_send_billed)
    hours = parse_hours(settings.zalo_zns_hours)
    schedule = ZnsSchedule(settings.zone, hours, settings.zalo_zns_daily_quota)
    return Zns(runtime.engine, url, template, statuses, settings.zone, note, schedule)
