"""The steps the Zalo end-to-end tests share: a bot "life" wired in the test's event loop
over the fake OA (``tests/e2e/test_zalo_window.py`` and its neighbours), the real
``python -m bot`` process with stored tokens (``tests/e2e/test_zalo_api.py`` and its
neighbours), and filing a complaint on Zalo and answering it days later.

Each "life" is the real wiring: the signed webhook served by uvicorn, the dispatcher, the
outbox sender and the Zalo sender with its token store and window, all on one SQLite file;
the fake OA is reached over real HTTP. The clock is the test's, so days pass at once (the
webhook's replay window is widened to match)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from bot.channels.zalo import ZaloSender
from bot.channels.zalo_inbound import zalo_webhook
from bot.channels.zalo_tokens import TokenStore
from bot.channels.zalo_window import Window, filed_note_key, zns_filed_note_key
from bot.channels.zalo_zns import ZNS_PATH, Zns
from bot.channels.zns_schedule import ZnsSchedule
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.send_budget import Limits
from bot.runtime.sender import OutboxSender
from bot.zalo_wiring import channel_texts
from conversations.catalog import default_catalog
from storage import read_transaction, write_transaction
from storage.queries.outbox import counts_by_status, held_since
from storage.queries.zalo_chats import notices_between
from storage.queries.zalo_tokens import save_tokens
from storage.schema import COMPLAINT_STATUSES
from tests.support.bot_process import BotProcess, free_port
from tests.support.clock import SettableClock
from tests.support.db import Database, migrated
from tests.support.fake_zalo import FakeZalo

CITIZEN = "8756112331268738712"
STAFF = "5512300000000000001"
#: The staff's answer in ``answer_later``.
ANSWER = "Đã xử lý xong: công trình đã tháo dỡ phần lấn chiếm."
#: The end of an anonymous complaint typed (no buttons pressed): no name, no address, send.
TYPED_ANONYMOUS = ("Gửi ẩn danh", "bỏ qua", "gửi")


# --------------------------------------------------------------- in the test's event loop


@dataclass
class Life:
    """One run of the bot: post events as Zalo does, then let the outbox drain."""

    zalo: FakeZalo
    url: str
    sender: OutboxSender

    async def say(self, user: str, event: dict[str, Any]) -> None:
        assert await asyncio.to_thread(self.zalo.post, self.url, event) == 200
        await self.drain()

    async def drain(self) -> None:
        """Sends what is due at the clock's time (nothing else happening): passes until one
        sends nothing (``drain_once`` answers 0.0 after a pass that sent)."""
        sent = True
        while sent:
            sent = await self.sender.drain_once() == 0.0

    async def text(self, user: str, text: str) -> None:
        await self.say(user, self.zalo.user_text(user, text))

    async def press(self, user: str, payload: str) -> None:
        await self.say(user, self.zalo.press(user, payload, check=False))


@asynccontextmanager
async def life(
    zalo: FakeZalo,
    database: Database,
    clock: SettableClock,
    template: str = "",
    zns: str = "",
    zns_schedule: ZnsSchedule | None = None,
) -> AsyncIterator[Life]:
    """One process life; ``zns``: the approved ZNS template (``ZALO_ZNS_TEMPLATE_NOTICE``),
    sent within ``zns_schedule`` (any hour, no quota when None)."""
    engine = database.open()
    settings = DispatchSettings(
        admin_chats=(("zalo", STAFF),), zalo_template=template, zalo_zns_template=zns
    )
    dispatcher = Dispatcher(engine, settings, clock=clock)
    texts = channel_texts(engine, "vi")  # as the app's wiring: each in its reader's language
    async with httpx.AsyncClient(trust_env=False) as client:
        tokens = TokenStore(engine, client, zalo.oauth_url, zalo.app_id, zalo.app_secret, clock)
        channel = ZaloSender(
            client,
            zalo.base_url,
            tokens,
            texts,
            Window(engine, clock, template, texts=texts),
            filed_note_key(bool(template), send_billed=True),
            Zns(
                engine,
                zalo.base_url + ZNS_PATH,
                zns,
                # As the app's wiring: each status as the catalog words it.
                {s: default_catalog().text("vi", f"status.{s}") for s in COMPLAINT_STATUSES},
                filed_note=zns_filed_note_key(send_billed=True),
                schedule=zns_schedule or ZnsSchedule(ZoneInfo("Asia/Ho_Chi_Minh")),
            )
            if zns
            else None,
        )
        # The fake has no rate limit of its own: ours must not be the reason a test waits.
        sender = OutboxSender(engine, channel, clock, Limits(100, 100, 100))
        webhook = zalo_webhook(
            dispatcher,
            zalo.app_id,
            zalo.oa_id,
            zalo.oa_secret,
            [STAFF],
            max_age=timedelta(days=30),
        )
        app = Starlette(routes=[Route("/zalo", webhook, methods=["POST"])])
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn has no event for it
            await asyncio.sleep(0.01)
        try:
            yield Life(zalo, f"http://127.0.0.1:{port}/zalo", sender)
        finally:
            server.should_exit = True
            await serving
            await dispatcher.close()
            await engine.dispose()


async def seeded_database(zalo: FakeZalo, tmp_path: Path) -> Database:
    """A migrated SQLite database in ``tmp_path`` holding the fake OA's tokens."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    engine = await migrated(database)
    access, refresh = zalo.issue_tokens()
    now = datetime.now(UTC)
    async with write_transaction(engine) as conn:
        await save_tokens(conn, access, refresh, now + timedelta(hours=25), now)
    await engine.dispose()
    return database


