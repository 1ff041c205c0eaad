"""Complaint notices on Zalo beyond the 7-day window, through the real outbox sender and the
fake OA over HTTP with a controlled clock: a template message when the agency has one, else
held and re-sent when the citizen writes again, nothing lost or doubled across a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Literal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.zalo import ZaloSender
from bot.channels.zalo_texts import fixed
from bot.channels.zalo_tokens import TokenStore
from bot.channels.zalo_window import (
    Window,
    correction_key,
    filed_note_key,
    reach,
    standing,
    zns_filed_note_key,
)
from bot.runtime.facts import FactsCache
from bot.runtime.sender import OutboxSender
from conversations import default_catalog
from conversations.periods import Period
from conversations.workdays import load_calendar
from storage import WriteSet, flush, read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.outbox import counts_by_status
from storage.queries.zalo_chats import citizen_wrote, notices_between
from storage.queries.zalo_tokens import save_tokens
from tests.support.clock import SettableClock as Clock
from tests.support.db import Database, migrated
from tests.support.fake_zalo import FakeZalo, running

USER = "8756112331268738712"
FILED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
NOTICE = TextMessage(
    "Phản ánh PA-1234 đã được giải quyết.", (("rate:PA-1234:5", "5"),), "notice.resolved"
)
TEMPLATE = "358912"


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with running(TEMPLATE) as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock(FILED)


@pytest.fixture
def database(tmp_path: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'zalo.db'}")


@pytest.fixture
async def engine(zalo: FakeZalo, database: Database) -> AsyncIterator[AsyncEngine]:
    engine = await migrated(database)
    access, refresh = zalo.issue_tokens()
    async with write_transaction(engine) as conn:
        await save_tokens(conn, access, refresh, FILED + timedelta(days=400), FILED)
        await citizen_wrote(conn, USER, FILED)  # filing the complaint
    yield engine
    await engine.dispose()


async def _queue(engine: AsyncEngine, message: TextMessage, now: datetime) -> None:
    async with write_transaction(engine) as conn:
        ws = WriteSet()
        ws.enqueue("zalo", USER, message, now, bulk=True)
        await flush(conn, ws)


async def _drain(
    engine: AsyncEngine, zalo: FakeZalo, clock: Clock, template: str = "", billed: bool = True
) -> dict[str, int]:
    """One process's life: a sender built from nothing, one pass, its outbox counts."""
    async with httpx.AsyncClient(trust_env=False) as client:
        tokens = TokenStore(engine, client, zalo.oauth_url, zalo.app_id, zalo.app_secret, clock)
        window = Window(engine, clock, template, billed)
        channel = ZaloSender(
            client, zalo.base_url, tokens, fixed({"note": "Ghi chú"}), window, "note"
        )
        sender = OutboxSender(engine, channel, clock)
        await sender.drain_once()
    async with read_transaction(engine) as conn:
        return await counts_by_status(conn, "zalo")


async def _notices(engine: AsyncEngine) -> dict[str, int]:
    async with read_transaction(engine) as conn:
        return await notices_between(conn, FILED, FILED + timedelta(days=60))


async def test_ten_days_later_the_notice_goes_as_a_template(
    zalo: FakeZalo, engine: AsyncEngine, clock: Clock
) -> None:
    clock.now = FILED + timedelta(days=10)
    zalo.out_of_window(USER)
    await _queue(engine, NOTICE, clock.now)
    # Sent as a template, and held too: the template cannot carry the rating buttons.
    assert await _drain(engine, zalo, clock, TEMPLATE) == {"held": 1}
    [sent] = zalo.template_sends
    assert (sent.user_id, sent.template_id) == (USER, TEMPLATE)
    assert sent.data == {"content": NOTICE.text}
    assert zalo.messages(USER) == []
    assert [s.error for s in zalo.sends] == []  # the window was known: no refused message
    assert (await _notices(engine))["template"] == 1
    # The citizen writes: the notice comes again, first, with buttons they can press.
    zalo.user_text(USER, "Xin chào")
    async with write_transaction(engine) as conn:
        assert await citizen_wrote(conn, USER, clock.now) == 1
    assert await _drain(engine, zalo, clock, TEMPLATE) == {"sent": 1}
    [again] = zalo.messages(USER)
    assert [b[2] for b in again.buttons] == ["#c:rate:PA-1234:5"]
    assert len(zalo.template_sends) == 1


