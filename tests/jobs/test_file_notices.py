"""A file with no declared size is measured while it downloads; one found too big (or not
a kind we keep) is given up and the citizen who sent it is told, never left in silence."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import (
    Attachment,
    Choice,
    Command,
    Inbound,
    InboundEvent,
    Text,
    default_catalog,
)
from jobs.attachments import FileTooLarge, store_pending_files
from jobs.file_notices import FileNotices
from storage import read_transaction
from storage.queries.outbox import pending
from storage.schema import complaint_files
from tests.support.clock import SequentialClock, SequentialIds

URL = "https://f20.zdn.vn/2214/hop-dong.pdf"
PE = b"MZ\x90\x00\x03" + b"\x00" * 200  # a Windows program, named as a PDF


class Download:
    """What the channel gives for a URL: bytes, or the streaming download's refusal."""

    def __init__(self, outcome: bytes | type[Exception]) -> None:
        self.outcome = outcome

    async def __call__(self, file_id: str) -> bytes:
        assert file_id == URL
        if isinstance(self.outcome, bytes):
            return self.outcome
        raise self.outcome


async def _file_a_complaint(engine: AsyncEngine, clock: SequentialClock, language: str) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    payloads: list[Inbound] = [
        Choice(f"lang:{language}"),
        Command("phananh"),
        Choice("c.cat:capphep"),
        Text("Công trình không phép lấn chiếm lối đi chung của ngõ"),
        Attachment("document", 0, URL, "hop-dong.pdf", "application/pdf"),  # size unknown
        Choice("c.files:done"),
        Choice("c.who:anon"),
        Choice("c.addr:skip"),
        Choice("c.confirm:send"),
    ]
    for n, payload in enumerate(payloads):
        [done] = await dispatcher.process([InboundEvent(f"e{n}", "zalo", "citizen", payload)])
        assert isinstance(done, Handled)
    await dispatcher.close()


@pytest.mark.parametrize(
    ("outcome", "language", "key", "words"),
    [
        (FileTooLarge, "vi", "harden.file_refused.too_large", "lớn hơn 10 MB"),
        (b"%PDF" + b"x" * (20 * 1024 * 1024), "vi", "harden.file_refused.too_large", "10 MB"),
        (FileTooLarge, "en", "harden.file_refused.too_large", "larger than 10 MB"),
        (PE, "vi", "harden.file_refused.type", "không phải ảnh, PDF hay Word"),
    ],
    ids=["refused-while-streaming", "20MB-returned", "english", "a-program"],
)
async def test_a_file_given_up_is_told_to_its_sender(
    engine: AsyncEngine,
    clock: SequentialClock,
    outcome: bytes | type[Exception],
    language: str,
    key: str,
    words: str,
) -> None:
    await _file_a_complaint(engine, clock, language)
    async with read_transaction(engine) as conn:
        before = await pending(conn, "zalo", clock(), chat_id="citizen", limit=100)
    report = await store_pending_files(
        engine,
        "zalo",
        Download(outcome),
        clock,
        tell=FileNotices(default_catalog()).tell,
    )
    assert (report.stored, report.failed) == (0, 1)
    async with read_transaction(engine) as conn:
        status = (await conn.execute(select(complaint_files.c.status))).scalar_one()
        after = await pending(conn, "zalo", clock(), chat_id="citizen", limit=100)
    assert status == "failed"
    told = after[len(before) :]
    assert [getattr(m.message, "key", None) for m in told] == [key]
    text = getattr(told[0].message, "text", "")
    assert words in text
    assert "PA-" in text


async def test_a_stored_file_says_nothing(engine: AsyncEngine, clock: SequentialClock) -> None:
    await _file_a_complaint(engine, clock, "vi")
    async with read_transaction(engine) as conn:
        before = len(await pending(conn, "zalo", clock(), chat_id="citizen", limit=100))
    pdf = b"%PDF-1.4\n" + b"0" * 1000
    tell = FileNotices(default_catalog()).tell
    report = await store_pending_files(engine, "zalo", Download(pdf), clock, tell=tell)
    assert report.stored == 1
    async with read_transaction(engine) as conn:
        assert len(await pending(conn, "zalo", clock(), chat_id="citizen", limit=100)) == before
