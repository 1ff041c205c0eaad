"""Tests of the fake Zalo OA server, driven with plain httpx the way the bot will call Zalo.

The webhook side is checked against a tiny stdlib HTTP server that keeps the raw bytes and
headers it receives, and the signature against an independent SHA-256 computation.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support.fake_zalo import FakeZalo

APP_ID = "1234567890"
APP_SECRET = "app-secret"
OA_SECRET = "oa-secret"
OA_ID = "2591234567890123456"
USER = "8756112331268738712"  # > 2**53: must stay a string end to end
OTHER = "3012345678901234567"


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, oa_secret=OA_SECRET, oa_id=OA_ID) as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, trust_env=False) as http:
        yield http


def send(
    client: httpx.Client,
    fake: FakeZalo,
    token: str | None,
    text: str,
    *,
    user: str = USER,
    buttons: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"text": text}
    if buttons is not None:
        message["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
    response = client.post(
        f"{fake.base_url}/v3.0/oa/message/cs",
        headers={"access_token": token or ""},
        json={"recipient": {"user_id": user}, "message": message},
    )
    assert response.status_code == 200  # Zalo reports errors inside a 200
    body: dict[str, Any] = response.json()
    return body


def refresh(
    client: httpx.Client,
    fake: FakeZalo,
    refresh_token: str,
    *,
    secret: str = APP_SECRET,
    app_id: str = APP_ID,
) -> dict[str, Any]:
    response = client.post(
        f"{fake.oauth_url}/v4/oa/access_token",
        headers={"secret_key": secret},
        data={"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"},
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def button(title: str, payload: str, kind: str = "oa.query.hide") -> dict[str, str]:
    return {"title": title, "type": kind, "payload": payload}


def test_send_with_a_valid_token_is_stored(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    answer = send(client, fake, access, "Xin chào! Anh/chị đánh giá thế nào về dịch vụ?")
    assert answer["error"] == 0
    assert answer["message"] == "Success"
    assert answer["data"]["user_id"] == USER
    message_id = answer["data"]["message_id"]
    assert len(message_id) == 32
    int(message_id, 16)
    [stored] = fake.messages(USER)
    assert stored.text == "Xin chào! Anh/chị đánh giá thế nào về dịch vụ?"
    assert stored.buttons == []
    assert stored.message_id == message_id
    assert stored.sent_at <= time.monotonic()
    assert [(s.user_id, s.error, s.access_token) for s in fake.sends] == [(USER, 0, access)]
    assert fake.messages(OTHER) == []
    assert client.get(f"{fake.base_url}/v3.0/oa/unknown").status_code == 404


def test_buttons_are_stored_and_pressing_one_builds_the_text_event(
    fake: FakeZalo, client: httpx.Client
) -> None:
    access, _ = fake.issue_tokens()
    buttons = [button("Rất hài lòng", "q1:5"), button("Không hài lòng", "q1:1", "oa.query.show")]
    assert send(client, fake, access, "Câu 1", buttons=buttons)["error"] == 0
    [stored] = fake.wait_for_messages(USER, 1, timeout=1)
    assert stored.buttons == [
        ("Rất hài lòng", "oa.query.hide", "q1:5"),
        ("Không hài lòng", "oa.query.show", "q1:1"),
    ]
    event = fake.press(USER, "q1:5")
    assert event["event_name"] == "user_send_text"
    assert event["message"]["text"] == "q1:5"
    assert event["sender"] == {"id": USER}
    assert event["recipient"] == {"id": OA_ID}
    with pytest.raises(ValueError, match="no button"):
        fake.press(USER, "q9:9")
    assert fake.press(USER, "q9:9", check=False)["message"]["text"] == "q9:9"


def test_expired_token_then_refresh_rotates_both_tokens(
    fake: FakeZalo, client: httpx.Client
) -> None:
    access, refresh_token = fake.issue_tokens()
    fake.expire_access_token()
    answer = send(client, fake, access, "Xin chào")
    assert answer == {"error": -216, "message": "Access token is invalid"}
    assert send(client, fake, None, "Xin chào")["error"] == -216
    assert fake.refresh_token == refresh_token

    rotated = refresh(client, fake, refresh_token)
    assert set(rotated) == {"access_token", "refresh_token", "expires_in"}
    assert rotated["expires_in"] == "90000"  # a string, as Zalo sends it
    assert rotated["access_token"] not in (access, "")
    assert rotated["refresh_token"] != refresh_token
    assert fake.access_token == rotated["access_token"]
    assert fake.refresh_token == rotated["refresh_token"]
    assert send(client, fake, rotated["access_token"], "Xin chào")["error"] == 0
    assert send(client, fake, access, "Xin chào")["error"] == -216

    again = refresh(client, fake, refresh_token)  # single use
    assert again["error"] == -14014
    assert again["error_name"] == "Invalid refresh token"
    assert "access_token" not in again
    assert refresh(client, fake, "never-issued")["error"] == -14014
    assert refresh(client, fake, rotated["refresh_token"], secret="wrong")["error"] == -14002
    assert refresh(client, fake, rotated["refresh_token"], app_id="999")["error"] == -14002
    assert fake.access_token == rotated["access_token"]  # failed refreshes change nothing

    calls = fake.refreshes
    assert [r.error for r in calls] == [0, -14014, -14014, -14002, -14002]
    assert calls[0].refresh_token == refresh_token
    assert calls[0].secret_key == APP_SECRET
    assert calls[0].app_id == APP_ID
    assert calls[0].grant_type == "refresh_token"
    assert calls[0].access_token == rotated["access_token"]
    assert calls[0].new_refresh_token == rotated["refresh_token"]
    # The unused rotated refresh token still works after the failures.
    assert refresh(client, fake, rotated["refresh_token"])["expires_in"] == "90000"


@pytest.mark.parametrize(
    ("text", "buttons"),
    [
        ("x" * 2001, None),
        ("", None),
        ("   ", None),
        ("Chọn", [button(f"Nút {i}", f"b{i}") for i in range(6)]),
        ("Chọn", []),
        ("Chọn", [button("t" * 101, "b")]),
        ("Chọn", [button("Mở", "https://example.vn", "oa.open.url")]),
        ("Chọn", [button("Trống", "")]),
    ],
    ids=[
        "text>2000",
        "empty",
        "blank",
        "6 buttons",
        "no buttons",
        "title>100",
        "url type",
        "no payload",
    ],
)
def test_invalid_parameters_give_201(
    fake: FakeZalo, client: httpx.Client, text: str, buttons: list[dict[str, str]] | None
) -> None:
    access, _ = fake.issue_tokens()
    answer = send(client, fake, access, text, buttons=buttons)
    assert answer == {"error": -201, "message": "Parameters are invalid"}
    assert fake.messages(USER) == []
    assert fake.sends[-1].error == -201
    assert fake.sends[-1].detail


def test_limits_are_inclusive_and_ids_must_be_strings(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    five = [button("t" * 100, f"b{i}") for i in range(5)]
    assert send(client, fake, access, "ạ" * 2000, buttons=five)["error"] == 0
    response = client.post(
        f"{fake.base_url}/v3.0/oa/message/cs",
        headers={"access_token": access},
        json={"recipient": {"user_id": int(USER)}, "message": {"text": "số"}},
    )
    assert response.json()["error"] == -201
    assert "digit string" in fake.sends[-1].detail


def test_window_follow_and_scripted_failures(fake: FakeZalo, client: httpx.Client) -> None:
    access, _ = fake.issue_tokens()
    fake.out_of_window(USER)
    assert send(client, fake, access, "Nhắc lại")["error"] == -230
    assert send(client, fake, access, "Cho người khác", user=OTHER)["error"] == 0
    fake.user_text(USER, "Tôi quay lại")  # the user writes: the window reopens
    assert send(client, fake, access, "Nhắc lại")["error"] == 0
    fake.out_of_window(USER, code=-232)
    assert send(client, fake, access, "Nhắc lại")["error"] == -232
    with pytest.raises(ValueError, match="-230"):
        fake.out_of_window(USER, code=-1)

    fake.unfollow(USER)
    assert send(client, fake, access, "Còn đó không?")["error"] == -213
    fake.follow(USER)
    assert send(client, fake, access, "Chào mừng trở lại")["error"] == 0
    fake.unfollowed(OTHER)
    assert send(client, fake, access, "x", user=OTHER)["message"] == "User has not followed OA"

    fake.fail_next(-32)
    assert send(client, fake, access, "Nhanh quá")["error"] == -32
    assert send(client, fake, access, "Thử lại")["error"] == 0
    fake.fail_next(-32, count=2, user_id=OTHER)
    fake.follow(OTHER)
    assert send(client, fake, access, "Người khác")["error"] == 0
    assert [send(client, fake, access, "y", user=OTHER)["error"] for _ in range(3)] == [-32, -32, 0]
    fake.fail_next(0, status=503)
    response = client.post(f"{fake.base_url}/v3.0/oa/message/cs", json={})
    assert response.status_code == 503
    _, refresh_token = fake.issue_tokens()
    fake.fail_next(-14014, refresh=True)
    assert refresh(client, fake, refresh_token)["error"] == -14014
    assert "access_token" in refresh(client, fake, refresh_token)  # the token was not used up
    assert [m.text for m in fake.messages(USER)] == [
        "Nhắc lại",
        "Chào mừng trở lại",
        "Thử lại",
        "Người khác",
    ]


def test_signature_matches_an_independent_computation(fake: FakeZalo) -> None:
    event = fake.user_text(USER, "Hồ sơ xây dựng của tôi đã được xử lý chưa? Đường Lê Lợi, Huế")
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = event["timestamp"]
    expected = hashlib.sha256(
        (APP_ID + body.decode("utf-8") + timestamp + OA_SECRET).encode()
    ).hexdigest()
    assert fake.signature(body, timestamp) == expected
    assert fake.signature(body, str(int(timestamp) + 1)) != expected


@dataclass
class Received:
    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def receiver() -> Iterator[Received]:
    """A stdlib HTTP server standing for the bot's webhook; keeps headers and raw bodies."""
    received = Received("")

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}/zalo/webhook"
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_post_delivers_signed_raw_bytes(fake: FakeZalo, receiver: Received) -> None:
    event = fake.user_text(USER, "Phản ánh: công trình gây ồn lúc 23 giờ — số 12 Trần Phú")
    assert fake.post(receiver.url, event) == 200
    [(headers, body)] = receiver.requests
    assert headers["content-type"] == "application/json"
    assert "num_retry" not in headers
    assert json.loads(body) == event
    assert "ồn".encode() in body  # UTF-8, not \\u escapes
    expected = hashlib.sha256(
        (APP_ID + body.decode() + event["timestamp"] + OA_SECRET).encode()
    ).hexdigest()
    assert headers["x-zevent-signature"] == f"mac={expected}"
    assert json.loads(body)["sender"]["id"] == USER  # the big id survived as a string

    receiver.status = 500
    assert fake.post(receiver.url, event, retry=1) == 500
    assert fake.post(receiver.url, event, wrong_secret=True) == 500
    assert fake.post(receiver.url, event, sign=False) == 500
    raw = b'{"event_name":"user_send_text","timestamp":"1"}'
    assert fake.post(receiver.url, event | {"timestamp": "1"}, raw=raw) == 500
    retried, wrong, unsigned, exact = receiver.requests[1:]
    assert retried[0]["num_retry"] == "1"
    assert retried[0]["x-zevent-signature"] == f"mac={expected}"
    assert wrong[0]["x-zevent-signature"].startswith("mac=")
    assert wrong[0]["x-zevent-signature"] != f"mac={expected}"
    assert "x-zevent-signature" not in unsigned[0]
    assert exact[1] == raw
    assert exact[0]["x-zevent-signature"] == f"mac={fake.signature(raw, '1')}"
    assert [(d.event_name, d.user_id, d.status, d.retry) for d in fake.deliveries] == [
        ("user_send_text", USER, 200, 0),
        ("user_send_text", USER, 500, 1),
        ("user_send_text", USER, 500, 0),
        ("user_send_text", USER, 500, 0),
        ("user_send_text", USER, 500, 0),
    ]