async def test_a_template_notice_without_buttons_is_not_held(
    zalo: FakeZalo, engine: AsyncEngine, clock: Clock
) -> None:
    clock.now = FILED + timedelta(days=10)
    zalo.out_of_window(USER)
    plain = TextMessage("Phản ánh PA-1234 đang được xử lý.", (), "notice.in_progress")
    await _queue(engine, plain, clock.now)
    assert await _drain(engine, zalo, clock, TEMPLATE) == {"sent": 1}
    assert len(zalo.template_sends) == 1


async def test_without_a_template_it_is_held_and_arrives_once_when_the_citizen_writes(
    zalo: FakeZalo, engine: AsyncEngine, database: Database, clock: Clock
) -> None:
    clock.now = FILED + timedelta(days=10)
    zalo.out_of_window(USER)
    await _queue(engine, NOTICE, clock.now)
    assert await _drain(engine, zalo, clock) == {"held": 1}
    assert zalo.sends == []
    # A restart: a new engine and a new sender; the held notice stays held.
    await engine.dispose()
    engine = database.open()
    clock.now += timedelta(days=2)
    assert await _drain(engine, zalo, clock) == {"held": 1}
    # The citizen writes (Zalo's window reopens): the notice goes first, once.
    zalo.user_text(USER, "Xin chào")
    async with write_transaction(engine) as conn:
        assert await citizen_wrote(conn, USER, clock.now) == 1
    await _queue(engine, TextMessage("Trả lời tin nhắn", (), "menu.idle"), clock.now)
    assert await _drain(engine, zalo, clock) == {"sent": 2}
    assert await _drain(engine, zalo, clock) == {"sent": 2}
    assert [m.text for m in zalo.messages(USER)] == [NOTICE.text, "Trả lời tin nhắn"]
    assert [b[2] for b in zalo.messages(USER)[0].buttons] == ["#c:rate:PA-1234:5"]
    assert await _notices(engine) == {"held": 1, "resent": 1, "template": 0}
    await engine.dispose()


@pytest.mark.parametrize(("billed", "outcome"), [(True, {"sent": 1}), (False, {"held": 1})])
async def test_the_billed_stretch_follows_the_agency_s_choice(
    zalo: FakeZalo, engine: AsyncEngine, clock: Clock, billed: bool, outcome: dict[str, int]
) -> None:
    clock.now = FILED + timedelta(days=3)  # billed: between 48 h and 7 days
    assert standing(FILED, clock.now) == "billed"
    await _queue(engine, NOTICE, clock.now)
    assert await _drain(engine, zalo, clock, billed=billed) == outcome
    assert len(zalo.messages(USER)) == (1 if billed else 0)


@pytest.mark.parametrize("code", [-230, -232, -227, -244])
async def test_zalo_s_own_refusal_falls_back_to_the_template(
    zalo: FakeZalo, engine: AsyncEngine, clock: Clock, code: int
) -> None:
    """Our record says the window is open, Zalo refuses (outside the window, or the citizen
    inactive for 45 days or restricted, ZALO.md): the template goes instead."""
    clock.now = FILED + timedelta(hours=1)
    zalo.out_of_window(USER, code)
    await _queue(engine, NOTICE, clock.now)
    assert await _drain(engine, zalo, clock, TEMPLATE) == {"held": 1}  # its buttons wait
    assert [s.error for s in zalo.sends] == [code]
    assert len(zalo.template_sends) == 1


