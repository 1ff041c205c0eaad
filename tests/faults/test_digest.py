"""kill -9 while a digest goes out: while the job writes it, as its message is sent, and
after Telegram took it before the bot could mark it sent.

May happen: the digest goes out after the restart; after a kill between Telegram taking the
message and the bot marking it, that one message again (at-least-once, one per crash). Must
not happen: the digest lost, built twice (two runs of the same period) or, but for that one
message, any part of it sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from storage import open_engine, write_transaction
from storage.schema import contacts
from tests.faults.harness import START_S, Backend, Citizen, bot_process, pending, scalar, wait_until
from tests.support.bot_process import ADMIN_ID, BotProcess
from tests.support.fake_telegram import Call, FakeTelegram

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

CHAT = 7_330_000_201
TITLE = "BẢN TIN NGÀY"
MOMENTS = ["writing-it", "before-the-send", "after-the-send"]


def _backdate(backend: Backend) -> None:
    """The first citizen wrote three days ago: a day's digest is due at once."""

    async def run() -> None:
        engine = open_engine(backend.direct)
        try:
            async with write_transaction(engine) as conn:
                since = datetime.now(UTC) - timedelta(days=3)
                await conn.execute(update(contacts).values(created_at=since))
        finally:
            await engine.dispose()

    asyncio.run(run())


def _start_into_a_kill(process: BotProcess) -> None:
    with contextlib.suppress(RuntimeError):  # it may die before it says it runs
        process.start(timeout=START_S)
    wait_until("the kill", lambda: process.proc is not None and process.proc.poll() is not None)


def _to_admin(fake: FakeTelegram) -> list[Call]:
    return [
        c
        for method in ("sendMessage", "sendPhoto", "sendDocument")
        for c in fake.calls_to(method)
        if c.chat_id == ADMIN_ID and c.status == 200
    ]


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_during_a_digest(
    fake: FakeTelegram, tmp_path: Path, backend: Backend, moment: str
) -> None:
    if moment == "writing-it" and backend.kind == "sqlite":
        pytest.skip("SQLite writes the digest in one locked step: the kill is before or after")
    process = bot_process(fake, tmp_path, backend, DIGEST_KINDS="daily")
    citizen = Citizen(fake, CHAT)
    citizen.start(process, until=2)
    process.terminate()
    _backdate(backend)
    try:
        if moment == "writing-it":
            with backend.locked("outbox"):
                process.start(timeout=START_S)
                wait_until(
                    "the digest waiting to be queued",
                    lambda: backend.waiting_on_lock("INSERT INTO outbox"),
                )
                process.kill()
            assert _to_admin(fake) == []
        else:
            taken = moment == "after-the-send"
            fake.trap("sendMessage", process.kill, chat_id=ADMIN_ID, stored=taken)
            _start_into_a_kill(process)
        process.start(timeout=START_S)
        wait_until(
            "the digest",
            lambda: any(TITLE in str(c.params.get("text")) for c in _to_admin(fake)),
            timeout=60,
        )
        wait_until("the outbox emptied", lambda: pending(backend) == 0, timeout=60)
        citizen.step()  # the bot still answers citizens
    finally:
        process.stop()
    assert scalar(backend, "SELECT count(*) FROM digest_runs WHERE kind = 'daily'") == 1
    sent = Counter(str(c.params.get("text") or c.params.get("caption")) for c in _to_admin(fake))
    doubled = [text for text, n in sent.items() if n > 1]
    titles = [text for text in sent.elements() if TITLE in text]
    if moment == "after-the-send":
        assert len(doubled) <= 1
        assert len(set(titles)) == 1  # one digest; its one message may have gone twice
    else:
        assert doubled == []
        assert len(titles) == 1
