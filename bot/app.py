"""``python -m bot run``: the bot process: the web chat, Telegram (polling or webhook) and
Zalo when they are set, the web server and the scheduled jobs.

Without any channel token it serves the web chat alone, on 127.0.0.1:8080 by default, and
prints the address to open.

A Telegram token that Telegram refuses (401/403: revoked or mistyped) is logged once at ERROR
(never the token). At the start it stops the process (exit 2), like any invalid setting.
While polling it makes ``/healthz`` answer 503; when Telegram is the only channel the process
exits (2) after ``TELEGRAM_TOKEN_REFUSED_EXIT_SECONDS`` of refusals, so a supervisor sees it;
when the web chat or Zalo is also served, it stays up for them. A Bot API that cannot be
reached at the start (a network fault) raises ``ApiUnreachable``: one line and exit 3, for the
supervisor to restart the process.

Start: migrate, getMe, commands menu, webhook set or removed.
Stop (SIGTERM or SIGINT): no new updates are taken, the events already taken are committed,
the outbox sends what it can for a few seconds, and whatever is left stays queued for the
next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from functools import partial
from urllib.parse import urlsplit

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute
from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError
from telegram.request import HTTPXRequest

from bot.channels.telegram import TelegramSender, bot_commands
from bot.channels.telegram_inbound import (
    POLL_READ_MARGIN_S,
    POLL_TIMEOUT_S,
    PollingBot,
    TelegramInbound,
)
from bot.channels.telegram_updates import ALLOWED_UPDATES, CHANNEL
from bot.channels.zalo_events import CHANNEL as ZALO
from bot.config import Settings
from bot.errors import ApiUnreachable, TokenRefused
from bot.runtime.activity import ACTIVITY
from bot.runtime.build import (
    build_runtime,
    desk_settings,
    digest_settings,
    dossier_job_settings,
)
from bot.runtime.dispatch import utc_now
from bot.runtime.dossiers import DossierDesk
from bot.runtime.failures import Failures
from bot.runtime.health import ChannelHealth
from bot.runtime.rooms import StaffRooms
from bot.runtime.send_budget import Limits
from bot.runtime.sender import MAX_IN_FLIGHT, OutboxSender
from bot.web.dossier_api import Links, dossier_routes
from bot.web.open311 import Open311Settings, open311_routes
from bot.web.results_page import results_routes
from bot.web.server import create_app
from bot.web_wiring import chat_address, web_channel
from bot.zalo_wiring import download_url, zalo_channel
from conversations import default_catalog
from jobs.attachments import LOOP_EVERY_S, attachments_loop
from jobs.file_notices import FileNotices
from jobs.runner import JobsRunner
from storage import read_transaction
from storage.queries.complaint_files import StoredFile, stored_file

log = logging.getLogger("bot.run")

SHUTDOWN_DRAIN_S = 5.0
#: A shared secret shorter than this is easy to guess: said at start, not refused.
WEAK_SECRET_CHARS = 16


def make_bot(settings: Settings) -> PollingBot:
    assert settings.telegram_bot_token is not None
    return PollingBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_url,
        # As many connections as the sender has sends in flight, and a few for button
        # acknowledgements and file downloads: a bigger pool only costs bookkeeping on the
        # event loop.
        request=HTTPXRequest(
            connection_pool_size=MAX_IN_FLIGHT + 4, read_timeout=15, write_timeout=15
        ),
        get_updates_request=HTTPXRequest(read_timeout=POLL_TIMEOUT_S + POLL_READ_MARGIN_S),
    )


async def _set_commands(bot: Bot) -> None:
    catalog = default_catalog()
    await bot.set_my_commands(bot_commands(catalog, "vi"))
    for language in ("vi", "en"):
        await bot.set_my_commands(bot_commands(catalog, language), language_code=language)


async def start_telegram(stack: contextlib.AsyncExitStack, settings: Settings) -> Bot:
    """The Telegram bot, its token checked (getMe), its commands menu set and its webhook set
    (webhook mode) or removed (polling). Raises ``TokenRefused`` when Telegram refuses the
    token (401/403), logged once at ERROR: at the start a refused token is a setting to fix,
    which stops the process like any invalid setting, whatever other channels it has."""
    try:
        bot = await stack.enter_async_context(make_bot(settings))  # getMe checks the token
        await _set_commands(bot)
        if settings.telegram_mode == "webhook":
            if settings.webhook_url is None or settings.webhook_secret is None:
                raise RuntimeError("webhook settings were validated at start")
            await bot.set_webhook(
                url=settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=list(ALLOWED_UPDATES),
            )
        else:
            await bot.delete_webhook()
    except (InvalidToken, Forbidden) as exc:
        log.error(
            "event=token_refused channel=%s method=start error=%s", CHANNEL, type(exc).__name__
        )
        raise TokenRefused(CHANNEL) from exc
    except BadRequest:
        raise  # a request Telegram refused (PTB files it under NetworkError): no network fault
    except NetworkError as exc:
        # A transient fault (no route, connection refused, timeout, a 502 from a proxy), not
        # a setting to fix: the caller says it in one line and exits 3, and the supervisor
        # (Restart=always, restart: unless-stopped) starts the process again a few seconds
        # later, which retries with a fresh process instead of a loop of our own.
        inner: BaseException = exc
        while inner.__cause__ is not None:
            inner = inner.__cause__
        raise ApiUnreachable(
            CHANNEL, api_place(settings.telegram_api_base_url), type(inner).__name__
        ) from None
    return bot


def api_place(base_url: str) -> str:
    """``host:port`` of an API base URL, fit to print: Telegram's base URL is followed by the
    token in every request, and a user name or password may sit before the host."""
    try:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "?"
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


async def _load_file(engine: AsyncEngine, file_id: int) -> StoredFile | None:
    async with read_transaction(engine) as conn:
        return await stored_file(conn, file_id)


async def until_stopped(stop: asyncio.Event, tasks: Sequence[asyncio.Task[None]]) -> list[str]:
    """Waits for a stop signal, or for one of the tasks to end, which none does on its own
    (each runs until ``stop``): returns the names of those that ended, each logged."""
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        return []
    stopped.cancel()
    died: list[str] = []
    for task in tasks:
        if not task.done():
            continue
        error = None if task.cancelled() else task.exception()
        if isinstance(error, TokenRefused):
            # Already said at ERROR when the refusals began; this is the exit it announced.
            log.warning("event=task_stopped task=%s reason=token_refused", task.get_name())
            died.append(task.get_name())
            continue
        log.error(
            "event=task_died task=%s error=%s",
            task.get_name(),
            "cancelled" if task.cancelled() else type(error).__name__ if error else "returned",
            exc_info=error,
        )
        died.append(task.get_name())
    return died


async def run_bot(settings: Settings) -> int:
    """The bot process: Telegram (when a token is set), Zalo (when an OA is set), the web
    chat (unless WEB_CHAT=false), the web server, and the scheduled jobs. Returns 0 after a
    stop signal, 1 when a task ended on its own (its work would silently stop: better exit,
    and be restarted, than limp on). Raises ``TokenRefused`` when Telegram refuses the token
    at the start, or while polling for the set time when it is the only channel."""
    runtime = await build_runtime(settings)
    # A file given up by the attachments job (too big once measured, not a kept type) is
    # told to the citizen who sent it.
    notices = FileNotices(runtime.dispatcher.catalog, settings.default_language)
    wakers: list[Callable[[], None]] = []  # the outbox senders, woken by recorded failures
    failures = Failures(
        runtime.engine,
        runtime.dispatcher.catalog,
        settings.default_language,
        utc_now,
        wakers,
    )
    died: list[str] = []
    health = ChannelHealth()
    refused: list[TokenRefused] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            tasks: list[asyncio.Task[None]] = []
            senders: list[OutboxSender] = []
            routes: list[BaseRoute] = []
            names: list[str] = []
            webhook: tuple[Bot, TelegramInbound, str] | None = None
            inbound: TelegramInbound | None = None
            username = settings.telegram_bot_username
            if settings.telegram_bot_token is not None:
                bot = await start_telegram(stack, settings)
                rooms = StaffRooms(runtime.engine, settings.admin_chat_ids, utc_now)
                await rooms.load()
                telegram_sender = TelegramSender(bot, partial(_load_file, runtime.engine), rooms)
                limits = Limits(
                    per_second=settings.telegram_max_per_second,
                    per_chat_per_second=settings.telegram_max_per_chat_per_second,
                )
                senders.append(OutboxSender(runtime.engine, telegram_sender, utc_now, limits))
                inbound = TelegramInbound(
                    bot,
                    runtime.dispatcher,
                    settings.admin_telegram_ids,
                    telegram_sender,
                    failures,
                    rooms,
                    health=health,
                    # Alone, the process is of no use with its token refused: exit, and
                    # let the supervisor show it; else serve the other channels.
                    refused_exit_s=(
                        None
                        if settings.web_chat or settings.zalo_enabled
                        else settings.telegram_token_refused_exit_seconds
                    ),
                )
                tasks.append(
                    asyncio.create_task(
                        attachments_loop(
                            runtime.engine,
                            CHANNEL,
                            telegram_sender.files.download,
                            utc_now,
                            stop,
                            every_s=LOOP_EVERY_S,
                            tell=notices.tell,
                        ),
                        name="attachments",
                    )
                )
                if settings.telegram_mode == "webhook":
                    if settings.webhook_secret is None:
                        raise RuntimeError("webhook settings were validated at start")
                    webhook = (bot, inbound, settings.webhook_secret.get_secret_value())
                else:
                    tasks.append(asyncio.create_task(inbound.poll(stop), name="polling"))
                names.append(f"@{bot.username} ({settings.telegram_mode})")
                username = bot.username
            if settings.zalo_enabled:
                client = await stack.enter_async_context(httpx.AsyncClient(trust_env=False))
                zalo_sender, zalo_route, zalo_tokens = zalo_channel(
                    settings, runtime, client, failures
                )
                senders.append(zalo_sender)
                routes.append(zalo_route)
                # The pair is renewed on a schedule, not only when a message leaves.
                tasks.append(asyncio.create_task(zalo_tokens.keep_fresh(stop), name="zalo-tokens"))
                tasks.append(
                    asyncio.create_task(
                        attachments_loop(
                            runtime.engine,
                            ZALO,
                            partial(download_url, client),
                            utc_now,
                            stop,
                            every_s=LOOP_EVERY_S,
                            tell=notices.tell,
                        ),
                        name="attachments-zalo",
                    )
                )
                names.append(f"zalo OA {settings.zalo_oa_id} (webhook)")
            if settings.web_chat:
                web_sender, web_routes, web_tasks = web_channel(settings, runtime, stop)
                senders.append(web_sender)
                routes.extend(web_routes)
                tasks.extend(web_tasks)
                names.append("web chat")
            for sender in senders:
                runtime.dispatcher.on_outbox(sender.channel, sender.wake)
                runtime.dispatcher.hand_off(sender)  # replies leave as their event commits
                wakers.append(sender.wake)
                tasks.append(asyncio.create_task(sender.run(stop), name=f"outbox-{sender.channel}"))
            jobs = JobsRunner(
                runtime.engine,
                runtime.dispatcher,
                digest_settings(settings),
                default_catalog(),
                utc_now,
                dossiers=dossier_job_settings(settings),
            )
            desk = DossierDesk(runtime.engine, desk_settings(settings), default_catalog(), utc_now)
            for sender in senders:
                desk.on_commit(sender.wake)
            links = Links(
                telegram_username=(username or "").lstrip("@") or None,
                zalo_oa_id=settings.zalo_oa_id if settings.zalo_enabled else None,
            )
            for name, secret in settings.dossier_clients.items():
                if len(secret) < WEAK_SECRET_CHARS:
                    log.warning("event=weak_api_secret client=%s", name)
            public = Open311Settings.from_settings(settings)
            app = create_app(
                runtime.engine,
                telegram=webhook,
                health=health,
                extra=[
                    *routes,
                    *open311_routes(runtime.engine, public),
                    *results_routes(runtime.engine, public, utc_now, jobs.requests.public),
                    *dossier_routes(desk, settings.dossier_clients, links),
                ],
            )
            config = uvicorn.Config(
                app,
                host=settings.listen_host,
                port=settings.http_port,
                log_level="warning",
                lifespan="off",
                log_config=None,
                # The web chat's event streams end at the stop; this bounds any other.
                timeout_graceful_shutdown=3,
            )
            server = uvicorn.Server(config)
            web = asyncio.create_task(server.serve(), name="web")
            tasks.append(web)
            # "running" is said once the port listens, so nothing knocks on a closed door.
            # uvicorn offers only a flag for that, no event to wait on.
            while not server.started and not web.done():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            tasks.extend(await jobs.start(stop))
            tasks.append(asyncio.create_task(ACTIVITY.run(stop), name="activity"))
            log.info("event=started channels=%d", len(names))
            print(f"bot {', '.join(names)} running (web :{settings.http_port})", flush=True)
            if settings.web_chat:
                print(f"web chat: mở / open {chat_address(settings)}", flush=True)
            died = await until_stopped(stop, tasks)
            refused = [
                error
                for task in tasks
                if task.done()
                and not task.cancelled()
                and isinstance(error := task.exception(), TokenRefused)
            ]
            stop.set()
            server.should_exit = True
            await jobs.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            if inbound is not None:
                await inbound.close()
            await runtime.dispatcher.close()
            for sender in senders:
                await sender.drain(SHUTDOWN_DRAIN_S)
            ACTIVITY.flush()  # what the drain did goes in the last aggregate line
            # No count of messages sent: with one citizen in the process's life, it was
            # their survey's route (bot.runtime.activity).
            log.info("event=stopped")
    finally:
        await runtime.close()
    if refused:
        raise refused[0]  # after the orderly stop: the caller says so and exits non-zero
    return 1 if died else 0


run_telegram = run_bot  # the name it had while Telegram was the only way in