@pytest.mark.parametrize("code", [-227, -244])
async def test_an_inactive_or_restricted_citizen_s_notice_is_held(
    zalo: FakeZalo, engine: AsyncEngine, clock: Clock, code: int
) -> None:
    """No template: the notice is held for when the citizen writes again, not dropped."""
    clock.now = FILED + timedelta(hours=1)
    zalo.out_of_window(USER, code)
    await _queue(engine, NOTICE, clock.now)
    assert await _drain(engine, zalo, clock) == {"held": 1}


async def test_a_zalo_citizen_is_told_how_they_will_hear_back(
    zalo: FakeZalo, engine: AsyncEngine, clock: Clock
) -> None:
    await _queue(engine, TextMessage("Đã tiếp nhận PA-1234", (), "complaint.filed"), clock.now)
    assert await _drain(engine, zalo, clock) == {"sent": 1}
    assert [m.text for m in zalo.messages(USER)] == ["Đã tiếp nhận PA-1234", "Ghi chú"]


@pytest.mark.parametrize(
    ("age", "where"),
    [
        (timedelta(hours=1), "free"),
        (timedelta(hours=48), "free"),
        (timedelta(hours=49), "billed"),
        (timedelta(days=7), "billed"),
        (timedelta(days=7, seconds=1), "closed"),
    ],
)
def test_standing(age: timedelta, where: str) -> None:
    assert standing(FILED, FILED + age) == where
    assert standing(None, FILED) == "unknown"


@pytest.mark.parametrize(
    ("age", "template", "send_billed", "expected"),
    [
        (None, "", True, "direct"),
        (timedelta(hours=47), "", False, "direct"),
        (timedelta(days=3), "", True, "direct"),
        (timedelta(days=3), "", False, "held"),
        (timedelta(days=3), "358912", False, "template"),
        (timedelta(days=8), "", True, "held"),
        (timedelta(days=8), "358912", True, "template"),
    ],
)
def test_where_a_notice_goes_is_what_staff_are_told(
    age: timedelta | None, template: str, send_billed: bool, expected: str
) -> None:
    now = datetime(2026, 3, 12, 2, 0, tzinfo=UTC)
    last = None if age is None else now - age
    assert reach(last, now, template, send_billed) == expected


@pytest.mark.parametrize(
    ("template", "send_billed", "says", "never"),
    [
        (False, True, "7 ngày", "48 giờ"),
        (True, True, "sau 7 ngày", "48 giờ"),
        (False, False, "48 giờ", "7 ngày"),
        (True, False, "sau 48 giờ", "7 ngày"),
    ],
)
def test_the_filing_note_names_the_stretch_the_setting_gives(
    template: bool, send_billed: bool, says: str, never: str
) -> None:
    note = default_catalog().text("vi", filed_note_key(template, send_billed))
    assert says in note
    assert never not in note


@pytest.mark.parametrize(
    ("lang", "send_billed", "says", "never"),
    [
        ("vi", True, "7 ngày", "48 giờ"),
        ("vi", False, "48 giờ", "7 ngày"),
        ("en", True, "7 days", "48 hours"),
        ("en", False, "48 hours", "7 days"),
    ],
)
def test_the_zns_filing_note_names_the_stretch_the_setting_gives(
    lang: str, send_billed: bool, says: str, never: str
) -> None:
    note = default_catalog().text(lang, zns_filed_note_key(send_billed))
    assert says in note
    assert never not in note


def test_the_digest_counts_notices_held_during_the_period_without_a_wrong_window() -> None:
    told = default_catalog().format(
        "vi", "digest.zalo_notices", (("held", 1), ("resent", 1), ("template", 0))
    )
    assert "1 tin đã giữ lại trong kỳ" in told
    assert "7 ngày" not in told  # with ZALO_SEND_BILLED off, 48 hours is the reason


