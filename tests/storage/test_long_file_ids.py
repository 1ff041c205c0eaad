"""A channel file reference of any length never fails the message in the database (Zalo file
URLs passed ``String(256)``, which PostgreSQL enforces and SQLite does not): up to
``MAX_FILE_ID_CHARS`` it is kept, beyond it the file is refused politely, and the complaint
is filed either way."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Attachment, Choice, Command, Inbound, InboundEvent, Text
from conversations.limits import MAX_FILE_ID_CHARS
from storage import read_transaction
from storage.schema import complaint_files, complaints
from tests.support.clock import SequentialClock, SequentialIds

SIGNED = "https://f20.zdn.vn/8412/a7c1d0e5f3.jpg?sig="


def _url(length: int) -> str:
    return SIGNED + "x" * (length - len(SIGNED))


async def _send(dispatcher: Dispatcher, user: str, payloads: list[Inbound]) -> list[str]:
    keys: list[str] = []
    for n, payload in enumerate(payloads):
        event = InboundEvent(f"{user}-{n}", "zalo", user, payload)
        [handled] = await dispatcher.process([event])
        assert isinstance(handled, Handled), handled
        keys += [m.key or "" for m in handled.messages]
    return keys


@pytest.mark.parametrize(
    ("length", "kept"),
    [(257, True), (900, True), (MAX_FILE_ID_CHARS, True), (MAX_FILE_ID_CHARS + 1, False),
     (20_000, False)],
)  # fmt: skip
async def test_a_long_zalo_file_url_is_kept_or_refused_and_the_complaint_filed(
    engine: AsyncEngine, clock: SequentialClock, length: int, kept: bool
) -> None:
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    said = await _send(
        dispatcher,
        "zalo-user",
        [
            Command("phananh"),
            Choice("c.cat:capphep"),
            Text("Công trình không phép lấn chiếm lối đi chung của ngõ"),
            Attachment("photo", 0, _url(length), "", "image/jpeg"),
            Choice("c.files:done"),
            Choice("c.who:anon"),
            Choice("c.addr:skip"),
            Choice("c.confirm:send"),
        ],
    )
    await dispatcher.close()
    assert ("complaint.file_type" in said) is not kept
    async with read_transaction(engine) as conn:
        filed = (await conn.execute(select(complaints.c.code))).scalars().all()
        stored = (await conn.execute(select(complaint_files.c.channel_file_id))).scalars().all()
    assert len(filed) == 1
    assert stored == ([_url(length)] if kept else [])


@pytest.mark.parametrize(
    ("attachment", "row"),
    [
        (
            Attachment("document", 48_213, "tg-doc-1", "don-de-nghi.pdf", "application/pdf"),
            ("document", 48_213, "tg-doc-1", "don-de-nghi.pdf", "application/pdf", None),
        ),
        (
            Attachment("photo", 9_001, "tg-photo-7", "", "image/jpeg", caption="Ảnh hiện trường"),
            ("photo", 9_001, "tg-photo-7", None, "image/jpeg", "Ảnh hiện trường"),
        ),
    ],
    ids=["named-document", "photo-with-caption"],
)
async def test_a_filed_file_keeps_its_media_size_reference_name_and_type(
    engine: AsyncEngine, clock: SequentialClock, attachment: Attachment, row: tuple[object, ...]
) -> None:
    """What the recorder writes for each file of a complaint: staff's ``/hoso`` shows the name,
    the type and the caption sent with it, and the download job fetches by the reference
    (issue 17: nothing pinned the name, the type and the caption)."""
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    await _send(
        dispatcher,
        "tg-user",
        [
            Command("phananh"),
            Choice("c.cat:capphep"),
            Text("Công trình không phép lấn chiếm lối đi chung của ngõ"),
            attachment,
            Choice("c.files:done"),
            Choice("c.who:anon"),
            Choice("c.addr:skip"),
            Choice("c.confirm:send"),
        ],
    )
    await dispatcher.close()
    columns = (
        complaint_files.c.media,
        complaint_files.c.size,
        complaint_files.c.channel_file_id,
        complaint_files.c.file_name,
        complaint_files.c.mime,
        complaint_files.c.note,
    )
    async with read_transaction(engine) as conn:
        stored = [tuple(r) for r in (await conn.execute(select(*columns))).all()]
    assert stored == [row]
