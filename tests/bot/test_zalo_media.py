"""ZaloSender's images and documents over real HTTP against the fake Zalo OA, with the token
pair in a real (SQLite) database as the bot keeps it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.channels.zalo import (
    MAX_TEXT,
    ZALO_CAPABILITIES,
    ZALO_MAX_TEXT,
    UnreachableOnZalo,
    ZaloSender,
)
from bot.channels.zalo_media import (
    MAX_DOCUMENT_BYTES,
    MAX_IMAGE_BYTES,
    can_send_document,
    can_send_image,
    document_upload,
    image_upload,
)
from bot.channels.zalo_texts import NAV_HINT, fixed
from bot.channels.zalo_tokens import TokenStore
from bot.errors import (
    ChatBlocked,
    Paused,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unreachable,
    Unsupported,
)
from jobs.chart import element_chart
from storage import write_transaction
from storage.outbound import TextMessage
from storage.queries.zalo_tokens import save_tokens
from tests.jobs.test_chart import report
from tests.support.db import Database, migrated
from tests.support.fake_zalo import FakeZalo

USER = "8756112331268738712"
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def chart() -> bytes:
    """The weekly digest's chart, as the digest job draws it."""
    return element_chart(report(satisfied=8), report(satisfied=7, start=date(2026, 2, 23)))


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo() as fake:
        yield fake
    assert fake.server_errors == []


@pytest.fixture
async def sender(zalo: FakeZalo, tmp_path: Path) -> AsyncIterator[ZaloSender]:
    engine = await migrated(Database(f"sqlite+aiosqlite:///{tmp_path / 'zalo.db'}"))
    access, refresh = zalo.issue_tokens()
    async with write_transaction(engine) as conn:
        await save_tokens(conn, access, refresh, NOW + timedelta(hours=25), NOW)
    async with httpx.AsyncClient(trust_env=False) as client:
        tokens = TokenStore(
            engine, client, zalo.oauth_url, zalo.app_id, zalo.app_secret, lambda: NOW
        )
        yield ZaloSender(client, zalo.base_url, tokens, fixed({NAV_HINT: "({words})"}))
    await engine.dispose()


async def test_the_digest_chart_is_uploaded_and_shown_by_its_attachment_id(
    zalo: FakeZalo, sender: ZaloSender, chart: bytes
) -> None:
    await sender.send_image(USER, chart, "bantin-tuan.png", "Bản tin tuần 02/03–08/03")
    [uploaded] = zalo.uploads
    assert (uploaded.kind, uploaded.name, uploaded.content_type) == (
        "image",
        "bantin-tuan.png",
        "image/png",
    )
    assert uploaded.data == chart
    [shown] = zalo.messages(USER)
    assert shown.attachment_id == uploaded.id
    assert shown.text == "Bản tin tuần 02/03–08/03"
    [call] = zalo.sends
    assert call.body["message"]["attachment"] == {
        "type": "template",
        "payload": {
            "template_type": "media",
            "elements": [{"media_type": "image", "attachment_id": uploaded.id}],
        },
    }


async def test_jpeg_names_and_captions(zalo: FakeZalo, sender: ZaloSender) -> None:
    await sender.send_image(USER, JPEG, "ảnh.jpeg", "")
    await sender.send_image(USER, JPEG, "../chart", "x" * (MAX_TEXT + 5))
    assert [(u.name, u.content_type) for u in zalo.uploads] == [
        ("ảnh.jpeg", "image/jpeg"),
        ("chart.jpg", "image/jpeg"),
    ]
    assert "text" not in zalo.sends[0].body["message"]  # a blank caption is left out
    clipped = zalo.messages(USER)[1].text
    assert len(clipped) == MAX_TEXT
    assert clipped.endswith("…")


