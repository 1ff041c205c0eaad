"""Digests go out once per period, catch up after downtime, and reminders respect the night."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations import Choice, Command, InboundEvent, default_catalog
from conversations.periods import Period, last_complete, parse_period
from conversations.workdays import load_calendar
from jobs.digests import DigestSettings, send_digest, send_due_digests
from jobs.reminders import remind_due
from storage import read_transaction
from storage.outbound import TextMessage
from storage.queries.outbox import pending
from storage.schema import digest_runs, outbox
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN = ("test", "admin-1")
DIGESTS = DigestSettings(
    agency="Sở Xây dựng",
    tz=TZ,
    calendar=load_calendar(),
    chats=(ADMIN,),
    kinds=("daily", "weekly"),
    at=time(7, 30),
)


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


async def _seed(engine: AsyncEngine) -> None:
    clock = SequentialClock(start=datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # Monday, 08:00 local
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    await complete_survey(dispatcher, "seed", random.Random(3))


async def _sent(engine: AsyncEngine) -> list[tuple[str, date]]:
    async with read_transaction(engine) as conn:
        rows = await conn.execute(select(digest_runs.c.kind, digest_runs.c.period_start))
        return sorted((r[0], r[1]) for r in rows)


async def _admin_messages(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        found = await conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.chat_id == ADMIN[1])
        )
        return int(found.scalar_one())


async def test_each_period_once_and_downtime_catch_up(engine: AsyncEngine) -> None:
    await _seed(engine)
    catalog = default_catalog()
    # Tuesday 3 Nov, 07:00: Monday's daily digest is not due until 07:30.
    assert await send_due_digests(engine, DIGESTS, catalog, local(2026, 11, 3, 7, 0)) == []
    sent = await send_due_digests(engine, DIGESTS, catalog, local(2026, 11, 3, 7, 31))
    assert sent == [("daily", Period(date(2026, 11, 2), date(2026, 11, 2)))]
    # Every minute after, and after a restart (a new call), nothing is sent twice.
    for minute in range(5):
        assert await send_due_digests(engine, DIGESTS, catalog, local(2026, 11, 3, 8, minute)) == []
    assert await _admin_messages(engine) == 1
    # Down from Tuesday 08:00 to Thursday 10:00: only the latest missed daily goes out.
    sent = await send_due_digests(engine, DIGESTS, catalog, local(2026, 11, 5, 10, 0))
    assert sent == [("daily", Period(date(2026, 11, 4), date(2026, 11, 4)))]
    # The next Monday: the weekly digest of 2–8 Nov, with its chart.
    sent = await send_due_digests(engine, DIGESTS, catalog, local(2026, 11, 9, 7, 45))
    assert ("weekly", Period(date(2026, 11, 2), date(2026, 11, 8))) in sent
    async with read_transaction(engine) as conn:
        queued = await pending(conn, "test", local(2026, 11, 9, 8), chat_id=ADMIN[1], limit=50)
    kinds = [r.message.kind for r in queued]
    assert kinds.count("image") == 1
    weekly = next(r.message for r in queued if "BẢN TIN TUẦN" in getattr(r.message, "text", ""))
    assert isinstance(weekly, TextMessage)
    assert "02/11–08/11/2026" in weekly.text
    assert len(await _sent(engine)) == 4  # daily 2, 4, 8 Nov, weekly 2 Nov


async def test_an_interim_digest_does_not_use_up_the_scheduled_one(engine: AsyncEngine) -> None:
    await _seed(engine)
    catalog = default_catalog()
    week = Period(date(2026, 11, 2), date(2026, 11, 8))
    # Wednesday: an operator sends this week's digest so far (``digest --send``), twice.
    for _ in range(2):
        assert await send_digest(
            engine, "weekly", week, DIGESTS, catalog, local(2026, 11, 4, 9), claim=False
        )
    assert await _sent(engine) == []
    sent = await send_due_digests(
        engine, DIGESTS, catalog, local(2026, 11, 9, 7, 45), kinds=("weekly",)
    )
    assert sent == [("weekly", week)]
    assert await _sent(engine) == [("weekly", date(2026, 11, 2))]


async def test_nothing_before_the_service_began(engine: AsyncEngine) -> None:
    assert await send_due_digests(engine, DIGESTS, default_catalog(), local(2026, 11, 3, 8)) == []
    await _seed(engine)
    sent = await send_due_digests(engine, DIGESTS, default_catalog(), local(2026, 11, 3, 8))
    assert [kind for kind, _ in sent] == ["daily"]  # last week ended before the first citizen


async def test_one_reminder_and_never_at_night(engine: AsyncEngine) -> None:
    # 20:00 local on a Monday: a citizen starts a survey and stops at the first question.
    clock = SequentialClock(start=datetime(2026, 11, 2, 13, 0, tzinfo=UTC))
    dispatcher = Dispatcher(
        engine,
        DispatchSettings(
            tz=TZ, survey_remind_after=timedelta(hours=2), survey_ttl=timedelta(days=7)
        ),
        clock=clock,
        new_id=SequentialIds(),
    )
    await complete_survey(dispatcher, "sleepy", random.Random(1), finish="leave")
    clock.advance(timedelta(hours=3))  # 23:00 local: due, but night
    assert await remind_due(dispatcher, TZ) == 0
    clock.advance(timedelta(hours=6))  # 05:00 local: still night
    assert await remind_due(dispatcher, TZ) == 0
    clock.advance(timedelta(hours=3))  # 08:00 local
    assert await remind_due(dispatcher, TZ) == 1
    clock.advance(timedelta(hours=5))
    assert await remind_due(dispatcher, TZ) == 0  # never a second one
    async with read_transaction(engine) as conn:
        queued = await pending(conn, "test", clock(), chat_id="sleepy", limit=100)
    assert [getattr(r.message, "key", "") for r in queued].count("survey.reminder") == 1
    # Answering after the reminder does not arm another one.
    await dispatcher.process([InboundEvent("late-1", "test", "sleepy", Command("trogiup"))])
    clock.advance(timedelta(days=1))
    assert await remind_due(dispatcher, TZ) == 0


def test_periods() -> None:
    today = date(2026, 11, 26)  # a Thursday
    assert last_complete("weekly", today) == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert last_complete("monthly", today) == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert last_complete("halfyear", today) == Period(date(2026, 1, 1), date(2026, 6, 30))
    assert last_complete("yearly", today) == Period(date(2025, 1, 1), date(2025, 12, 31))
    assert parse_period("", today) == Period(date(2026, 10, 28), today)
    assert parse_period("7d", today) == Period(date(2026, 11, 20), today)
    assert parse_period("quy", today) == Period(date(2026, 10, 1), today)
    assert parse_period("2026-01-01..2026-03-31", today) == Period(
        date(2026, 1, 1), date(2026, 3, 31)
    )
    assert parse_period("2026-03-31..2026-01-01", today) is None
    assert parse_period("hôm qua", today) is None


async def test_digest_in_each_admins_language(engine: AsyncEngine) -> None:
    await _seed(engine)
    clock = SequentialClock(start=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    await dispatcher.process([InboundEvent("en-1", "test", ADMIN[1], Choice("lang:en"))])
    settings = DigestSettings(
        agency="Department of Construction", tz=TZ, calendar=load_calendar(),
        chats=(ADMIN, ("test", "admin-2")), kinds=("daily",), at=time(7, 30),
    )  # fmt: skip
    await send_due_digests(engine, settings, default_catalog(), local(2026, 11, 3, 8, 0))
    async with read_transaction(engine) as conn:
        english = await pending(conn, "test", local(2026, 11, 3, 9), chat_id=ADMIN[1], limit=50)
        vietnamese = await pending(conn, "test", local(2026, 11, 3, 9), chat_id="admin-2")
    assert "DAILY DIGEST" in getattr(english[-1].message, "text", "")
    assert "BẢN TIN NGÀY" in getattr(vietnamese[-1].message, "text", "")


async def test_old_event_ids_are_forgotten(engine: AsyncEngine) -> None:
    from jobs.runner import JobsRunner
    from storage.schema import processed_events

    clock = SequentialClock(start=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    await dispatcher.process([InboundEvent("old", "test", "u", Command("start"))])
    clock.advance(timedelta(days=40))
    await dispatcher.process([InboundEvent("new", "test", "u", Command("start"))])
    runner = JobsRunner(engine, dispatcher, DIGESTS, default_catalog(), clock)
    assert await runner.prune() == 1
    async with read_transaction(engine) as conn:
        keys = (await conn.execute(select(processed_events.c.event_key))).scalars().all()
    assert keys == ["test:new"]


async def test_the_digest_counts_the_messages_that_could_not_be_processed(
    engine: AsyncEngine,
) -> None:
    from bot.runtime.failures import Failures
    from jobs.digests import digest_payloads

    await _seed(engine)
    monday = Period(date(2026, 11, 2), date(2026, 11, 2))
    catalog = default_catalog()
    quiet = await digest_payloads(engine, "daily", monday, DIGESTS, catalog, local(2026, 11, 3, 8))
    assert "không xử lý được" not in getattr(quiet[0], "text", "")
    times = iter([local(2026, 11, 1, 23, 59), local(2026, 11, 2, 9), local(2026, 11, 2, 23, 59)])
    failures = Failures(engine, catalog, "vi", lambda: next(times))
    for n in range(3):  # Sunday night, then twice on Monday
        await failures.record("telegram", str(n), TypeError(), chat_id=None, stage="parse")
    [text, *_] = await digest_payloads(
        engine, "daily", monday, DIGESTS, catalog, local(2026, 11, 3, 8)
    )
    assert "⚠ 2 tin không xử lý được" in getattr(text, "text", "")


async def test_a_moved_staff_group_is_said_in_the_next_digest_only(engine: AsyncEngine) -> None:
    from jobs.digests import send_digest
    from storage import write_transaction
    from storage.queries.rooms import move_room

    await _seed(engine)
    async with write_transaction(engine) as conn:
        await move_room(conn, "telegram", "-4001", "-1004001", local(2026, 11, 2, 9))
    catalog = default_catalog()
    texts = []
    for day in (2, 3):
        period = Period(date(2026, 11, day), date(2026, 11, day))
        assert await send_digest(engine, "daily", period, DIGESTS, catalog, local(2026, 11, 4, 8))
        async with read_transaction(engine) as conn:
            rows = await pending(conn, "test", local(2026, 11, 4, 9), limit=100)
        texts.append([r.message.text for r in rows if isinstance(r.message, TextMessage)][-1])
    assert "Nhóm -4001 trong ADMIN_CHAT_IDS" in texts[0]
    assert "-1004001" in texts[0]
    assert "-4001" not in texts[1]


async def test_the_digest_counts_zalo_notices_and_shows_a_refused_token_refresh(
    engine: AsyncEngine,
) -> None:
    from jobs.digests import digest_payloads
    from storage import write_transaction
    from storage.queries.zalo_chats import record_notices
    from storage.queries.zalo_tokens import RefreshError, save_tokens, token_failed

    monday = Period(date(2026, 11, 2), date(2026, 11, 2))
    catalog = default_catalog()
    async with write_transaction(engine) as conn:
        await record_notices(conn, ["resent", "template", "template"], local(2026, 11, 2, 10))
        await record_notices(conn, ["zns", "zns_quota", "zns_quota"], local(2026, 11, 2, 23))
        await record_notices(conn, ["tpl_refused"] * 3, local(2026, 11, 2, 11))
        await record_notices(conn, ["template"], local(2026, 11, 3, 10))  # the next day
        await save_tokens(conn, "a", "r", local(2026, 11, 3, 1), local(2026, 11, 2, 0))
        # Zalo's parts as sent, with no numeric code; the one-line summary is clipped.
        reason = "Refresh token expired: " + "x" * 150
        parts = RefreshError(None, "invalid_grant", reason)
        await token_failed(conn, local(2026, 11, 2, 15), "zalo invalid_grant: Refresh", parts)
    [text, *_] = await digest_payloads(
        engine, "daily", monday, DIGESTS, catalog, local(2026, 11, 3, 8)
    )
    shown = getattr(text, "text", "")
    assert "1 tin đã gửi lại khi người dân nhắn, 2 tin gửi bằng mẫu thông báo" in shown
    # A ZNS notice over the day's quota is held to the next day: the digest says how often.
    assert "2 lần thông báo ZNS vượt hạn mức gửi trong ngày" in shown
    # A refused template is said apart, with how often: the setting needs a look.
    assert "Zalo từ chối mẫu thông báo (ZALO_TEMPLATE_NOTICE) 3 lần" in shown
    assert f'lúc 02/11 15:00 (error_name "invalid_grant", error_reason "{reason}")' in shown


async def test_the_digest_counts_messages_given_up_with_why(engine: AsyncEngine) -> None:
    """A message that ends dead is lost to its reader: staff see how many, and why."""
    from sqlalchemy import insert

    from jobs.digests import digest_payloads
    from storage import write_transaction

    no_token = "PermanentSendError: no Zalo token: run python -m bot zalo set-token"
    rows = [
        ("zalo", no_token, local(2026, 11, 2, 9)),
        ("zalo", no_token, local(2026, 11, 2, 10)),
        ("zalo", no_token, local(2026, 11, 2, 11)),
        ("telegram", "chat blocked", local(2026, 11, 2, 12)),
        ("zalo", no_token, local(2026, 11, 1, 23)),  # Sunday: not this digest's
    ]
    async with write_transaction(engine) as conn:
        await conn.execute(
            insert(outbox),
            [
                {
                    "channel": ch,
                    "chat_id": "1",
                    "status": "dead",
                    "attempts": 1,
                    "created_at": at,
                    "last_error": why,
                }
                for ch, why, at in rows
            ],
        )
    monday = Period(date(2026, 11, 2), date(2026, 11, 2))
    [text, *_] = await digest_payloads(
        engine, "daily", monday, DIGESTS, default_catalog(), local(2026, 11, 3, 8)
    )
    shown = getattr(text, "text", "")
    assert "⚠ 4 tin nhắn đã bị bỏ, không gửi được nữa" in shown
    assert f"zalo: {no_token} ×3; telegram: chat blocked ×1" in shown


async def test_each_kind_is_looked_at_on_its_own_and_goes_as_bulk_at_its_time(
    engine: AsyncEngine,
) -> None:
    """A kind skipped (its period before the service began, or already sent) does not stop
    the kinds after it; a digest is due at its time to the second; it is queued as bulk, so
    answers to citizens go first (``grant_tokens``)."""
    await _seed(engine)  # the service began on Monday 2 Nov
    catalog = default_catalog()
    # Tuesday 3 Nov 07:30:00: the week before began before the service, Monday's daily is due.
    at = local(2026, 11, 3, 7, 30)
    sent = await send_due_digests(engine, DIGESTS, catalog, at, kinds=("weekly", "daily"))
    assert sent == [("daily", Period(date(2026, 11, 2), date(2026, 11, 2)))]
    # Monday 9 Nov: Sunday's daily went already (an interim run claimed it); the week goes.
    sunday = Period(date(2026, 11, 8), date(2026, 11, 8))
    assert await send_digest(engine, "daily", sunday, DIGESTS, catalog, local(2026, 11, 9, 7))
    sent = await send_due_digests(engine, DIGESTS, catalog, local(2026, 11, 9, 7, 30))
    assert sent == [("weekly", Period(date(2026, 11, 2), date(2026, 11, 8)))]
    async with read_transaction(engine) as conn:
        priorities = set(
            (
                await conn.execute(select(outbox.c.priority).where(outbox.c.chat_id == ADMIN[1]))
            ).scalars()
        )
    assert priorities == {1}


async def test_the_days_are_the_agencys_local_days(engine: AsyncEngine) -> None:
    """Which day is today, and on which day the service began, are local days (UTC+7): a
    first message at 00:30 local is on the local day, the UTC day before; a digest sent at
    06:00 local is the one of the local day before."""
    clock = SequentialClock(start=local(2026, 11, 2, 0, 30).astimezone(UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    await complete_survey(dispatcher, "seed", random.Random(3))
    catalog = default_catalog()
    early = dataclasses.replace(DIGESTS, at=time(6, 0), kinds=("daily",))
    # Monday 06:30 local: Sunday's digest would be due, but the service began on Monday.
    assert await send_due_digests(engine, early, catalog, local(2026, 11, 2, 6, 30)) == []
    # 06:30 local on Tuesday 3 Nov is 23:30 UTC on Monday: Monday's digest is the one due.
    sent = await send_due_digests(engine, early, catalog, local(2026, 11, 3, 6, 30))
    assert sent == [("daily", Period(date(2026, 11, 2), date(2026, 11, 2)))]
    assert await send_due_digests(engine, early, catalog, local(2026, 11, 3, 6, 31)) == []


async def test_a_refused_token_refresh_without_any_error_text_is_still_said(
    engine: AsyncEngine,
) -> None:
    from jobs.digests import digest_payloads
    from storage import write_transaction
    from storage.queries.zalo_tokens import save_tokens, token_failed

    await _seed(engine)
    async with write_transaction(engine) as conn:
        await save_tokens(conn, "a", "r", local(2026, 11, 3, 1), local(2026, 11, 2, 0))
        await token_failed(conn, local(2026, 11, 2, 15), "")  # no answer, no text
    monday = Period(date(2026, 11, 2), date(2026, 11, 2))
    [text, *_] = await digest_payloads(
        engine, "daily", monday, DIGESTS, default_catalog(), local(2026, 11, 3, 8)
    )
    assert "Làm mới token Zalo thất bại lúc 02/11 15:00 (?)" in getattr(text, "text", "")


async def test_before_its_time_the_period_before_goes_if_it_never_went(
    engine: AsyncEngine,
) -> None:
    """Down for a week and back on Monday 16 Nov at 07:00, before the digests' 07:30: the
    week of 9–15 Nov and Sunday's daily are not due yet, so the latest that are go out, each
    of its own kind: the week of 2–8 Nov and Saturday 14 Nov."""
    await _seed(engine)
    sent = await send_due_digests(engine, DIGESTS, default_catalog(), local(2026, 11, 16, 7, 0))
    assert sent == [
        ("daily", Period(date(2026, 11, 14), date(2026, 11, 14))),
        ("weekly", Period(date(2026, 11, 2), date(2026, 11, 8))),
    ]
