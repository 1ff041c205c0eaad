"""The Zalo adapter's pure parts: signature, events, rendering."""

from __future__ import annotations

import hashlib
import json

import pytest

from bot.channels.zalo import render
from bot.channels.zalo_events import MAX_EVENT_FILES, parse_event, parse_events, signature, verify
from bot.channels.zalo_models import MalformedEvent
from conversations import Attachment, Choice, Command, InboundEvent, Text
from jobs.event_keys import process_event_id
from storage.outbound import TextMessage

APP, OA, SECRET = "1234567890", "2591234567890123456", "oa-secret"
USER = "8756112331268738712"  # above 2**53: ids stay strings
REFUSED_ID = "\x00\x01"  # what cleaning leaves empty


def _text(text: str, msg_id: str = "m1") -> dict[str, object]:
    return {
        "app_id": APP,
        "event_name": "user_send_text",
        "timestamp": "1733318400123",
        "sender": {"id": USER},
        "recipient": {"id": OA},
        "message": {"text": text, "msg_id": msg_id},
    }


def test_signature_is_sha256_of_app_body_timestamp_secret() -> None:
    body = json.dumps(_text("Rất hài lòng"), ensure_ascii=False).encode()
    expected = hashlib.sha256((APP + body.decode() + "1733318400123" + SECRET).encode()).hexdigest()
    assert signature(APP, body, "1733318400123", SECRET) == expected
    assert verify(f"mac={expected}", APP, body, "1733318400123", SECRET)
    assert not verify(f"mac={expected}", APP, body + b" ", "1733318400123", SECRET)
    assert not verify(None, APP, body, "1733318400123", SECRET)
    assert not verify(expected, APP, body, "1733318400123", SECRET)  # without "mac="


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_text("Rất hài lòng"), InboundEvent("m1", "zalo", USER, Text("Rất hài lòng"))),
        (_text("#c:1.1:4"), InboundEvent("m1", "zalo", USER, Choice("1.1:4"))),
        (_text("/tracuu PA-2026-000001"), InboundEvent("m1", "zalo", USER, Command("tracuu", "PA-2026-000001"))),
        (_text("E-ALzL1fFlgn7KEoyWfaOUK5"), InboundEvent("m1", "zalo", USER, Command("start", "E-ALzL1fFlgn7KEoyWfaOUK5", typed="E-ALzL1fFlgn7KEoyWfaOUK5"))),
        (_text(" d_Zq8xL2mNp4Rt6Vw8Yb0Cd2Ef "), InboundEvent("m1", "zalo", USER, Command("start", "d_Zq8xL2mNp4Rt6Vw8Yb0Cd2Ef", typed="d_Zq8xL2mNp4Rt6Vw8Yb0Cd2Ef"))),
        (
            {**_text(""), "event_name": "user_send_image",
             "message": {"msg_id": "m2", "text": "", "attachments": [{"type": "image", "payload": {"url": "http://f/1.jpg"}}]}},
            InboundEvent("m2", "zalo", USER, Attachment("photo", 0, "http://f/1.jpg", "", "image/jpeg")),
        ),
        (
            {**_text(""), "event_name": "user_send_file",
             "message": {"msg_id": "m3", "attachments": [{"type": "file", "payload": {"url": "http://f/a.pdf", "size": "2048", "name": "a.pdf", "type": "pdf"}}]}},
            InboundEvent("m3", "zalo", USER, Attachment("document", 2048, "http://f/a.pdf", "a.pdf", "application/pdf")),
        ),
        (
            {"event_name": "follow", "follower": {"id": USER}, "oa_id": OA, "timestamp": "9"},
            InboundEvent(process_event_id("follow", USER, "9"), "zalo", USER, Command("start")),
        ),
        ({**_text("xin chào"), "event_name": "oa_send_text", "sender": {"id": OA}}, None),
        ({"event_name": "unfollow", "follower": {"id": USER}}, None),
        ({**_text("x"), "event_name": "user_seen_message"}, None),
        ({**_text("x"), "sender": {"id": int(USER)}}, InboundEvent("m1", "zalo", USER, Text("x"))),
    ],
    ids=["text", "button", "command", "receipt-token", "dossier-code", "image", "file", "follow", "oa-echo", "unfollow", "seen", "number-id"],
)  # fmt: skip
def test_parse_event(event: dict[str, object], expected: InboundEvent | None) -> None:
    assert parse_event(event, OA) == expected


@pytest.mark.parametrize(
    ("event", "fields"),
    [
        ({**_text("x"), "message": {"text": "no id"}}, "message.msg_id"),
        ({**_text("x"), "message": {"text": {"a": 1}, "msg_id": "m1"}}, "message.text"),
        ({**_text("x"), "sender": {"id": ""}}, "sender.id"),
        ({**_text("x"), "sender": {"id": REFUSED_ID}}, "sender.id or message.msg_id"),
        ({**_text("x"), "event_name": "user_send_file", "message": {"msg_id": "m1", "attachments": [{}]}},
         "message.attachments.0.payload"),
        ({**_text("x"), "event_name": "user_send_location", "message": {"msg_id": 1.5}}, "message.msg_id"),
        ({"event_name": "follow", "follower": {"name": "x"}}, "follower.id"),
    ],
    ids=["no-msg-id", "text-object", "empty-sender", "sender-cleaned-away", "file-no-payload",
         "location-float-id", "follow-no-id"],
)  # fmt: skip
def test_an_event_without_what_its_kind_is_read_by_is_malformed(
    event: dict[str, object], fields: str
) -> None:
    with pytest.raises(MalformedEvent) as raised:
        parse_event(event, OA)
    assert fields in str(raised.value)
    assert "'a'" not in str(raised.value)  # named by field, never by content