async def test_a_pdf_is_uploaded_and_sent_by_its_token_after_its_caption(
    zalo: FakeZalo, sender: ZaloSender
) -> None:
    await sender.send_document(USER, PDF, "Báo cáo tuần.pdf", "Báo cáo tuần")
    [uploaded] = zalo.uploads
    assert (uploaded.kind, uploaded.name, uploaded.content_type) == (
        "file",
        "Báo cáo tuần.pdf",
        "application/pdf",
    )
    assert uploaded.data == PDF
    caption, document = zalo.messages(USER)
    assert (caption.text, caption.file_token) == ("Báo cáo tuần", None)
    assert (document.text, document.file_token) == ("", uploaded.id)
    assert zalo.sends[-1].body["message"] == {
        "attachment": {"type": "file", "payload": {"token": uploaded.id}}
    }

    await sender.send_document(USER, b"PK\x03\x04", "Don.DOCX", "  ")  # no caption message
    assert [m.file_token is not None for m in zalo.messages(USER)] == [False, True, True]
    assert zalo.uploads[-1].content_type.endswith("wordprocessingml.document")


async def test_an_xlsx_is_refused_before_any_request(zalo: FakeZalo, sender: ZaloSender) -> None:
    with pytest.raises(Unsupported) as refused:
        await sender.send_document(USER, b"PK\x03\x04", "bao-cao.xlsx", "Bảng tính")
    assert isinstance(refused.value, PermanentSendError)  # a dead row if nobody falls back
    assert refused.value.kind == "document"
    assert ".xlsx" in refused.value.reason
    assert zalo.uploads == []
    assert zalo.sends == []
    assert not can_send_document("bao-cao.xlsx")


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 16,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_IMAGE_BYTES,
        b"",
    ],
    ids=["gif", "over 1 MB", "empty"],
)
async def test_images_zalo_cannot_take_are_refused_before_any_request(
    zalo: FakeZalo, sender: ZaloSender, data: bytes
) -> None:
    with pytest.raises(Unsupported) as refused:
        await sender.send_image(USER, data, "chart.png", "")
    assert refused.value.kind == "image"
    assert not can_send_image(data)
    assert zalo.uploads == []


async def test_documents_over_5_mb_are_refused(zalo: FakeZalo, sender: ZaloSender) -> None:
    big = PDF + b"x" * (MAX_DOCUMENT_BYTES + 1 - len(PDF))
    with pytest.raises(Unsupported, match="bytes"):
        await sender.send_document(USER, big, "a.pdf", "")
    assert zalo.uploads == []
    assert can_send_document("a.pdf", MAX_DOCUMENT_BYTES)
    assert not can_send_document("a.pdf", MAX_DOCUMENT_BYTES + 1)


async def test_an_expired_token_during_upload_is_refreshed_once_and_retried(
    zalo: FakeZalo, sender: ZaloSender, chart: bytes
) -> None:
    first = zalo.access_token
    zalo.expire_access_token()
    await sender.send_image(USER, chart, "chart.png", "Bản tin")
    assert [u.error for u in zalo.uploads] == [-216, 0]
    assert zalo.uploads[0].access_token == first
    assert len(zalo.refreshes) == 1
    assert zalo.uploads[1].access_token == zalo.refreshes[0].access_token
    assert [(s.error, s.access_token) for s in zalo.sends] == [(0, zalo.access_token)]
    assert zalo.messages(USER)[0].attachment_id == zalo.uploads[1].id

    zalo.expire_access_token()  # the same for a document's upload
    await sender.send_document(USER, PDF, "a.pdf", "")
    assert [u.error for u in zalo.uploads] == [-216, 0, -216, 0]
    assert len(zalo.refreshes) == 2


async def test_a_token_rejected_on_the_message_after_the_upload(
    zalo: FakeZalo, sender: ZaloSender, chart: bytes
) -> None:
    zalo.fail_next(-216)
    await sender.send_image(USER, chart, "chart.png", "")
    assert [u.error for u in zalo.uploads] == [0]  # not uploaded again
    assert [s.error for s in zalo.sends] == [-216, 0]
    assert len(zalo.refreshes) == 1