def test_event_shapes(fake: FakeZalo, client: httpx.Client) -> None:
    text = fake.user_text(USER, "Xin chào")
    assert set(text) == {
        "app_id",
        "user_id_by_app",
        "event_name",
        "timestamp",
        "sender",
        "recipient",
        "message",
    }
    assert text["app_id"] == APP_ID
    assert text["user_id_by_app"].isdigit()
    assert text["user_id_by_app"] != USER
    assert isinstance(text["timestamp"], str)
    assert len(text["message"]["msg_id"]) == 32

    photo = fake.host_file(b"\x89PNG\r\n\x1a\n-bytes", "ảnh hiện trường.png")
    image = fake.user_image(USER, photo)
    assert image["event_name"] == "user_send_image"
    assert image["message"]["text"] == ""
    assert image["message"]["attachments"] == [
        {"type": "image", "payload": {"thumbnail": photo, "url": photo}}
    ]
    downloaded = client.get(photo)
    assert downloaded.content == b"\x89PNG\r\n\x1a\n-bytes"
    assert downloaded.headers["content-type"] == "image/png"
    assert fake.downloads(photo) == 1

    data = b"%PDF-1.4 giay phep xay dung"
    pdf = fake.host_file(data, "giấy phép.pdf")
    sent_file = fake.user_file(USER, pdf, "giấy phép.pdf")
    assert sent_file["event_name"] == "user_send_file"
    [attachment] = sent_file["message"]["attachments"]
    assert attachment["type"] == "file"
    assert attachment["payload"] == {
        "url": pdf,
        "size": str(len(data)),
        "name": "giấy phép.pdf",
        "checksum": hashlib.md5(data).hexdigest(),
        "type": "pdf",
    }
    assert client.get(pdf).content == data
    assert (
        fake.user_file(USER, pdf, "x.PDF", size=12345)["message"]["attachments"][0]["payload"][
            "size"
        ]
        == "12345"
    )
    assert client.get(f"{fake.base_url}/files/nope/x.pdf").status_code == 404

    follow = fake.follow(USER)
    assert follow["event_name"] == "follow"
    assert follow["follower"] == {"id": USER}
    assert follow["oa_id"] == OA_ID
    assert "message" not in follow
    assert fake.unfollow(USER)["event_name"] == "unfollow"

    echo = fake.oa_echo(USER, "Cảm ơn anh/chị", msg_id="ab" * 16)
    assert echo["event_name"] == "oa_send_text"
    assert echo["sender"] == {"id": OA_ID}
    assert echo["recipient"] == {"id": USER}
    assert echo["message"] == {"text": "Cảm ơn anh/chị", "msg_id": "ab" * 16}

    stamps = [int(e["timestamp"]) for e in (text, image, sent_file, follow, echo)]
    assert stamps == sorted(set(stamps))
    with pytest.raises(TypeError, match="digit strings"):
        fake.user_text(8756112331268738712, "số")  # type: ignore[arg-type]


def test_wait_for_messages_sees_a_send_from_another_thread(
    fake: FakeZalo, client: httpx.Client
) -> None:
    access, _ = fake.issue_tokens()

    def reply_later() -> None:
        time.sleep(0.05)
        send(client, fake, access, "Trả lời")

    worker = threading.Thread(target=reply_later)
    worker.start()
    try:
        [message] = fake.wait_for_messages(USER, 1, timeout=5)
    finally:
        worker.join()
    assert message.text == "Trả lời"
    with pytest.raises(TimeoutError, match=r"waited 0\.05 s") as raised:
        fake.wait_for_messages(USER, 2, timeout=0.05)
    assert "Trả lời" in str(raised.value)  # the summary lists the recent sends


def test_stop_is_idempotent_and_the_port_is_released() -> None:
    fake = FakeZalo().start()
    port = fake.port
    fake.stop()
    fake.stop()
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False) as http:
        http.get(f"http://127.0.0.1:{port}/v3.0/oa/message/cs")