async def counts(database: Database) -> dict[str, int]:
    """The Zalo outbox rows by status."""
    engine = database.open()
    try:
        async with read_transaction(engine) as conn:
            return await counts_by_status(conn, "zalo")
    finally:
        await engine.dispose()


async def digest_counts(database: Database) -> tuple[int, dict[str, int]]:
    """What the digest counts (``jobs.digests``): messages held in the outbox now, and
    Zalo notices held, re-sent and sent as templates (over all time)."""
    engine = database.open()
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    try:
        async with read_transaction(engine) as conn:
            return await held_since(conn, since), await notices_between(conn, since, until)
    finally:
        await engine.dispose()


def tracking_code(texts: list[str]) -> str:
    """The tracking code the citizen was given in ``texts``."""
    match = re.search(r"PA-\d{4}-\d{6}", "\n".join(texts))
    assert match is not None, texts
    return match.group(0)


async def file_complaint(bot: Life) -> str:
    """The citizen files an anonymous complaint on Zalo; its tracking code."""
    await bot.text(CITIZEN, "/phananh")
    await bot.text(CITIZEN, "2")
    await bot.text(CITIZEN, "Công trình lấn chiếm vỉa hè trước số 12 đường Lê Lợi.")
    await bot.text(CITIZEN, "xong")
    await bot.press(CITIZEN, "#c:c.who:anon")
    await bot.press(CITIZEN, "#c:c.addr:skip")
    await bot.press(CITIZEN, "#c:c.confirm:send")
    texts = [m.text for m in bot.zalo.messages(CITIZEN)]
    code = tracking_code(texts)
    assert any("mã phản ánh bất cứ lúc nào" in t for t in texts)  # how they will hear back
    return code


async def file_named(bot: Life, consent: bool) -> str:
    """A named complaint filed on Zalo with phone 0912 345 678, ZNS notices agreed to or not
    (``ZALO_ZNS_TEMPLATE_NOTICE`` set); its tracking code."""
    await bot.text(CITIZEN, "/phananh")
    await bot.text(CITIZEN, "2")
    await bot.text(CITIZEN, "Công trình lấn chiếm vỉa hè trước số 12 đường Lê Lợi.")
    await bot.text(CITIZEN, "xong")
    await bot.press(CITIZEN, "#c:c.who:named")
    await bot.text(CITIZEN, "Trần Văn Ba")
    await bot.text(CITIZEN, "0912 345 678")
    asked = bot.zalo.messages(CITIZEN)[-1]
    assert "tin nhắn Zalo (ZNS)" in asked.text, asked.text
    await bot.press(CITIZEN, "#c:c.zns:yes" if consent else "#c:c.zns:no")
    await bot.text(CITIZEN, "12 Lê Lợi, phường Bến Thành, TP Hồ Chí Minh")
    await bot.press(CITIZEN, "#c:c.confirm:send")
    texts = [m.text for m in bot.zalo.messages(CITIZEN)]
    code = tracking_code(texts)
    # How they will hear back, as they chose.
    note = "đã đồng ý" if consent else "tin được giữ lại"
    assert note in texts[-1] or note in texts[-2], texts[-3:]
    return code


async def answer_later(bot: Life, clock: SettableClock, code: str, days: int = 10) -> None:
    """``days`` later, with Zalo's window closed for the citizen, staff answer ``code``."""
    clock.now += timedelta(days=days)
    bot.zalo.out_of_window(CITIZEN)  # Zalo's clock agrees: the window is closed
    await bot.text(STAFF, "/start")  # staff are within their own window
    await bot.press(STAFF, f"#c:case:{code}:answer")
    await bot.text(STAFF, ANSWER)


# --------------------------------------------------------------- the real process


def zalo_process(zalo: FakeZalo, tmp_path: Path) -> BotProcess:
    """``python -m bot`` with Zalo only, pointed at the fake OA (not started)."""
    telegram = SimpleNamespace(token="", base_url="http://127.0.0.1:9/bot")
    return BotProcess(
        telegram,  # type: ignore[arg-type]
        tmp_path,
        extra_env={
            "TELEGRAM_BOT_TOKEN": "",
            "ZALO_APP_ID": zalo.app_id,
            "ZALO_APP_SECRET": zalo.app_secret,
            "ZALO_OA_SECRET": zalo.oa_secret,
            "ZALO_OA_ID": zalo.oa_id,
            "ZALO_API_BASE_URL": zalo.base_url,
            "ZALO_OAUTH_BASE_URL": zalo.oauth_url,
        },
    )


@contextmanager
def running_bot(
    zalo: FakeZalo, tmp_path: Path, env: Mapping[str, str] | None = None
) -> Iterator[BotProcess]:
    """The process started with the fake OA's tokens stored (``zalo set-token``), with the
    settings ``env`` besides; stopped on leaving."""
    process = zalo_process(zalo, tmp_path)
    process.extra_env.update(env or {})
    access, refresh = zalo.issue_tokens()
    stored = subprocess.run(
        [sys.executable, "-m", "bot", "zalo", "set-token", "--refresh-token", refresh,
         "--access-token", access, "--expires-in", "90000"],
        cwd=tmp_path, env=process.env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def file_and_answer_later(bot: Life, clock: SettableClock) -> str:
    """The citizen files a complaint on Zalo; 10 days later staff answer it. Its code."""
    code = await file_complaint(bot)
    await answer_later(bot, clock, code)
    return code