def test_admin_is_recognised_by_zalo_id() -> None:
    event = parse_event(_text("/hoso"), OA, admins={USER})
    assert event is not None
    assert event.admin


@pytest.mark.parametrize(
    ("names", "shown"),
    [({USER: "Chị Lan"}, "Chị Lan"), ({}, "Zalo"), ({"other": "Anh Minh"}, "Zalo")],
)
def test_an_officer_is_named_never_by_their_raw_id(names: dict[str, str], shown: str) -> None:
    """Zalo's messages carry no name: an officer is named as configured, else "Zalo"; the
    case card and history show that, never the id; a citizen is never named."""
    event = parse_event(_text("/hoso"), OA, admins={USER}, names=names)
    assert event is not None
    assert event.sender_name == shown
    assert USER not in event.sender_name
    citizen = parse_event(_text("/hoso"), OA, admins=set(), names=names)
    assert citizen is not None
    assert citizen.sender_name == ""


def test_render_buttons_when_they_fit_numbers_otherwise() -> None:
    few = render(
        TextMessage("Đồng ý?", (("consent:yes", "Có"), ("consent:no", "Không"))), "{words}"
    )
    buttons = few["attachment"]["payload"]["buttons"]
    assert [b["payload"] for b in buttons] == ["#c:consent:yes", "#c:consent:no"]
    assert {b["type"] for b in buttons} == {"oa.query.hide"}
    many = render(
        TextMessage(
            "Câu 1/22",
            (
                *((f"1.1:{v}", f"{v} – mức {v}") for v in range(1, 6)),
                ("1.1:back", "◀ Quay lại"),
                ("1.1:skip", "Bỏ qua ▶"),
            ),
        ),
        "(gõ: {words})",
    )
    assert "attachment" not in many
    assert many["text"].splitlines() == [
        "Câu 1/22", "1. 1 – mức 1", "2. 2 – mức 2", "3. 3 – mức 3", "4. 4 – mức 4",
        "5. 5 – mức 5", "(gõ: ◀ Quay lại, Bỏ qua ▶)",
    ]  # fmt: skip
    long = render(TextMessage("x" * 5000), "")
    assert len(long["text"]) == 2000


REFUSED = "\x00\x01\x1b\ud800\udfff"  # NUL, other C0 controls, lone surrogates


def test_text_and_file_names_a_database_refuses_are_cleaned() -> None:
    event = parse_event(_text(f"Góp{REFUSED} ý\r\n"), OA)
    assert event is not None
    assert event.payload == Text("Góp ý")
    command = parse_event(_text(f"/tracuu PA-2026{REFUSED}-000001"), OA)
    assert command is not None
    assert command.payload == Command("tracuu", "PA-2026-000001")
    sent = {
        **_text(""),
        "event_name": "user_send_file",
        "message": {
            "msg_id": "m2",
            "attachments": [
                {
                    "type": "file",
                    "payload": {
                        "url": "https://f/x",
                        "size": "²",
                        "name": f"đơn{REFUSED}.pdf",
                        "type": "pdf",
                    },
                }
            ],
        },
    }
    event = parse_event(sent, OA)  # "²" is a digit to str.isdigit, not to int()
    assert event is not None
    assert event.payload == Attachment("document", 0, "https://f/x", "đơn.pdf", "application/pdf")


def _images(count: int, text: str = "") -> dict[str, object]:
    items = [{"type": "image", "payload": {"url": f"http://f/{n}.jpg"}} for n in range(count)]
    return {**_text(""), "event_name": "user_send_image",
            "message": {"msg_id": "m9", "text": text, "attachments": items}}  # fmt: skip


@pytest.mark.parametrize(
    ("event", "ids", "captions", "groups"),
    [
        (_images(1, "Nội dung"), ["m9"], ["Nội dung"], [""]),
        (_images(3, "Nội dung"), ["m9", "m9#1", "m9#2"], ["Nội dung", "", ""], ["zalo:m9"] * 3),
        (_images(MAX_EVENT_FILES + 5), [f"m9#{n}" if n else "m9" for n in range(MAX_EVENT_FILES)],
         [""] * MAX_EVENT_FILES, ["zalo:m9"] * MAX_EVENT_FILES),
        (_text("ba ảnh"), ["m1"], [None], [None]),
    ],
    ids=["one-image", "three-images", "capped", "text"],
)  # fmt: skip
def test_an_event_with_several_images_is_one_album(
    event: dict[str, object], ids: list[str], captions: list[str | None], groups: list[str | None]
) -> None:
    parts = parse_events(event, OA)
    assert [p.event_id for p in parts] == ids
    payloads = [p.payload for p in parts]
    assert [p.caption if isinstance(p, Attachment) else None for p in payloads] == captions
    assert [p.group if isinstance(p, Attachment) else None for p in payloads] == groups
    urls = [p.file_id for p in payloads if isinstance(p, Attachment)]
    assert len(set(urls)) == len(urls)
