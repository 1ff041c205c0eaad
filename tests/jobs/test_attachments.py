"""The attachments job on a real database: scripted downloads, then the real Telegram client.

The scripted tests pin the bookkeeping (stored, retried, given up, too large, rate limited,
one file's failure not stopping the others). The last tests run ``TelegramFiles`` against the
fake Bot API over HTTP: what a citizen uploads is what the database keeps and staff receive.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from telegram import Bot

import jobs.attachments
from bot.channels.telegram_files import TelegramFiles
from bot.errors import (
    ChatBlocked,
    PermanentSendError,
    RateLimited,
    TransientSendError,
)
from jobs.attachments import StoreReport, attachments_loop, store_pending_files
from storage import read_transaction, write_transaction
from storage.queries.complaint_files import StoredFile, store_file, stored_file
from storage.schema import complaint_files, complaints
from tests.support.clock import SequentialClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.rows import complaint_row

NOW = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
TOKEN = "123456:TEST-token_x"
CITIZEN = 777
ADMIN = 4242

Step = bytes | type[Exception] | Exception


class ScriptedDownload:
    """``plan[file_id]`` lists what each call gives; the last step repeats for ever.

    A step is the bytes, an exception class (raised with a fixed message) or an instance.
    """

    def __init__(self, plan: dict[str, list[Step]], delay: float = 0.0) -> None:
        self.plan = {key: list(steps) for key, steps in plan.items()}
        self.delay = delay
        self.calls: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, file_id: str) -> bytes:
        self.calls.append(file_id)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        steps = self.plan[file_id]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if isinstance(step, bytes):
            return step
        if isinstance(step, Exception):
            raise step
        raise step("scripted failure")


async def add_complaint(conn: AsyncConnection) -> int:
    result = await conn.execute(
        insert(complaints).values(
            complaint_row(
                "PA-2026-0042",
                NOW,
                category="trat_tu_xay_dung",
                description="Đổ phế thải xây dựng trái phép",
                due_on=date(2026, 3, 20),
            )
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


async def seed(
    engine: AsyncEngine, files: list[dict[str, Any]], channel: str = "telegram"
) -> list[int]:
    """A complaint and its pending files (each dict overrides the defaults); their ids."""
    ids: list[int] = []
    async with write_transaction(engine) as conn:
        complaint = await add_complaint(conn)
        for spec in files:
            values: dict[str, Any] = {
                "complaint_id": complaint,
                "media": "photo",
                "file_name": None,
                "mime": "image/jpeg",
                "size": 100,
                "channel": channel,
                "status": "pending",
                "created_at": NOW,
                "attempts": 0,
                **spec,
            }
            result = await conn.execute(insert(complaint_files).values(**values))
            assert result.inserted_primary_key is not None
            ids.append(int(result.inserted_primary_key[0]))
    return ids


async def rows(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    """Every file row by its channel file id (the test's handle on each file)."""
    async with read_transaction(engine) as conn:
        found = await conn.execute(select(complaint_files).order_by(complaint_files.c.id))
        return {str(r.channel_file_id): dict(r._mapping) for r in found}


def jpeg(tag: bytes) -> bytes:
    """Bytes that are a JPEG by their magic number, told apart by ``tag``."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + tag


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_stores_retries_and_gives_up(
    engine: AsyncEngine, clock: SequentialClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jobs.attachments")
    ok = jpeg(b"jpeg" * 10)
    sneaky = b"\x00" * 2000  # the channel reported 0 bytes: only the download tells
    ids = await seed(
        engine,
        [
            {"channel_file_id": "ok"},
            {"channel_file_id": "flaky"},
            {"channel_file_id": "gone", "media": "document", "file_name": "a.pdf"},
            {"channel_file_id": "big", "size": 5000},
            {"channel_file_id": "sneaky", "size": 0},
        ],
    )
    download = ScriptedDownload(
        {
            "ok": [ok],
            "flaky": [TransientSendError, jpeg(b"flaky")],
            "gone": [PermanentSendError("Bad Request: invalid file_id")],
            "sneaky": [sneaky],
        }
    )

    async def run() -> StoreReport:
        return await store_pending_files(
            engine, "telegram", download, clock, max_bytes=1000, max_attempts=3
        )

    assert await run() == StoreReport(stored=1, failed=2, retried=2)
    assert await run() == StoreReport(stored=1, retried=1)
    assert await run() == StoreReport(failed=1)  # "gone" spent its third attempt
    assert await run() == StoreReport()  # nothing left to do

    by_id = await rows(engine)
    assert {key: (r["status"], r["attempts"]) for key, r in by_id.items()} == {
        "ok": ("stored", 0),
        "flaky": ("stored", 1),
        "gone": ("failed", 3),
        "big": ("failed", 1),
        "sneaky": ("failed", 1),
    }
    assert by_id["ok"]["data"] == ok
    assert by_id["ok"]["sha256"] == sha(ok)
    assert by_id["ok"]["size"] == len(ok)
    assert by_id["flaky"]["data"] == jpeg(b"flaky")
    assert by_id["flaky"]["stored_at"] is not None
    assert by_id["sneaky"]["data"] is None  # refused, not kept
    assert "big" not in download.calls  # its reported size was enough to refuse it
    assert download.calls.count("gone") == 3
    messages = [r.getMessage() for r in caplog.records]
    assert f"job=attachments file={ids[3]} error=too_large" in messages
    assert f"job=attachments file={ids[4]} error=too_large" in messages
    assert not any("a.pdf" in m or "invalid file_id" in m for m in messages)


async def test_only_the_channels_files_are_fetched(
    engine: AsyncEngine, clock: SequentialClock
) -> None:
    await seed(engine, [{"channel_file_id": "zalo-1"}], channel="zalo")
    download = ScriptedDownload({})
    assert await store_pending_files(engine, "telegram", download, clock) == StoreReport()
    assert download.calls == []


async def test_a_file_without_a_channel_id_is_given_up(
    engine: AsyncEngine, clock: SequentialClock
) -> None:
    await seed(engine, [{"channel_file_id": None}])
    download = ScriptedDownload({})
    assert await store_pending_files(engine, "telegram", download, clock) == StoreReport(failed=1)
    assert download.calls == []


async def test_downloads_run_four_at_a_time(engine: AsyncEngine, clock: SequentialClock) -> None:
    names = [f"f{i}" for i in range(7)]
    await seed(engine, [{"channel_file_id": name} for name in names])
    download = ScriptedDownload({name: [jpeg(name.encode())] for name in names}, delay=0.02)

    report = await store_pending_files(engine, "telegram", download, clock)

    assert report == StoreReport(stored=7)
    assert download.most_in_flight == 4
    stored = await rows(engine)
    assert {key: r["data"] for key, r in stored.items()} == {n: jpeg(n.encode()) for n in names}


async def test_a_failing_file_never_stops_the_others(
    engine: AsyncEngine, clock: SequentialClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await seed(
        engine,
        [{"channel_file_id": "bug"}, {"channel_file_id": "db"}, {"channel_file_id": "fine"}],
    )
    # A bug in the download function, and a database error while storing one file.
    download = ScriptedDownload(
        {"bug": [ZeroDivisionError], "db": [jpeg(b"db")], "fine": [jpeg(b"fine")]}
    )
    real_store = store_file

    async def store_or_fail(conn: AsyncConnection, file_id: int, *args: Any, **kwargs: Any) -> None:
        if file_id == ids[1]:
            raise OSError("disk full")
        await real_store(conn, file_id, *args, **kwargs)

    monkeypatch.setattr(jobs.attachments, "store_file", store_or_fail)

    report = await store_pending_files(engine, "telegram", download, clock)

    assert report == StoreReport(stored=1, retried=2)
    found = await rows(engine)
    assert (found["bug"]["status"], found["bug"]["attempts"]) == ("pending", 1)
    # Not stored and no attempt counted: the next run simply tries it again.
    assert (found["db"]["status"], found["db"]["attempts"]) == ("pending", 0)
    assert (found["fine"]["status"], found["fine"]["data"]) == ("stored", jpeg(b"fine"))


async def test_rate_limit_pauses_the_run_without_spending_attempts(
    engine: AsyncEngine, clock: SequentialClock
) -> None:
    await seed(engine, [{"channel_file_id": "a"}, {"channel_file_id": "b"}])
    download = ScriptedDownload({"a": [RateLimited(3.0), jpeg(b"a")], "b": [jpeg(b"b")]})

    first = await store_pending_files(engine, "telegram", download, clock, concurrency=1)
    assert first == StoreReport(retried=1, retry_after=3.0)
    assert download.calls == ["a"]  # "b" waits for the next run instead of meeting a 429
    assert {k: r["attempts"] for k, r in (await rows(engine)).items()} == {"a": 0, "b": 0}

    second = await store_pending_files(engine, "telegram", download, clock, concurrency=1)
    assert second == StoreReport(stored=2)


# ------------------------------------------------------------------------------ the loop


async def test_loop_stores_files_until_stopped(engine: AsyncEngine, clock: SequentialClock) -> None:
    await seed(engine, [{"channel_file_id": "a"}])
    download = ScriptedDownload({"a": [jpeg(b"a")]})
    stop = asyncio.Event()
    task = asyncio.create_task(
        attachments_loop(engine, "telegram", download, clock, stop, every_s=0.01)
    )
    deadline = time.monotonic() + 5
    while (await rows(engine))["a"]["status"] != "stored":
        assert time.monotonic() < deadline, "the loop never stored the file"
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_loop_logs_a_failed_run_and_goes_on(
    engine: AsyncEngine,
    clock: SequentialClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    runs = 0

    async def flaky_run(*args: Any, **kwargs: Any) -> StoreReport:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise ConnectionError("database went away")
        stop.set()
        return StoreReport()

    monkeypatch.setattr(jobs.attachments, "store_pending_files", flaky_run)
    download = ScriptedDownload({})
    await asyncio.wait_for(
        attachments_loop(engine, "telegram", download, clock, stop, every_s=0.01), 2
    )
    assert runs == 2
    assert "job=attachments channel=telegram error=run_failed" in [
        r.getMessage() for r in caplog.records
    ]


async def test_loop_lets_cancellation_through(
    engine: AsyncEngine, clock: SequentialClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def hang(*args: Any, **kwargs: Any) -> StoreReport:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(jobs.attachments, "store_pending_files", hang)
    task = asyncio.create_task(
        attachments_loop(engine, "telegram", ScriptedDownload({}), clock, asyncio.Event())
    )
    await asyncio.wait_for(started.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_loop_backs_off_while_every_download_fails_and_hurries_through_full_batches(
    engine: AsyncEngine, clock: SequentialClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = asyncio.Event()
    script = [
        StoreReport(retried=3),  # waits 0.02 s
        StoreReport(retried=3),  # waits 0.04 s
        StoreReport(retried=3),  # waits 0.08 s
        StoreReport(stored=20),  # a full batch: the next starts at once
        StoreReport(stored=20),
    ]
    times: list[float] = []

    async def scripted_run(*args: Any, **kwargs: Any) -> StoreReport:
        times.append(time.monotonic())
        if len(times) == len(script):
            stop.set()
        return script[len(times) - 1]

    monkeypatch.setattr(jobs.attachments, "store_pending_files", scripted_run)
    await asyncio.wait_for(
        attachments_loop(engine, "telegram", ScriptedDownload({}), clock, stop, every_s=0.01), 5
    )
    assert len(times) == len(script)
    assert times[3] - times[0] >= 0.02 + 0.04 + 0.08


# ---------------------------------------------------------------- real client, fake Bot API


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    # PTB 22 warns when RetryAfter.retry_after is read as an int; the project opts in to
    # timedelta (filterwarnings=error would turn the warning into a failure).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token=TOKEN, username="sipas_test_bot") as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


async def test_citizens_files_are_stored_and_sent_to_staff(
    engine: AsyncEngine, clock: SequentialClock, fake: FakeTelegram, bot: Bot
) -> None:
    rng = random.Random(11)
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(60_000) + b"\xff\xd9"
    pdf = b"%PDF-1.7\n\x00\x01" + rng.randbytes(150_000) + b"\n%%EOF\n"
    photo_update = fake.user_sends_photo(CITIZEN, data=photo, caption="ảnh hiện trường")
    pdf_update = fake.user_sends_document(
        CITIZEN, data=pdf, file_name="đơn phản ánh.pdf", mime_type="application/pdf"
    )
    # What the dialogue would have recorded from the citizen's two messages.
    sent_photo = fake.update(photo_update).payload["message"]["photo"][-1]
    sent_pdf = fake.update(pdf_update).payload["message"]["document"]
    photo_id, pdf_id = await seed(
        engine,
        [
            {
                "channel_file_id": sent_photo["file_id"],
                "size": sent_photo["file_size"],
            },
            {
                "channel_file_id": sent_pdf["file_id"],
                "media": "document",
                "file_name": sent_pdf["file_name"],
                "mime": sent_pdf["mime_type"],
                "size": sent_pdf["file_size"],
            },
        ],
    )
    files = TelegramFiles(bot)

    report = await store_pending_files(engine, "telegram", files.download, clock)

    assert report == StoreReport(stored=2)
    found = await rows(engine)
    assert found[sent_photo["file_id"]]["sha256"] == sha(photo)
    assert found[sent_pdf["file_id"]]["sha256"] == sha(pdf)
    async with read_transaction(engine) as conn:
        kept_photo = await stored_file(conn, photo_id)
        kept_pdf = await stored_file(conn, pdf_id)
    assert kept_photo is not None
    assert kept_pdf is not None
    assert kept_photo.data == photo
    assert kept_pdf.data == pdf

    await files.send_stored(str(ADMIN), kept_pdf, caption="PA-2026-0042 · tệp 2/2")
    sent = fake.messages(ADMIN)[-1]
    assert sent.method == "sendDocument"
    assert sent.file_data == pdf
    assert sent.caption == "PA-2026-0042 · tệp 2/2"
    assert sent.document is not None
    assert sent.document["file_name"] == "đơn phản ánh.pdf"

    await files.send_stored(str(ADMIN), kept_photo, caption="PA-2026-0042 · tệp 1/2")
    sent = fake.messages(ADMIN)[-1]
    assert sent.method == "sendPhoto"
    assert sent.file_data == photo
    assert sent.caption == "PA-2026-0042 · tệp 1/2"


async def test_download_errors_become_channel_errors(fake: FakeTelegram, bot: Bot) -> None:
    files = TelegramFiles(bot)
    with pytest.raises(PermanentSendError):
        await files.download("no-such-file")
    file_id = fake.update(fake.user_sends_document(CITIZEN, data=b"%PDF"))
    real_id = file_id.payload["message"]["document"]["file_id"]
    fake.fail_next("getFile", status=502)
    with pytest.raises(TransientSendError):
        await files.download(real_id)
    fake.fail_next("getFile", status=429, retry_after=3)
    with pytest.raises(RateLimited) as limited:
        await files.download(real_id)
    assert limited.value.retry_after == 3.0
    fake.fail_next("getFile", status=400, description="Bad Request: file is too big")
    with pytest.raises(PermanentSendError):
        await files.download(real_id)
    assert await files.download(real_id) == b"%PDF"


def stored(media: str, data: bytes = b"\x89PNG\r\n\x1a\n\x00") -> StoredFile:
    return StoredFile(7, 1, media, None, "image/png" if media == "photo" else None, 9, data)


async def test_a_photo_telegram_refuses_goes_as_a_document(fake: FakeTelegram, bot: Bot) -> None:
    files = TelegramFiles(bot)
    fake.fail_next("sendPhoto", status=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS")

    await files.send_stored(str(ADMIN), stored("photo"), caption="x" * 2000)

    sent = fake.messages(ADMIN)[-1]
    assert sent.method == "sendDocument"
    assert sent.file_data == b"\x89PNG\r\n\x1a\n\x00"
    assert sent.caption == "x" * 1024  # Telegram's caption limit
    assert sent.document is not None
    assert sent.document["file_name"] == "photo-7.png"


async def test_send_errors_become_channel_errors(fake: FakeTelegram, bot: Bot) -> None:
    files = TelegramFiles(bot)
    fake.fail_next("sendPhoto", status=400, description="Bad Request: chat not found")
    with pytest.raises(PermanentSendError):
        await files.send_stored(str(ADMIN), stored("photo"), None)
    assert fake.calls_to("sendDocument") == []  # a document would fail the same way
    fake.fail_next("sendDocument", status=429, retry_after=5)
    with pytest.raises(RateLimited) as limited:
        await files.send_stored(str(ADMIN), stored("document"), None)
    assert limited.value.retry_after == 5.0
    fake.fail_next("sendDocument", status=503)
    with pytest.raises(TransientSendError):
        await files.send_stored(str(ADMIN), stored("document"), None)
    fake.block(ADMIN)
    with pytest.raises(ChatBlocked):
        await files.send_stored(str(ADMIN), stored("document"), None)
    assert fake.messages(ADMIN) == []


# ------------------------------------------------------------------- files by content

EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 400
PDF = b"%PDF-1.7\n" + b"x" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


async def test_the_type_is_read_from_the_bytes_never_the_name(
    engine: AsyncEngine, clock: SequentialClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jobs.attachments")
    ids = await seed(
        engine,
        [
            {
                "channel_file_id": "exe",
                "media": "document",
                "file_name": "x.pdf",
                "mime": "application/pdf",
            },
            {
                "channel_file_id": "zip",
                "media": "document",
                "file_name": "hd.docx",
                "mime": "application/msword",
            },
            {
                "channel_file_id": "pdf",
                "media": "document",
                "file_name": "don.pdf.docx",
                "mime": "application/msword",
            },
            {"channel_file_id": "png", "media": "photo", "mime": "image/jpeg"},
            {"channel_file_id": "pdf-photo", "media": "photo"},
        ],
    )
    zip_bytes = b"PK\x03\x04" + b"\x00" * 200
    download = ScriptedDownload(
        {"exe": [EXE], "zip": [zip_bytes], "pdf": [PDF], "png": [PNG], "pdf-photo": [PDF]}
    )
    assert await store_pending_files(engine, "telegram", download, clock) == StoreReport(
        stored=2, failed=3
    )
    found = await rows(engine)
    assert {k: (r["status"], r["mime"], r["file_name"]) for k, r in found.items()} == {
        "exe": ("failed", "application/pdf", "x.pdf"),
        "zip": ("failed", "application/msword", "hd.docx"),
        # Stored as what the bytes are, under a name that cannot run.
        "pdf": ("stored", "application/pdf", "don.pdf"),
        "png": ("stored", "image/png", None),
        "pdf-photo": ("failed", "image/jpeg", None),
    }
    assert found["exe"]["data"] is None
    messages = [r.getMessage() for r in caplog.records]
    assert f"job=attachments file={ids[0]} error=type_refused" in messages


async def test_a_download_over_the_limit_is_given_up_at_once(
    engine: AsyncEngine, clock: SequentialClock
) -> None:
    await seed(engine, [{"channel_file_id": "huge", "size": 0}])
    download = ScriptedDownload({"huge": [jobs.attachments.FileTooLarge]})
    report = await store_pending_files(engine, "zalo", download, clock, max_attempts=5)
    assert report == StoreReport()  # seeded on telegram: nothing for zalo
    report = await store_pending_files(engine, "telegram", download, clock, max_attempts=5)
    assert report == StoreReport(failed=1)
    assert download.calls == ["huge"]  # not fetched five times
    assert (await rows(engine))["huge"]["status"] == "failed"


async def test_download_url_measures_a_file_without_a_declared_size() -> None:
    from bot.zalo_wiring import download_url

    served = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal served
        for _ in range(20 * 16):  # 20 MB in 64 KB chunks, no Content-Length
            served += 65536
            yield b"\x00" * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(jobs.attachments.FileTooLarge):
            await download_url(client, "https://zalo.example/f/1")
    assert served <= jobs.attachments.MAX_BYTES + 65536 * 2  # stopped near the limit
