"""Reports, digests, exports and public results asked for in chat, answered by the worker."""

from __future__ import annotations

import asyncio
import io
import random
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Command, InboundEvent, default_catalog
from conversations.periods import current
from conversations.workdays import load_calendar
from jobs.digests import DigestSettings
from jobs.requests import RequestWorker
from storage import read_transaction
from storage.outbound import DocumentMessage, ImageMessage, TextMessage
from storage.queries.outbox import pending
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DIGESTS = DigestSettings(
    agency="Sở Xây dựng", tz=TZ, calendar=load_calendar(), chats=(), at=time(7, 30)
)


async def _ask(dispatcher: Dispatcher, user: str, text: str, admin: bool) -> Handled:
    name, _, arg = text[1:].partition(" ")
    event = InboundEvent(f"{user}-{text}", "test", user, Command(name, arg), admin=admin)
    result = (await dispatcher.process([event]))[0]
    assert isinstance(result, Handled)
    return result


async def test_report_digest_export_and_results(engine: AsyncEngine) -> None:
    clock = SequentialClock(start=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(tz=TZ), clock=clock, new_id=SequentialIds())
    rng = random.Random(11)
    for n in range(12):
        await complete_survey(dispatcher, f"c{n}", rng)
    worker = RequestWorker(engine, DIGESTS, default_catalog(), clock)

    asked = await _ask(dispatcher, "boss", "/baocao 30d", admin=True)
    assert [m.key for m in asked.messages] == ["report.working"]
    bad = await _ask(dispatcher, "boss", "/baocao hôm qua", admin=True)
    assert [m.key for m in bad.messages] == ["report.input5_bad_period"]
    await _ask(dispatcher, "boss", "/bantin", admin=True)
    await _ask(dispatcher, "boss", "/xuatdulieu 02/11/2026..20/11/2026", admin=True)
    await _ask(dispatcher, "someone", "/ketqua", admin=False)
    refused = await _ask(dispatcher, "someone", "/xuatdulieu", admin=False)
    assert [m.key for m in refused.messages] == ["menu.welcome"]

    assert await worker.run_once() == 4
    assert await worker.run_once() == 0  # each request answered once
    async with read_transaction(engine) as conn:
        boss = await pending(conn, "test", clock(), chat_id="boss", limit=50)
        citizen = await pending(conn, "test", clock(), chat_id="someone", limit=50)
    answers = [
        r.message
        for r in boss
        if getattr(r.message, "key", "") not in ("report.working", "report.input5_bad_period")
    ]
    assert isinstance(answers[0], TextMessage)
    assert answers[0].key == "report.message"
    assert "Phiếu khảo sát: 12 hoàn thành" in answers[0].text
    assert isinstance(answers[1], TextMessage)
    assert answers[1].key == "digest.message"
    assert isinstance(answers[2], ImageMessage)
    assert answers[2].data.startswith(b"\x89PNG")
    assert isinstance(answers[3], DocumentMessage)
    workbook = load_workbook(io.BytesIO(answers[3].data))
    assert len(workbook.sheetnames) == 4
    assert "02/11/2026–20/11/2026" in answers[3].caption  # the period asked for
    public = [r.message for r in citizen if getattr(r.message, "key", "") == "results.message"]
    assert public
    assert isinstance(public[0], TextMessage)
    assert "Chỉ số hài lòng chung" in public[0].text


async def test_public_results_are_built_once_and_not_resent_on_every_tap(
    engine: AsyncEngine,
) -> None:
    """Twenty citizens ask for the results at once: one report and one chart are built. A
    chat that asks again within ten minutes is told to look above instead of a new chart."""
    clock = SequentialClock(start=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(tz=TZ), clock=clock, new_id=SequentialIds())
    rng = random.Random(5)
    for n in range(11):
        await complete_survey(dispatcher, f"c{n}", rng)
    worker = RequestWorker(engine, DIGESTS, default_catalog(), clock)
    results = await asyncio.gather(*(worker.public.get("vi") for _ in range(20)))
    assert worker.public.builds == 1
    assert all(r is results[0] for r in results)
    assert results[0].chart is not None

    await _ask(dispatcher, "tapper", "/ketqua", admin=False)
    await worker.run_once()
    await _ask(dispatcher, "tapper", "/results", admin=False)  # the English alias
    await worker.run_once()
    async with read_transaction(engine) as conn:
        got = await pending(conn, "test", clock(), chat_id="tapper", limit=50)
    kinds = [(r.message.kind, getattr(r.message, "key", "")) for r in got]
    assert kinds == [  # built already: no "one moment" before the answer
        ("text", "results.message"),
        ("image", ""),
        ("text", "results.recent"),
    ]
    assert worker.public.builds == 1


async def test_one_moment_is_said_only_when_the_results_must_be_built(
    engine: AsyncEngine,
) -> None:
    """The first /ketqua of the period waits for the chart and is told so first; a second
    one in the same period (another chat) gets the cached result without that line."""
    clock = SequentialClock(start=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(tz=TZ), clock=clock, new_id=SequentialIds())
    rng = random.Random(7)
    for n in range(11):
        await complete_survey(dispatcher, f"c{n}", rng)
    worker = RequestWorker(engine, DIGESTS, default_catalog(), clock)
    for chat in ("first", "second"):
        await _ask(dispatcher, chat, "/ketqua", admin=False)
        await worker.run_once()
    async with read_transaction(engine) as conn:
        first = await pending(conn, "test", clock(), chat_id="first", limit=50)
        second = await pending(conn, "test", clock(), chat_id="second", limit=50)
    kinds = [
        [(r.message.kind, getattr(r.message, "key", "")) for r in got] for got in (first, second)
    ]
    assert kinds == [
        [("text", "results.working"), ("text", "results.message"), ("image", "")],
        [("text", "results.message"), ("image", "")],
    ]
    assert worker.public.builds == 1


async def test_the_digest_on_demand_says_what_the_printed_one_says(engine: AsyncEngine) -> None:
    """``/bantin`` is the week's digest as ``python -m bot digest`` prints it (one rendering):
    its alerts too, such as an ADMIN_CHAT_IDS group that became a supergroup."""
    from jobs.digests import digest_reply
    from storage import write_transaction
    from storage.queries.rooms import move_room

    clock = SequentialClock(start=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(tz=TZ), clock=clock, new_id=SequentialIds())
    await complete_survey(dispatcher, "c1", random.Random(3))
    async with write_transaction(engine) as conn:
        await move_room(conn, "telegram", "-4001", "-1004001", clock())
    worker = RequestWorker(engine, DIGESTS, default_catalog(), clock)
    await _ask(dispatcher, "boss", "/bantin", admin=True)
    assert await worker.run_once() == 1
    async with read_transaction(engine) as conn:
        rows = await pending(conn, "test", clock(), chat_id="boss", limit=50)
    [text] = [
        r.message
        for r in rows
        if isinstance(r.message, TextMessage) and r.message.key.startswith("digest.")
    ]
    assert "Nhóm -4001 trong ADMIN_CHAT_IDS" in text.text
    assert "-1004001" in text.text
    period = current("weekly", clock().astimezone(TZ).date())
    printed, _, _ = await digest_reply(engine, "weekly", period, DIGESTS, clock(), "vi")
    assert text.text == default_catalog().render(printed, "vi").text
