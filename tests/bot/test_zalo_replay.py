"""Zalo replay: a correctly signed event stamped outside the window is refused (even once
its msg_id is forgotten), msg_ids are remembered longer than the window plus every Zalo
retry, and only text in the receipt token's own shape opens a survey."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Route

import bot.channels.zalo_inbound as zalo_inbound
from bot.channels.zalo_events import (
    RETRY_SCHEDULE,
    SIGNATURE_HEADER,
    parse_text,
    replay_horizon,
    signature,
    too_old,
)
from bot.cli.receipt_tokens import new_token
from bot.config import Settings
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations import Command, Text
from jobs.runner import EVENT_MEMORY
from storage import read_transaction, write_transaction
from storage.schema import processed_events
from tests.support.clock import SequentialClock, SequentialIds

APP, OA, SECRET = "1234567890", "2591234567890123456", "oa-secret"
USER = "8756112331268738712"


def _ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def _event(stamp: str, msg_id: str) -> bytes:
    event: dict[str, Any] = {
        "app_id": APP,
        "event_name": "user_send_text",
        "timestamp": stamp,
        "sender": {"id": USER},
        "recipient": {"id": OA},
        "message": {"text": "/start", "msg_id": msg_id},
    }
    return json.dumps(event).encode()


async def _post(dispatcher: Dispatcher, body: bytes, stamp: str) -> int:
    webhook = zalo_inbound.zalo_webhook(dispatcher, APP, OA, SECRET, ())
    app = Starlette(routes=[Route("/zalo", webhook, methods=["POST"])])
    mac = signature(APP, body, stamp, SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.post(
            "/zalo", content=body, headers={SIGNATURE_HEADER: f"mac={mac}"}
        )
    return response.status_code


async def _handled(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        found = await conn.execute(select(func.count()).select_from(processed_events))
        return int(found.scalar_one())


class _DatabaseDown(Exception):
    """What the webhook meets while our database is unreachable."""


async def test_zalo_retry_after_our_outage_is_taken_a_late_capture_is_not(
    engine: AsyncEngine,
    clock: SequentialClock,
    ids: SequentialIds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database is down for 20 minutes: the delivery and Zalo's retries after 30 s and
    5 min get 500; the retry 15 min later (20.5 min after the event, past the 10-minute
    window) is processed. The same kind of event, captured and sent 3 hours on, is not."""
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    stamp = _ms(clock.current)
    body = _event(stamp, "m-outage")

    def down(_engine: AsyncEngine) -> object:
        raise _DatabaseDown

    monkeypatch.setattr(zalo_inbound, "write_transaction", down)
    for pause in RETRY_SCHEDULE[:2]:
        assert await _post(dispatcher, body, stamp) == 500
        clock.advance(pause)
    monkeypatch.setattr(zalo_inbound, "write_transaction", write_transaction)
    clock.advance(RETRY_SCHEDULE[2])
    assert await _post(dispatcher, body, stamp) == 200
    assert await _handled(engine) == 1
    late = _ms(clock.current - timedelta(hours=3))
    assert await _post(dispatcher, _event(late, "m-captured"), late) == 200
    assert await _handled(engine) == 1


async def test_a_signed_event_a_year_old_is_refused(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    old = _ms(clock.current - timedelta(days=365))
    assert await _post(dispatcher, _event(old, "m-old"), old) == 200
    assert await _handled(engine) == 0


async def test_a_replay_after_the_ids_are_pruned_is_refused(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=ids)
    stamp = _ms(clock.current)
    body = _event(stamp, "m-1")
    assert await _post(dispatcher, body, stamp) == 200
    assert await _handled(engine) == 1
    # 31 days on, the 30-day cleanup has forgotten the msg_id; the capture is sent again.
    async with write_transaction(engine) as conn:
        await conn.execute(delete(processed_events))
    clock.advance(timedelta(days=31))
    assert await _post(dispatcher, body, stamp) == 200
    assert await _handled(engine) == 0


@pytest.mark.parametrize(
    ("offset", "refused"),
    [
        (timedelta(0), False),
        (timedelta(minutes=-9), False),
        # Zalo's last retry (30 s + 5 + 15 + 30 min + 1 h after the event) is still taken.
        (timedelta(minutes=-20), False),
        (-(timedelta(minutes=10) + sum(RETRY_SCHEDULE, timedelta())), False),
        (-(timedelta(minutes=11) + sum(RETRY_SCHEDULE, timedelta())), True),
        (timedelta(hours=-3), True),
        (timedelta(minutes=11), True),
    ],
    ids=["now", "9-min-old", "20-min-old", "last-retry", "after-last-retry", "3-h", "11-min-ahead"],
)
def test_window(offset: timedelta, refused: bool) -> None:
    now = datetime(2026, 1, 5, 2, tzinfo=UTC)
    assert too_old(_ms(now + offset), now, timedelta(minutes=10)) is refused


@pytest.mark.parametrize("stamp", ["", "abc", "-5", "1" * 30], ids=["empty", "word", "neg", "huge"])
def test_a_stamp_that_is_no_time_is_refused(stamp: str) -> None:
    assert too_old(stamp, datetime(2026, 1, 5, tzinfo=UTC), timedelta(minutes=10))


def test_ids_are_remembered_past_the_longest_window_and_every_retry() -> None:
    longest = Settings.model_fields["zalo_event_max_age_minutes"].metadata
    most = max(getattr(m, "le", 0) or 0 for m in longest)
    assert most > 0
    assert replay_horizon(timedelta(minutes=most)) <= EVENT_MEMORY
    assert Settings().zalo_event_max_age_minutes == 10


@pytest.mark.parametrize(
    "text",
    [
        "xin_chao_toi_muon_phan_anh",  # 26 characters of the alphabet: a typed word
        "abcdefghijklmnop",  # 16 characters: was taken as a token before
        "-ALzL1fFlgn7KEoyWfaOUK5x",  # a leading "-" is never issued
    ],
    ids=["long-word", "sixteen", "leading-dash"],
)
def test_other_text_is_not_a_receipt_token(text: str) -> None:
    assert parse_text(text) == Text(text)


def test_issued_tokens_are_recognised() -> None:
    for _ in range(200):
        token = new_token()
        assert parse_text(token) == Command("start", token, typed=token)
