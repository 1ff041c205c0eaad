"""The Zalo token pair over real HTTP against the fake OA, with a controlled clock: -216 and
-220 refresh once and retry once, concurrent senders share one refresh, a refused refresh is
kept with Zalo's words and not tried again within a minute, and the scheduled refresh needs
no traffic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.channels import zalo_tokens
from bot.channels.zalo import ZaloSender
from bot.channels.zalo_texts import NAV_HINT, fixed
from bot.channels.zalo_tokens import (
    RETRY_AFTER,
    SCHEDULE_AHEAD,
    SCHEDULE_EVERY,
    WAIT_POLL,
    TokenStore,
    refresh_failure,
)
from bot.errors import Paused
from bot.web.server import create_app
from storage import read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.zalo_tokens import RefreshError, get_tokens, save_tokens
from tests.support.clock import SettableClock as Clock
from tests.support.db import Database, migrated
from tests.support.fake_zalo import FakeZalo

USER = "8756112331268738712"
START = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo() as fake:
        yield fake
    assert fake.server_errors == []


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def engine(zalo: FakeZalo, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await migrated(Database(f"sqlite+aiosqlite:///{tmp_path / 'zalo.db'}"))
    access, refresh = zalo.issue_tokens()
    async with write_transaction(engine) as conn:
        await save_tokens(conn, access, refresh, START + timedelta(hours=25), START)
    yield engine
    await engine.dispose()


@pytest.fixture
async def tokens(zalo: FakeZalo, engine: AsyncEngine, clock: Clock) -> AsyncIterator[TokenStore]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield TokenStore(engine, client, zalo.oauth_url, zalo.app_id, zalo.app_secret, clock)


@pytest.fixture
def sender(zalo: FakeZalo, tokens: TokenStore) -> ZaloSender:
    return ZaloSender(tokens.client, zalo.base_url, tokens, fixed({NAV_HINT: "({words})"}))


async def _health(engine: AsyncEngine) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as web:
        answer: dict[str, Any] = (await web.get("/healthz")).json()
    return answer


@pytest.mark.parametrize("code", [-216, -220])
async def test_a_stale_token_gives_one_refresh_and_one_retry(
    zalo: FakeZalo, sender: ZaloSender, code: int
) -> None:
    await sender.send(USER, TextMessage("Xin chào"))  # the token is in use
    zalo.expire_access_token(code)
    await sender.send(USER, TextMessage("Kết quả xử lý"))
    assert [s.error for s in zalo.sends] == [0, code, 0]
    assert [r.error for r in zalo.refreshes] == [0]
    assert [m.text for m in zalo.messages(USER)] == ["Xin chào", "Kết quả xử lý"]


@pytest.mark.parametrize("how", ["refused", "expired by time"])
async def test_twenty_concurrent_sends_share_one_refresh(
    zalo: FakeZalo, sender: ZaloSender, clock: Clock, how: str
) -> None:
    await sender.send(USER, TextMessage("0"))
    if how == "refused":
        zalo.expire_access_token(-220)
    else:
        clock.now = START + timedelta(hours=25, minutes=1)
    await asyncio.gather(*(sender.send(USER, TextMessage(str(n))) for n in range(1, 21)))
    assert len(zalo.refreshes) == 1
    assert sorted(int(m.text) for m in zalo.messages(USER)) == list(range(21))


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        (
            {"error_name": "invalid_grant", "error_reason": "Refresh token is expired"},
            "zalo invalid_grant: Refresh token is expired",
        ),
        (
            {"error_name": "Invalid refresh token", "error_description": "used once already"},
            "zalo Invalid refresh token: used once already",
        ),
        ({"error": -14014, "error_name": "x"}, "zalo -14014 x"),
        ({}, "zalo: no token in the answer"),
        ({"error_reason": "r" * 500}, "zalo: no token in the answer: " + "r" * 120),
    ],
)
def test_a_refused_refresh_is_kept_in_zalo_s_words(answer: dict[str, object], kept: str) -> None:
    assert refresh_failure(answer) == kept
    assert len(refresh_failure(answer)) <= 200


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("invalid_grant", "Refresh token is expired"),
        # Parts that the one-line summary could not be split back into.
        ("Invalid: token", "used once already"),
        ("-14014 x", "a: b"),
        ("invalid_grant", "r" * 300),
    ],
)
async def test_a_refusal_without_a_numeric_code_is_kept_in_its_parts(
    zalo: FakeZalo,
    sender: ZaloSender,
    engine: AsyncEngine,
    clock: Clock,
    name: str,
    reason: str,
) -> None:
    """Zalo answers HTTP 200 with ``error_name`` and ``error_reason`` and no ``error``
    (ZALO.md, "Tokens"): both are stored as sent and shown so on /healthz (the digest:
    tests/jobs/test_digests.py), and the next refresh waits a minute."""
    zalo.refuse_refreshes(name, reason)
    zalo.expire_access_token(-216)
    with pytest.raises(Paused):
        await sender.send(USER, TextMessage("1"))
    async with read_transaction(engine) as conn:
        row = await get_tokens(conn)
    assert row is not None
    assert row.error is not None
    assert (row.error.code, row.error.name, row.error.reason) == (None, name, reason)
    health = (await _health(engine))["zalo_token"]
    assert (health["error"], health["error_name"], health["error_reason"]) == ("", name, reason)
    clock.now = START + RETRY_AFTER - timedelta(seconds=1)
    with pytest.raises(Paused):
        await sender.send(USER, TextMessage("2"))
    assert len(zalo.refreshes) == 1


async def test_a_refused_refresh_is_recorded_and_the_next_attempt_waits(
    zalo: FakeZalo, sender: ZaloSender, tokens: TokenStore, engine: AsyncEngine, clock: Clock
) -> None:
    zalo.refuse_refreshes("invalid_grant", "Refresh token is invalid")
    zalo.expire_access_token(-220)
    with pytest.raises(Paused, match="invalid_grant") as paused:
        await sender.send(USER, TextMessage("1"))
    # A few seconds at a time: the stored pair is read again then (``set-token``).
    assert paused.value.retry_after == WAIT_POLL.total_seconds()
    async with read_transaction(engine) as conn:
        row = await get_tokens(conn)
    assert row is not None
    assert row.failed_at == START
    assert row.last_error == "zalo invalid_grant: Refresh token is invalid"
    assert row.error == RefreshError(None, "invalid_grant", "Refresh token is invalid")
    # Sends within the minute wait for the next allowed refresh: neither the rejected
    # refresh token nor the refused access token is posted again.
    for seconds in (1, 2, 30, 59):
        clock.now = START + timedelta(seconds=seconds)
        with pytest.raises(Paused) as paused:
            await sender.send(USER, TextMessage("1"))
        assert paused.value.retry_after == max(1, min(5, 60 - seconds))
    assert len(zalo.refreshes) == 1
    assert len(zalo.sends) == 1
    # Shown on /healthz (with Zalo's words, never a token) until a refresh succeeds.
    health = await _health(engine)
    assert (health["ok"], health["status"]) == (False, "degraded")
    assert health["zalo_token"] == {
        "status": "refresh_failed",
        "at": START.isoformat(),
        "detail": "zalo invalid_grant: Refresh token is invalid",
        "error": "",
        "error_name": "invalid_grant",
        "error_reason": "Refresh token is invalid",
    }
    assert row.refresh_token not in str(health)
    assert row.access_token not in str(health)
    clock.now = START + RETRY_AFTER
    zalo.allow_refreshes()
    await sender.send(USER, TextMessage("2"))
    assert len(zalo.refreshes) == 2
    health = await _health(engine)
    assert (health["ok"], health["zalo_token"]["status"]) == (True, "ok")
    assert "status" not in health


async def test_the_scheduled_refresh_needs_no_traffic(
    zalo: FakeZalo, tokens: TokenStore, engine: AsyncEngine, clock: Clock
) -> None:
    """A week with no message in or out: at every look of the schedule, the stored access
    token still has hours to live, and Zalo still takes it."""
    stop = asyncio.Event()
    looks = 0

    async def sleep(seconds: float) -> None:
        nonlocal looks
        looks += 1
        async with read_transaction(engine) as conn:
            row = await get_tokens(conn)
        assert row is not None
        assert row.access_token == zalo.access_token
        assert row.expires_at - clock.now > SCHEDULE_AHEAD - SCHEDULE_EVERY
        clock.now += timedelta(seconds=seconds)
        if clock.now >= START + timedelta(days=8):
            stop.set()

    await tokens.keep_fresh(stop, sleep=sleep)
    assert looks == timedelta(days=8) / SCHEDULE_EVERY
    assert zalo.sends == []
    assert [r.error for r in zalo.refreshes] == [0] * len(zalo.refreshes)
    # About once every 25 h - 6 h: never more often than needed.
    assert 8 * 24 // 20 <= len(zalo.refreshes) <= 8 * 24 // 19


async def test_the_schedule_waits_while_the_token_is_fresh(
    zalo: FakeZalo, tokens: TokenStore, clock: Clock
) -> None:
    clock.now = START + timedelta(hours=25) - SCHEDULE_AHEAD - timedelta(minutes=1)
    assert await tokens.refresh_if_due() is False
    clock.now += timedelta(minutes=2)
    assert await tokens.refresh_if_due() is True
    assert await tokens.refresh_if_due() is False
    assert len(zalo.refreshes) == 1


async def _deliver(
    zalo: FakeZalo, sender: ZaloSender, clock: Clock, texts: list[str], until: datetime
) -> tuple[list[str], list[int]]:
    """Sends ``texts`` the way the outbox does: side by side, each paused one again after the
    shortest pause asked (the controlled clock moves by it), until all went or ``until``.
    Returns what is still waiting and, for each round, how many sends the fake had seen at
    its end; any error other than Paused fails the test."""
    pending, rounds = list(texts), []
    while pending and clock.now < until:
        outcomes = await asyncio.gather(
            *(sender.send(USER, TextMessage(text)) for text in pending), return_exceptions=True
        )
        for outcome in outcomes:
            if outcome is not None and not isinstance(outcome, Paused):
                raise outcome
        waits = [o.retry_after for o in outcomes if isinstance(o, Paused)]
        pending = [t for t, o in zip(pending, outcomes, strict=True) if isinstance(o, Paused)]
        rounds.append(len(zalo.sends))
        if waits:
            clock.now += timedelta(seconds=min(waits))
    return pending, rounds


async def test_a_refused_token_is_never_posted_again_while_refreshes_fail(
    zalo: FakeZalo, sender: ZaloSender, clock: Clock
) -> None:
    await sender.send(USER, TextMessage("0"))
    refused = zalo.access_token
    zalo.refuse_refreshes("invalid_grant", "Refresh token is invalid")
    zalo.expire_access_token(-216)
    texts = [str(n) for n in range(1, 21)]
    # The first round posts the token as it stood (Zalo had not refused it yet) ...
    left, _ = await _deliver(zalo, sender, clock, texts, START + timedelta(seconds=1))
    assert len(left) == 20
    posted = sum(s.access_token == refused for s in zalo.sends)
    # ... then three minutes of waiting: never again, and one refresh a minute.
    left, _ = await _deliver(zalo, sender, clock, left, START + timedelta(seconds=170))
    assert len(left) == 20
    assert sum(s.access_token == refused for s in zalo.sends) == posted
    assert len(zalo.refreshes) == 3
    zalo.allow_refreshes()
    left, _ = await _deliver(zalo, sender, clock, left, START + timedelta(minutes=5))
    assert left == []
    assert len(zalo.refreshes) == 4
    assert sum(s.access_token == refused for s in zalo.sends) == posted
    assert sorted(int(m.text) for m in zalo.messages(USER)) == list(range(21))


@pytest.mark.parametrize("with_access_token", [True, False])
async def test_set_token_releases_waiting_messages_within_seconds(
    zalo: FakeZalo, sender: ZaloSender, engine: AsyncEngine, clock: Clock, with_access_token: bool
) -> None:
    """``python -m bot zalo set-token`` writes the pair to the database from another
    process; messages waiting for a token find it at their next look, a few seconds on."""
    await sender.send(USER, TextMessage("0"))
    zalo.refuse_refreshes("invalid_grant", "Refresh token is invalid")
    zalo.expire_access_token(-220)
    texts = [str(n) for n in range(1, 21)]
    pauses: list[float] = []
    for seconds in (0, 10):  # the messages ask again ten seconds on, and are told to wait
        clock.now = START + timedelta(seconds=seconds)
        waiting = await asyncio.gather(
            *(sender.send(USER, TextMessage(text)) for text in texts), return_exceptions=True
        )
        pauses = [outcome.retry_after for outcome in waiting if isinstance(outcome, Paused)]
        assert len(pauses) == 20
    set_at = START + timedelta(seconds=11)
    access, refresh = zalo.issue_tokens()  # the operator re-authorised the OA
    zalo.allow_refreshes()
    async with write_transaction(engine) as conn:
        if with_access_token:
            await save_tokens(conn, access, refresh, set_at + timedelta(hours=25), set_at)
        else:  # as the CLI stores a refresh token alone: an expired access token
            await save_tokens(conn, "-", refresh, set_at, set_at)
    # The outbox tries them again when their pause ends.
    clock.now = max(set_at, START + timedelta(seconds=10 + min(pauses)))
    left, _ = await _deliver(zalo, sender, clock, texts, set_at + timedelta(minutes=2))
    assert left == []
    assert clock.now - set_at <= WAIT_POLL
    assert sorted(int(m.text) for m in zalo.messages(USER)) == list(range(21))


async def test_refreshed_tokens_refused_too_wait_and_then_go_exactly_once(
    zalo: FakeZalo, sender: ZaloSender, engine: AsyncEngine, clock: Clock
) -> None:
    """Zalo refuses 50 sends in a row with -216, fresh tokens included: no message is
    dropped; they wait (one refresh a minute, shown on /healthz) and each goes once."""
    await sender.send(USER, TextMessage("0"))
    zalo.fail_next(-216, count=50)
    texts = [str(n) for n in range(1, 7)]
    left, rounds_before = await _deliver(zalo, sender, clock, texts, START + timedelta(seconds=1))
    assert len(left) == 6
    health = (await _health(engine))["zalo_token"]
    assert (health["status"], health["error"]) == ("refresh_failed", "-216")
    left, rounds = await _deliver(zalo, sender, clock, left, START + timedelta(hours=2))
    assert left == []
    assert sorted(int(m.text) for m in zalo.messages(USER)) == list(range(7))
    minutes = (clock.now - START) / timedelta(minutes=1)
    assert len(zalo.refreshes) <= minutes + 1
    # A refused token is posted in one round only (side by side, before Zalo's answer),
    # never again once Zalo said so.
    first = [0, *rounds_before, *rounds]
    for token in {s.access_token for s in zalo.sends if s.error == -216}:
        posted = [n for n, s in enumerate(zalo.sends) if s.access_token == token]
        assert len({sum(end <= n for end in first) for n in posted}) == 1, token
    health = await _health(engine)
    assert (health["ok"], health["zalo_token"]["status"]) == (True, "ok")


async def test_a_refreshed_token_refused_beside_a_send_it_went_with_is_a_failed_refresh(
    zalo: FakeZalo,
    sender: ZaloSender,
    tokens: TokenStore,
    engine: AsyncEngine,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two sends side by side post a just-refreshed token; Zalo takes one and refuses the
    other, and the success is handled first. The refusal still counts as the refreshed token
    refused too (it was posted before anything proved that token): the send waits, and the
    next refresh comes ``RETRY_AFTER`` later, not at once (the 50 refusals test's flake)."""
    await sender.send(USER, TextMessage("0"))
    clock.now = START + timedelta(hours=25)  # expired: the next send refreshes first
    zalo.fail_next(-216)
    succeeded = asyncio.Event()
    worked, refused = tokens.worked, tokens.refused

    def worked_then_tell(token: str) -> None:
        worked(token)
        succeeded.set()

    async def refused_after_the_success(token: str, code: int, **proof: Any) -> None:
        await succeeded.wait()
        await refused(token, code, **proof)

    monkeypatch.setattr(tokens, "worked", worked_then_tell)
    monkeypatch.setattr(tokens, "refused", refused_after_the_success)
    outcomes = await asyncio.gather(
        *(sender.send(USER, TextMessage(text)) for text in ("1", "2")), return_exceptions=True
    )
    assert len(zalo.refreshes) == 1
    refreshed = zalo.refreshes[0].access_token
    assert sorted((s.access_token, s.error) for s in zalo.sends[1:]) == [
        (refreshed, -216),
        (refreshed, 0),
    ]
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "Paused"]
    health = (await _health(engine))["zalo_token"]
    assert (health["status"], health["error"]) == ("refresh_failed", "-216")
    (waiting,) = (t for t, o in zip(("1", "2"), outcomes, strict=True) if o is not None)
    clock.now += RETRY_AFTER - timedelta(seconds=1)
    with pytest.raises(Paused):
        await sender.send(USER, TextMessage(waiting))
    clock.now += timedelta(seconds=1)
    await sender.send(USER, TextMessage(waiting))
    assert len(zalo.refreshes) == 2
    assert [s.access_token for s in zalo.sends].count(refreshed) == 2
    assert sorted(int(m.text) for m in zalo.messages(USER)) == [0, 1, 2]


