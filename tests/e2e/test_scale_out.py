"""Several real bot processes on one PostgreSQL database, against the fake Bot API.

What may happen and what must not: with no process killed, every reply is sent exactly once
and in order per chat, whichever process took the update; when the process running the
schedule is killed, another takes over, and a due digest and an overdue survey's closing go
out exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.bot_process import ADMIN_ID, BotProcess, free_port
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES
from tests.support.fake_telegram import FakeTelegram

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


async def _admin(sql: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _run(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for sql in statements:
                await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture
def database() -> Iterator[str]:
    """A database of its own (advisory locks and the schedule are per database)."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    name = f"t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token="123456:SCALE-token", username="sipas_test_bot") as server:
        yield server


def _process(fake: FakeTelegram, tmp_path: Path, name: str, url: str, **env: str) -> BotProcess:
    workdir = tmp_path / name
    workdir.mkdir()
    # The processes share the survey marks' key through one file, as README says they must.
    shared = {"RECEIPT_SECRET_FILE": str(tmp_path / "receipt_secret"), **env}
    return BotProcess(fake, workdir, database_url=url, webhook_port=free_port(), extra_env=shared)


def _newest_offering(fake: FakeTelegram, chat: int, data: str) -> int:
    """The newest message offering button ``data`` to ``chat`` (waiting for it to come)."""

    def offering(f: FakeTelegram) -> int | None:
        for message in reversed(f.messages(chat)):
            markup = message.reply_markup or {}
            for row in markup.get("inline_keyboard", []):
                if any(b.get("callback_data") == data for b in row):
                    return message.message_id
        return None

    found = fake.wait_for(offering, 30, f"a message offering {data} to {chat}")
    assert isinstance(found, int)
    return found


STEPS = ["/khaosat", "consent:yes", "info:posted", "info:done"]
#: New messages the steps bring (ticking "info:posted" redraws its question instead).
NEW_MESSAGES = 3


def test_two_webhook_processes_send_every_reply_once_in_order(
    fake: FakeTelegram, tmp_path: Path, database: str
) -> None:
    a = _process(fake, tmp_path, "a", database)
    b = _process(fake, tmp_path, "b", database)
    a.start()
    b.start()
    citizens = list(range(8001, 8051))
    try:
        turn = 0
        for step in STEPS:
            seen = {c: _calls_to(fake, c) for c in citizens}
            for chat in citizens:
                if step.startswith("/"):
                    update = fake.user_sends_command(chat, step)
                else:
                    update = fake.user_presses(chat, _newest_offering(fake, chat, step), step)
                target = (a, b)[turn % 2]
                turn += 1
                assert fake.post_update_to(target.webhook_url, update, a.secret) == 200
            for chat in citizens:
                _wait_for_more(fake, chat, seen[chat], step)
    finally:
        a.stop()
        b.stop()
    for chat in citizens:
        texts = [
            str(c.params.get("text"))
            for c in fake.calls_to("sendMessage")
            if str(c.params.get("chat_id")) == str(chat) and c.status == 200
        ]
        assert len(texts) == NEW_MESSAGES, (chat, texts)
        doubled = [t for t, n in Counter(texts).items() if n > 1]
        assert doubled == [], (chat, doubled)


def _calls_to(fake: FakeTelegram, chat: int) -> int:
    """Successful sends and edits to ``chat``."""
    return sum(
        1
        for method in ("sendMessage", "editMessageText")
        for c in fake.calls_to(method)
        if str(c.params.get("chat_id")) == str(chat) and c.status == 200
    )


def _wait_for_more(fake: FakeTelegram, chat: int, before: int, step: str) -> None:
    def answered(f: FakeTelegram) -> bool:
        return _calls_to(f, chat) > before

    fake.wait_for(answered, 30, f"the answer to {step} for {chat}")


def _sent_to(fake: FakeTelegram, chat: int) -> int:
    return sum(
        1
        for c in fake.calls_to("sendMessage")
        if str(c.params.get("chat_id")) == str(chat) and c.status == 200
    )


def test_the_schedule_moves_when_its_process_is_killed(
    fake: FakeTelegram, tmp_path: Path, database: str
) -> None:
    settings = {"DIGEST_KINDS": "daily", "ADMIN_CHAT_IDS": str(ADMIN_ID)}
    a = _process(fake, tmp_path, "a", database, **settings)
    b = _process(fake, tmp_path, "b", database, **settings)
    a.start()
    b.start()
    citizen = 8101
    try:
        assert "role=leader" in a.output()
        assert "role=leader" not in b.output()
        for step in STEPS[:3]:
            count = _calls_to(fake, citizen)
            if step.startswith("/"):
                update = fake.user_sends_command(citizen, step)
            else:
                update = fake.user_presses(citizen, _newest_offering(fake, citizen, step), step)
            assert fake.post_update_to(b.webhook_url, update, b.secret) == 200
            _wait_for_more(fake, citizen, count, step)
        a.kill()
        # The survey is overdue, and the first citizen wrote three days ago: yesterday's
        # digest is due. Only the new leader can act on either.
        asyncio.run(
            _run(
                database,
                "UPDATE conversations SET expires_at = now() - interval '1 hour'",
                "UPDATE contacts SET created_at = now() - interval '3 days'",
            )
        )
        _wait_for_words(fake, citizen, "đã đóng")  # the survey closed by the new leader
        _wait_for_words(fake, ADMIN_ID, "BẢN TIN NGÀY")  # yesterday's digest
        asyncio.run(asyncio.sleep(3))  # time for a second copy, were there one
    finally:
        b.stop()
    assert _shown(fake, citizen, "đã đóng") == 1
    assert _shown(fake, ADMIN_ID, "BẢN TIN NGÀY") == 1
    assert "role=leader" in b.output()


def _shown(fake: FakeTelegram, chat: int, words: str) -> int:
    return sum(1 for m in fake.messages(chat) if words in (m.text or ""))


def _wait_for_words(fake: FakeTelegram, chat: int, words: str) -> None:
    def shown(f: FakeTelegram) -> bool:
        return _shown(f, chat, words) > 0

    fake.wait_for(shown, 60, f"{words!r} to {chat}")