async def test_a_token_rejected_after_the_refresh_waits(
    zalo: FakeZalo, sender: ZaloSender, chart: bytes
) -> None:
    """Not a reason to drop the image: it waits (Paused spends no attempt) for a working
    token, counted as a failed refresh (tests/bot/test_zalo_tokens.py)."""
    zalo.fail_next(-216, count=2, upload=True)
    with pytest.raises(Paused, match="-216"):
        await sender.send_image(USER, chart, "chart.png", "")
    assert len(zalo.refreshes) == 1
    assert zalo.sends == []


async def test_outside_the_window_is_unreachable(
    zalo: FakeZalo, sender: ZaloSender, chart: bytes
) -> None:
    zalo.out_of_window(USER)
    with pytest.raises(UnreachableOnZalo, match="-230"):
        await sender.send_image(USER, chart, "chart.png", "Bản tin")
    assert [u.error for u in zalo.uploads] == [0]  # uploads are not the window's business
    zalo.out_of_window(USER, code=-232)
    with pytest.raises(Unreachable, match="-232"):
        await sender.send_document(USER, PDF, "a.pdf", "")
    assert zalo.messages(USER) == []


def _text(text: str = "Xin chào") -> TextMessage:
    return TextMessage(text, (), "k")


@pytest.mark.parametrize(
    ("code", "upload", "error"),
    [
        (-213, False, ChatBlocked),
        (-32, True, RateLimited),
        (-32, False, RateLimited),
        (-201, True, PermanentSendError),
        (-201, False, PermanentSendError),
        (-227, False, UnreachableOnZalo),  # inactive 45 days: held like outside the window
        (-244, False, UnreachableOnZalo),  # restricted: the same
    ],
)
async def test_codes_map_as_for_text(
    zalo: FakeZalo,
    sender: ZaloSender,
    chart: bytes,
    code: int,
    upload: bool,
    error: type[Exception],
) -> None:
    zalo.fail_next(code, upload=upload)
    with pytest.raises(error) as raised:
        await sender.send_image(USER, chart, "chart.png", "")
    assert type(raised.value) is error
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 60
    if not upload:  # a text answered the same code ends the same way
        zalo.fail_next(code)
        with pytest.raises(error) as text_raised:
            await sender.send(USER, _text())
        assert type(text_raised.value) is error
        assert str(text_raised.value) == str(raised.value)


async def test_upload_answers_that_mean_unsupported_or_try_again(
    zalo: FakeZalo, sender: ZaloSender, chart: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    zalo.fail_next(-210, upload=True)  # over Zalo's size limit, should ours be too generous
    with pytest.raises(Unsupported, match="-210"):
        await sender.send_image(USER, chart, "chart.png", "")
    zalo.fail_next(0, status=503, upload=True)
    with pytest.raises(TransientSendError, match="503"):
        await sender.send_document(USER, PDF, "a.pdf", "")
    # A type Zalo refuses comes back as "Success" without a token: the same Unsupported.
    monkeypatch.setattr("bot.channels.zalo.document_upload", lambda data, name: (name, XLSX))
    with pytest.raises(Unsupported, match=r"no data\.token"):
        await sender.send_document(USER, PDF, "bang.xlsx", "")
    assert zalo.messages(USER) == []
    await sender.send(USER, _text())  # the text path is unchanged
    assert [m.text for m in zalo.messages(USER)] == ["Xin chào"]


def test_capabilities_and_pure_rules() -> None:
    assert frozenset({"text", "image", "document"}) == ZALO_CAPABILITIES
    assert ZALO_MAX_TEXT == 2000
    assert can_send_document("Báo cáo.PDF")
    assert can_send_document("don.doc")
    assert can_send_document("C:\\temp\\don.docx", 1)
    assert not can_send_document("pdf")
    assert not can_send_document("a.pdf", 0)
    assert can_send_image(JPEG)
    assert image_upload(b"\x89PNG\r\n\x1a\n", "bieu-do.jpg") == ("bieu-do.png", "image/png")
    assert image_upload(JPEG, 'a"b\n.JPG') == ("ab.jpg", "image/jpeg")
    assert image_upload(JPEG, "")[0] == "file.jpg"
    assert document_upload(PDF, "/tmp/x/" + "d" * 300 + ".pdf")[0] == "d" * 196 + ".pdf"
