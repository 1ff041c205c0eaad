"""Issue 10, anonymity: the ids the dispatcher keeps in ``processed_events`` (with the exact
time each event was handled) name no chat and no deadline, so counting a chat's events (its
survey's route) or dating its survey from them is impossible; and an event sent again is
still recognised. On SQLite and PostgreSQL; the ids themselves in ``jobs.event_keys``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.web import ChatPost, command_event, parse_post, upload_event
from bot.channels.zalo_events import parse_event
from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations import InboundEvent
from jobs.event_keys import process_event_id
from jobs.expiry import expire_due
from jobs.reminders import remind_due
from storage import read_transaction
from storage.schema import processed_events
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEB_CHAT = "w" + "5a" * 20
ZALO_USER = "8765432109876543210"
SURVEY_CHAT = "5550123"


def _web_post() -> InboundEvent | None:
    return parse_post(ChatPost(id="abcdefgh01", text="/start"), WEB_CHAT, None)


def _web_upload() -> InboundEvent | None:
    return upload_event(WEB_CHAT, "abcdefgh02", "tok", "a.pdf", "application/pdf", 10)


def _web_command() -> InboundEvent | None:
    return command_event(WEB_CHAT, "abcdefgh03", "huy")


def _zalo_follow() -> InboundEvent | None:
    event = {"event_name": "follow", "follower": {"id": ZALO_USER}, "timestamp": "1767225600000"}
    return parse_event(event, "oa-1")


@pytest.mark.parametrize(
    ("make", "chat", "stamp"),
    [
        (_web_post, WEB_CHAT, None),
        (_web_upload, WEB_CHAT, None),
        (_web_command, WEB_CHAT, None),
        (_zalo_follow, ZALO_USER, "1767225600000"),
    ],
    ids=["web-post", "web-upload", "web-command", "zalo-follow"],
)
def test_an_event_id_made_from_a_chat_names_it_not_and_is_the_same_when_sent_again(
    make: object, chat: str, stamp: str | None
) -> None:
    assert callable(make)
    first, again = make(), make()
    assert first is not None
    assert again is not None
    assert first.external_id == chat
    assert first.event_id == again.event_id  # sent again: recognised
    for part in (chat, chat[:12], chat[-12:], stamp):
        assert part is None or part not in first.event_id, first.event_id


def test_a_web_post_id_differs_between_visitors_and_posts() -> None:
    mine = parse_post(ChatPost(id="abcdefgh01", text="x"), WEB_CHAT, None)
    theirs = parse_post(ChatPost(id="abcdefgh01", text="x"), "w" + "6b" * 20, None)
    next_one = parse_post(ChatPost(id="abcdefgh02", text="x"), WEB_CHAT, None)
    assert mine is not None
    assert theirs is not None
    assert next_one is not None
    assert len({mine.event_id, theirs.event_id, next_one.event_id}) == 3


async def _keys(engine: AsyncEngine) -> list[str]:
    async with read_transaction(engine) as conn:
        return list((await conn.execute(select(processed_events.c.event_key))).scalars())


async def test_an_expiry_and_a_reminder_leave_no_chat_and_no_deadline(engine: AsyncEngine) -> None:
    # 08:00 local on a Monday: a citizen starts a survey and stops at the first question.
    clock = SequentialClock(start=datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    settings = DispatchSettings(
        tz=TZ, survey_remind_after=timedelta(hours=2), survey_ttl=timedelta(days=1)
    )
    dispatcher = Dispatcher(engine, settings, clock=clock, new_id=SequentialIds())
    await complete_survey(dispatcher, SURVEY_CHAT, random.Random(3), finish="leave")
    before = set(await _keys(engine))
    clock.advance(timedelta(hours=3))
    assert await remind_due(dispatcher, TZ) == 1
    clock.advance(timedelta(days=2))
    assert await expire_due(dispatcher) == 1
    assert await expire_due(dispatcher) == 0  # run again: closes nothing twice
    made = sorted(set(await _keys(engine)) - before)
    await dispatcher.close()
    assert [key.split(":")[1] for key in made] == ["expire", "remind"]
    for key in made:
        assert SURVEY_CHAT not in key, key
        # The deadline, however written (2026-11-03T..., 20261103T...): a hex hash has no
        # "-" and holds these seven digits once in ten million.
        assert "2026-" not in key, key
        assert "2026110" not in key, key


def test_a_job_event_is_recognised_within_the_process() -> None:
    deadline = datetime(2026, 11, 3, 1, 7, 12, tzinfo=UTC).isoformat()
    first = process_event_id("expire", "telegram", SURVEY_CHAT, deadline)
    assert first == process_event_id("expire", "telegram", SURVEY_CHAT, deadline)
    assert first != process_event_id("expire", "telegram", SURVEY_CHAT + "1", deadline)