async def test_a_refreshed_token_refused_before_its_refresh_returns_is_a_failed_refresh(
    zalo: FakeZalo,
    sender: ZaloSender,
    tokens: TokenStore,
    engine: AsyncEngine,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A send reads the pair a refresh has just stored, before that refresh returns, posts it
    and is refused. That is the refreshed token refused too: no second refresh at once, and
    the send that refreshed does not post the refused token after Zalo's answer (the 50
    refusals test's other flake)."""
    await sender.send(USER, TextMessage("0"))
    clock.now = START + timedelta(hours=25)  # expired: the next send refreshes first
    zalo.fail_next(-216)
    stored, refused_meanwhile = asyncio.Event(), asyncio.Event()
    write, refused = write_transaction, tokens.refused

    @contextlib.asynccontextmanager
    async def slow_to_return(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        async with write(engine) as conn:
            yield conn
        if zalo.refreshes and not stored.is_set():  # the new pair is committed
            stored.set()
            await refused_meanwhile.wait()

    async def refused_and_tell(token: str, code: int, **proof: Any) -> None:
        refused_meanwhile.set()
        await refused(token, code, **proof)

    async def beside() -> None:
        await stored.wait()
        await sender.send(USER, TextMessage("2"))

    monkeypatch.setattr(zalo_tokens, "write_transaction", slow_to_return)
    monkeypatch.setattr(tokens, "refused", refused_and_tell)
    outcomes = await asyncio.gather(
        sender.send(USER, TextMessage("1")), beside(), return_exceptions=True
    )
    assert len(zalo.refreshes) == 1
    refreshed = zalo.refreshes[0].access_token
    assert [(s.access_token, s.error) for s in zalo.sends[1:]] == [(refreshed, -216)]
    assert [type(o).__name__ for o in outcomes] == ["Paused", "Paused"]
    health = (await _health(engine))["zalo_token"]
    assert (health["status"], health["error"]) == ("refresh_failed", "-216")
    clock.now += RETRY_AFTER
    for text in ("1", "2"):
        await sender.send(USER, TextMessage(text))
    assert len(zalo.refreshes) == 2
    assert [s.access_token for s in zalo.sends].count(refreshed) == 1
    assert sorted(int(m.text) for m in zalo.messages(USER)) == [0, 1, 2]
