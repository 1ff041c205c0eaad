"""The fault suite's setting: a real bot process on SQLite or on PostgreSQL (its own database,
reached through a relay the test can cut) and the fake Bot API. Each test's docstring says
what may happen and what must not.

Run alone: ``python -m pytest -m faults tests/faults`` (``.ci/run`` does, on both databases).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.faults.harness import Backend, personal_data_in_logs
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES, postgres_database
from tests.support.fake_telegram import FakeTelegram
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        yield Backend("sqlite", url, url)
        return
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    with postgres_database() as direct:
        parsed = make_url(direct)
        target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        with contextlib.closing(TcpProxy(target).start()) as proxy:
            url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
            yield Backend("postgres", url, direct, proxy)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token="424242:FAULTS-token", username="sipas_faults_bot") as server:
        yield server


#: Chat ids this short are the test's staff ids, too short to tell from other numbers.
MIN_CHAT_DIGITS = 6


@pytest.fixture(autouse=True)
def logs_hold_no_personal_data(fake: FakeTelegram, tmp_path: Path) -> Iterator[None]:
    """After each fault test (kills, outages, refused calls: where tracebacks are logged),
    the bot's logs hold no raw chat id and no phone number."""
    yield
    chats = {c.chat_id for c in fake.calls if c.chat_id is not None}
    long_ids = [c for c in chats if len(str(abs(c))) >= MIN_CHAT_DIGITS]
    assert personal_data_in_logs(tmp_path, long_ids) == []
