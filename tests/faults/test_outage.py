"""The database unavailable for about 10 seconds: PostgreSQL's connections cut and refused,
or SQLite's file locked by another process's write for 12 s (longer than the bot's 10 s busy
timeout, so its writes really fail). Nothing is restarted: the bot must recover by itself.

May happen: updates refused while the database is away (the webhook answers 5xx, polling
leaves them unconfirmed) and delivered again afterwards; replies late by the outage; errors
in the log. Must not happen: an update taken (answered 2xx) and then lost, a reply sent
twice, /healthz saying ok while the database cannot be written, a bot that needs a restart,
or polling that spins on getUpdates while it cannot store what it gets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.faults.harness import START_S, Backend, Citizen, bot_process, wait_until
from tests.support.bot_process import BotProcess, free_port
from tests.support.fake_telegram import FakeTelegram

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

CHATS = [7_320_000_101, 7_320_000_102, 7_320_000_103]
OUTAGE_S = 10.0
#: SQLite: the lock outlasts the busy timeout (storage/db.py), or a write would just wait.
SQLITE_OUTAGE_S = 12.0
#: Polling while nothing can be stored: about one getUpdates a second (a spinning loop would
#: make hundreds in the outage).
MAX_POLLS_IN_OUTAGE = 25


def _outage_s(backend: Backend) -> float:
    return SQLITE_OUTAGE_S if backend.kind == "sqlite" else OUTAGE_S


def _health(process: BotProcess) -> int:
    url = f"http://127.0.0.1:{process.webhook_port}/healthz"
    return httpx.get(url, timeout=30, trust_env=False).status_code


@pytest.fixture
def webhook(fake: FakeTelegram, tmp_path: Path, backend: Backend) -> Iterator[BotProcess]:
    workdir = tmp_path / "hook"
    workdir.mkdir()
    process = BotProcess(fake, workdir, database_url=backend.url, webhook_port=free_port())
    process.start(timeout=START_S)
    try:
        yield process
    finally:
        process.stop()


def _deliver(fake: FakeTelegram, process: BotProcess, update: int) -> list[int]:
    """Posts ``update`` as Telegram does: again, a second later, until it is taken (2xx)."""
    statuses: list[int] = []
    while not statuses or statuses[-1] >= 300:
        if statuses:
            time.sleep(1.0)
        try:
            statuses.append(
                fake.post_update_to(process.webhook_url, update, process.secret, timeout=30)
            )
        except httpx.HTTPError:
            statuses.append(599)  # no answer at all: redelivered like a 5xx
        assert len(statuses) < 60, statuses
    return statuses


def test_webhook_answers_5xx_while_the_database_is_away_and_recovers(
    fake: FakeTelegram, webhook: BotProcess, backend: Backend
) -> None:
    citizens = [Citizen(fake, chat) for chat in CHATS]
    for _ in range(2):
        for citizen in citizens:
            assert _deliver(fake, webhook, citizen.act()) == [200]
            citizen.wait()
    assert _health(webhook) == 200
    with ThreadPoolExecutor(len(citizens)) as pool:
        started = time.monotonic()
        with backend.unavailable():
            taken = [pool.submit(_deliver, fake, webhook, c.act()) for c in citizens]
            during = _health(webhook)
            time.sleep(max(0.0, _outage_s(backend) - (time.monotonic() - started)))
        statuses = [t.result() for t in taken]
    assert during == 503
    # Refused while away, so Telegram keeps it (on SQLite an update that came while another
    # waited may itself wait out the lock and be taken late instead); each taken at last.
    assert any(answers[0] >= 500 for answers in statuses), statuses
    assert all(answers[-1] == 200 for answers in statuses), statuses
    for citizen in citizens:
        citizen.wait()
        for _ in range(3):  # carries on as before: no restart was needed
            assert _deliver(fake, webhook, citizen.act()) == [200]
            citizen.wait()
        assert citizen.doubled() == []
    assert _health(webhook) == 200


def test_polling_backs_off_while_the_database_is_away_and_recovers(
    fake: FakeTelegram, tmp_path: Path, backend: Backend
) -> None:
    process = bot_process(fake, tmp_path, backend)
    citizen = Citizen(fake, CHATS[0])
    try:
        citizen.start(process, until=2)
        with backend.unavailable():
            polls_before = len(fake.calls_to("getUpdates"))
            update = citizen.act()
            wait_until("the update handed out", lambda: fake.update(update).delivered_at)
            time.sleep(_outage_s(backend))
            polls = len(fake.calls_to("getUpdates")) - polls_before
        citizen.wait()
        for _ in range(3):
            citizen.step()
    finally:
        process.stop()
    assert polls <= MAX_POLLS_IN_OUTAGE
    assert citizen.doubled() == []
    assert fake.update(update).deliveries  # delivered, refused, delivered again
    assert process.proc is not None
    assert process.runs == 1  # never restarted
