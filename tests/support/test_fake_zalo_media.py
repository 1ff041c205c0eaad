"""Tests of the fake Zalo's upload endpoints and of image and file messages, driven with plain
httpx the way the bot calls Zalo (multipart upload, then a JSON message)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.fake_zalo import FakeZalo

USER = "8756112331268738712"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, trust_env=False) as http:
        yield http


def upload(
    client: httpx.Client,
    fake: FakeZalo,
    token: str | None,
    kind: str,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
) -> dict[str, Any]:
    response = client.post(
        f"{fake.base_url}/v2.0/oa/upload/{kind}",
        headers={"access_token": token or ""},
        files={"file": (name, data, content_type)},
    )
    assert response.status_code == 200  # Zalo reports errors inside a 200
    body: dict[str, Any] = response.json()
    return body


def message(
    client: httpx.Client, fake: FakeZalo, token: str, body: dict[str, Any], user: str = USER
) -> dict[str, Any]:
    response = client.post(
        f"{fake.base_url}/v3.0/oa/message/cs",
        headers={"access_token": token},
        json={"recipient": {"user_id": user}, "message": body},
    )
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def media(attachment_id: object, text: str | None = None, count: int = 1) -> dict[str, Any]:
    element = {"media_type": "image", "attachment_id": attachment_id}
    payload = {"template_type": "media", "elements": [element] * count}
    body: dict[str, Any] = {"attachment": {"type": "template", "payload": payload}}
    return body if text is None else body | {"text": text}


def file(token: object) -> dict[str, Any]:
    return {"attachment": {"type": "file", "payload": {"token": token}}}


def test_an_uploaded_image_is_shown_with_its_caption(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    answer = upload(client, fake, access, "image", "bieu-do.png", PNG, "image/png")
    assert answer["error"] == 0
    assert answer["message"] == "Success"
    attachment_id = answer["data"]["attachment_id"]
    assert re.fullmatch(r"[0-9a-f]{20}", attachment_id)
    assert set(answer["data"]) == {"attachment_id"}
    stored = fake.uploaded(attachment_id)
    assert (stored.kind, stored.name, stored.content_type) == ("image", "bieu-do.png", "image/png")
    assert stored.data == PNG
    assert stored.access_token == access

    assert message(client, fake, access, media(attachment_id, "Bản tin tuần"))["error"] == 0
    assert message(client, fake, access, media(attachment_id))["error"] == 0  # no caption
    shown = fake.messages(USER)
    assert [(m.text, m.attachment_id, m.file_token) for m in shown] == [
        ("Bản tin tuần", attachment_id, None),
        ("", attachment_id, None),
    ]
    jpeg = upload(client, fake, access, "image", "anh.JPEG", JPEG, "image/jpeg")
    assert fake.uploaded(jpeg["data"]["attachment_id"]).data == JPEG


def test_an_uploaded_file_is_sent_by_its_token(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    answer = upload(client, fake, access, "file", "Báo cáo.pdf", PDF, "application/pdf")
    assert answer["error"] == 0
    assert set(answer["data"]) == {"token"}
    token = answer["data"]["token"]
    assert fake.uploaded(token).data == PDF
    assert fake.uploaded(token).name == "Báo cáo.pdf"
    for name in ("Don.doc", "Don.DOCX"):
        assert upload(client, fake, access, "file", name, b"PK\x03\x04")["data"]["token"]

    assert message(client, fake, access, file(token))["error"] == 0
    [sent] = fake.messages(USER)
    assert (sent.text, sent.attachment_id, sent.file_token) == ("", None, token)
    with pytest.raises(KeyError):
        fake.uploaded("never-issued")


def test_upload_errors(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    assert upload(client, fake, None, "image", "a.png", PNG)["error"] == -216
    assert upload(client, fake, "stale", "file", "a.pdf", PDF)["error"] == -216
    no_file = client.post(
        f"{fake.base_url}/v2.0/oa/upload/image",
        headers={"access_token": access},
        data={"other": "x"},
    )
    assert no_file.json() == {"error": -201, "message": "Parameters are invalid"}
    big = PNG + b"\x00" * (1_000_000 - len(PNG))
    assert upload(client, fake, access, "image", "a.png", big)["error"] == 0  # inclusive
    over = upload(client, fake, access, "image", "a.png", big + b"\x00")
    assert over == {"error": -210, "message": "Parameters exceeded the limit"}
    big_pdf = PDF + b"x" * (5_000_001 - len(PDF))
    assert upload(client, fake, access, "file", "a.pdf", big_pdf)["error"] == -210
    assert upload(client, fake, access, "file", "a.pdf", big_pdf[:-1])["error"] == 0
    assert [u.error for u in fake.uploads] == [-216, -216, -201, 0, -210, -210, 0]
    assert fake.uploads[0].detail


@pytest.mark.parametrize(
    ("kind", "name", "data"),
    [
        ("file", "bao-cao.xlsx", b"PK\x03\x04"),
        ("file", "bao-cao", PDF),
        ("file", "a.pdf", b""),
        ("image", "a.gif", b"GIF89a"),
        ("image", "a.png", b"not a png"),
        ("image", "a.pdf", PNG),
    ],
)
def test_another_type_is_silently_refused(
    fake: FakeZalo, client: httpx.Client, kind: str, name: str, data: bytes
) -> None:
    access, _ = fake.issue_tokens()
    answer = upload(client, fake, access, kind, name, data)
    assert answer == {"error": 0, "message": "Success", "data": {}}
    [refused] = fake.uploads
    assert refused.error == 0
    assert refused.id is None
    assert refused.detail


def test_messages_need_ids_this_fake_issued(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    image = upload(client, fake, access, "image", "a.png", PNG)["data"]["attachment_id"]
    token = upload(client, fake, access, "file", "a.pdf", PDF)["data"]["token"]
    refused = [
        media("0123456789abcdef0123"),
        media(token),  # a file token is not an image
        file(image),
        file(None),
        media(image, count=2),
        media(image, "x" * 2001),
        file(token) | {"text": "Báo cáo"},
        {"attachment": {"type": "template", "payload": {"template_type": "list"}}, "text": "x"},
        {"attachment": {"type": "image", "payload": {"attachment_id": image}}},
    ]
    for body in refused:
        assert message(client, fake, access, body)["error"] == -201, body
    assert fake.messages(USER) == []
    assert all(s.detail for s in fake.sends)
    assert message(client, fake, access, media(image, "x" * 2000))["error"] == 0


def test_scripted_upload_faults_leave_sends_alone(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    fake.fail_next(-32, upload=True)
    assert message(client, fake, access, {"text": "Xin chào"})["error"] == 0
    assert upload(client, fake, access, "image", "a.png", PNG)["error"] == -32
    image = upload(client, fake, access, "image", "a.png", PNG)["data"]["attachment_id"]
    fake.out_of_window(USER)  # the window is the message's business, not the upload's
    assert upload(client, fake, access, "file", "a.pdf", PDF)["error"] == 0
    assert message(client, fake, access, media(image))["error"] == -230
    with pytest.raises(ValueError, match="not several"):
        fake.fail_next(-32, refresh=True, upload=True)
    assert "upload image 'a.png'" in fake.describe()