@pytest.mark.parametrize(
    ("days", "send_billed", "template", "told"),
    [
        (3, False, "", "held48"),  # held by the agency's setting, not by Zalo's 7 days
        (3, False, "358912", "template48"),
        (3, True, "", "direct"),
        (10, False, "", "held"),
        (10, True, "358912", "template"),
    ],
)
def test_staff_are_told_the_real_reason_a_notice_is_held(
    days: int, send_billed: bool, template: str, told: str
) -> None:
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    cache = FactsCache(now, ZoneInfo("Asia/Ho_Chi_Minh"), zalo=(template, send_billed))
    cache.zalo_last["42"] = now - timedelta(days=days)
    row = SimpleNamespace(channel="zalo", external_id="42", zns_consent=False, phone=None)
    assert cache._reach(row) == told  # type: ignore[arg-type]
    key = {"held48": "zalo6.done_held_48h", "template48": "zalo6.done_template_48h"}.get(told)
    if key:
        assert "48 giờ" in default_catalog().text("vi", key)


@pytest.mark.parametrize(
    ("told", "went", "key"),
    [
        ("direct", "direct", None),
        ("direct", "held", "zalo7.fixed_held"),
        ("direct", "template", "zalo7.fixed_template"),
        ("direct", "zns", "zalo7.fixed_zns"),
        ("template", "held", "zalo7.fixed_held_template"),
        ("template48", "held", "zalo7.fixed_held_template"),
        ("template", "zns", None),  # a ZNS template is a template message as told
        ("template", "template", None),
        ("held", "held", None),
        ("held48", "direct", None),
    ],
)
def test_an_officer_is_corrected_only_when_the_notice_went_worse_than_told(
    told: str, went: Literal["direct", "template", "zns", "held"], key: str | None
) -> None:
    assert correction_key(told, went) == key


#: What the digest's sentence on each reason a notice is held says, by language.
HELD_SAYS = {
    "vi": {
        "window": "người nhận không nhắn OA trong 7 ngày qua",
        "billed": "nhắn OA đã quá 48 giờ",
        "refused": "bị hạn chế hoặc không hoạt động trên 45 ngày",
    },
    "en": {
        "window": "have not written to the OA in the last 7 days",
        "billed": "more than 48 hours ago",
        "refused": "restricted or inactive for over 45 days",
    },
}


@pytest.mark.parametrize(
    ("after", "billed", "code", "reason"),
    [
        (timedelta(days=10), True, None, "window"),  # our record: past Zalo's 7 days
        (timedelta(days=3), False, None, "billed"),  # D3: the agency's choice, not 7 days
        (timedelta(hours=1), True, -230, "window"),  # Zalo's own clock says closed
        (timedelta(hours=1), True, -227, "refused"),  # banned or inactive for 45 days
        (timedelta(hours=1), True, -244, "refused"),  # restricted
    ],
)
async def test_the_digest_gives_the_true_reason_a_notice_is_held(
    zalo: FakeZalo,
    engine: AsyncEngine,
    clock: Clock,
    after: timedelta,
    billed: bool,
    code: int | None,
    reason: str,
) -> None:
    from jobs.digests import DigestSettings, digest_reply

    clock.now = FILED + after
    if code is not None:
        zalo.out_of_window(USER, code)
    await _queue(engine, NOTICE, clock.now)
    assert await _drain(engine, zalo, clock, billed=billed) == {"held": 1}
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    day = clock.now.astimezone(tz).date()
    settings = DigestSettings("Sở Xây dựng", tz, load_calendar(), ())
    catalog = default_catalog()
    for language in ("vi", "en"):
        digest, *_ = await digest_reply(
            engine, "daily", Period(day, day), settings, clock.now, language
        )
        text = catalog.render(digest, language).text
        says = HELD_SAYS[language]
        assert "⚠ 1 " in text
        assert [k for k, said in says.items() if said in text] == [reason]
