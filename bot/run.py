"""``python -m bot run``: the Telegram bot process, in polling or webhook mode.

Start: migrate, getMe, commands menu, webhook set or removed. Stop (SIGTERM or SIGINT): no
new updates are taken, the events already taken are committed, the outbox sends what it can
for a few seconds, and whatever is left stays queued for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from functools import partial

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.request import HTTPXRequest

from conversations import default_catalog
from jobs.attachments import attachments_loop
from jobs.runner import JobsRunner
from storage import read_transaction
from storage.queries.complaint_files import StoredFile, stored_file

from .app import build_runtime, digest_settings
from .channels.telegram import ALLOWED_UPDATES, CHANNEL, TelegramSender, bot_commands
from .channels.telegram_inbound import POLL_TIMEOUT_S, TelegramInbound
from .config import Settings
from .dispatch import utc_now
from .open311 import Open311Settings, open311_routes
from .results_page import results_routes
from .sender import Limits, OutboxSender
from .web import create_app

log = logging.getLogger("bot.run")

SHUTDOWN_DRAIN_S = 5.0
ATTACHMENTS_EVERY_S = 2.0


def make_bot(settings: Settings) -> Bot:
    assert settings.telegram_bot_token is not None
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_url,
        request=HTTPXRequest(connection_pool_size=64, read_timeout=15, write_timeout=15),
        get_updates_request=HTTPXRequest(read_timeout=POLL_TIMEOUT_S + 10),
    )


async def _set_commands(bot: Bot) -> None:
    catalog = default_catalog()
    await bot.set_my_commands(bot_commands(catalog, "vi"))
    for language in ("vi", "en"):
        await bot.set_my_commands(bot_commands(catalog, language), language_code=language)


async def _load_file(engine: AsyncEngine, file_id: int) -> StoredFile | None:
    async with read_transaction(engine) as conn:
        return await stored_file(conn, file_id)


async def run_telegram(settings: Settings) -> int:
    runtime = await build_runtime(settings)
    bot = make_bot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with bot:  # getMe: a wrong token stops here with a clear error
            telegram_sender = TelegramSender(bot, partial(_load_file, runtime.engine))
            limits = Limits(
                per_second=settings.telegram_max_per_second,
                per_chat_per_second=settings.telegram_max_per_chat_per_second,
            )
            sender = OutboxSender(runtime.engine, CHANNEL, telegram_sender.send, utc_now, limits)
            runtime.dispatcher.on_commit(sender.wake)
            inbound = TelegramInbound(
                bot, runtime.dispatcher, settings.admin_telegram_ids, telegram_sender
            )
            await _set_commands(bot)
            jobs = JobsRunner(
                runtime.engine,
                runtime.dispatcher,
                digest_settings(settings),
                default_catalog(),
                utc_now,
            )
            tasks = [
                asyncio.create_task(sender.run(stop), name="outbox"),
                asyncio.create_task(
                    attachments_loop(
                        runtime.engine,
                        CHANNEL,
                        telegram_sender.files.download,
                        utc_now,
                        stop,
                        every_s=ATTACHMENTS_EVERY_S,
                    ),
                    name="attachments",
                ),
            ]
            webhook: tuple[Bot, TelegramInbound, str] | None = None
            if settings.telegram_mode == "webhook":
                if settings.webhook_url is None or settings.webhook_secret is None:
                    raise RuntimeError("webhook settings were validated at start")
                secret = settings.webhook_secret.get_secret_value()
                await bot.set_webhook(
                    url=settings.webhook_url,
                    secret_token=secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
                webhook = (bot, inbound, secret)
            else:
                await bot.delete_webhook()
                tasks.append(asyncio.create_task(inbound.poll(stop), name="polling"))
            # The web server runs in both modes: health check and the public Open311 API.
            app = create_app(
                runtime.engine,
                telegram=webhook,
                extra=[
                    *open311_routes(runtime.engine, Open311Settings.from_settings(settings)),
                    *results_routes(
                        runtime.engine, Open311Settings.from_settings(settings), utc_now
                    ),
                ],
            )
            config = uvicorn.Config(
                app,
                host=settings.http_host,
                port=settings.http_port,
                log_level="warning",
                lifespan="off",
            )
            server = uvicorn.Server(config)
            tasks.append(asyncio.create_task(server.serve(), name="web"))
            tasks.extend(await jobs.start(stop))
            log.info(
                "event=started mode=%s bot=%s", settings.telegram_mode, bot.username or "unknown"
            )
            print(f"bot @{bot.username} running ({settings.telegram_mode})", flush=True)
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            server.should_exit = True
            await jobs.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await inbound.close()
            await runtime.dispatcher.close()
            await sender.drain(SHUTDOWN_DRAIN_S)
            log.info("event=stopped sent=%d", sender.sent)
    finally:
        await runtime.close()
    return 0
