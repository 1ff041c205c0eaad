"""The web channel's pure parts: what a post means, file types from bytes, cookies, labels."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from starlette.requests import Request

from bot.channels.web import (
    ChatPost,
    body_of,
    origin_of,
    parse_post,
    parse_text,
    sniff_type,
    visitor_chat_id,
)
from bot.errors import PermanentSendError
from bot.web.chat import _file_name
from bot.web.guard import RateLimiter, WrongTries, cookie_header, csrf_token, security_headers
from bot.web.page import LABELS_DIR, STATIC_DIR, labels, render_page
from conversations import Choice, Command, Origin, Text
from conversations.catalog import placeholders
from storage.outbound import DocumentMessage, EditMessage, ImageMessage, TextMessage
from storage.queries.web import WebMessage

TOKEN = "Zk3v9QmA7xLp2TnR8sWc4bYd"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/start", Command("start", "")),
        ("/TRACUU PA-2026-000001", Command("tracuu", "PA-2026-000001")),
        (f"  {TOKEN} ", Command("start", TOKEN)),
        ("xin chào", Text("xin chào")),
        ("short-code", Text("short-code")),
        ("PA-2026-000001", Text("PA-2026-000001")),
        ("   ", Text("")),
    ],
    ids=["command", "command-with-arg", "receipt-code", "text", "too-short-for-a-code",
         "tracking-code-is-text", "blank"],
)  # fmt: skip
def test_parse_text(typed: str, expected: object) -> None:
    assert parse_text(typed) == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("4821-7730-15", "4821773015"),
        ("mã 4821 7730 15", "4821773015"),
        ("4821773015", "4821773015"),
        ("4821-7730-1", "482177301"),  # nine digits: answered with the code's format
    ],
)
def test_the_slip_s_short_code_typed_in_the_web_chat_opens_the_receipt(
    typed: str, code: str
) -> None:
    assert parse_text(typed) == Command("start", code, typed=typed)


def test_a_pressed_button_carries_the_message_it_was_on() -> None:
    shown = WebMessage(
        12, {"kind": "text", "text": "Câu 1?", "choices": [["1.1:5", "Rất hài lòng"]]}, False
    )
    post = ChatPost(id="abcdefgh", choice="1.1:5", message=12)
    event = parse_post(post, "w" + "0" * 40, shown)
    assert event is not None
    assert event.payload == Choice("1.1:5")
    assert event.origin == Origin("12", "Câu 1?", "Rất hài lòng")
    assert event.channel == "web"
    assert "0" * 17 not in event.event_id  # names no chat (tests/storage/test_event_keys.py)
    # A choice the message did not offer still goes to the engine, which re-asks politely.
    assert origin_of(shown, "forged:1") == Origin("12", "Câu 1?", None)
    assert origin_of(None, "1.1:5") is None


def _docx() -> bytes:
    """The smallest ZIP a reader takes for a Word document."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"%PDF-1.7", "application/pdf"),
        (_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (b"GIF89a" + b"\x00" * 16, "image/gif"),
        (b"MZ\x90\x00", "application/octet-stream"),
        (b"<!DOCTYPE html><script>", "application/octet-stream"),
        (b"PK\x03\x04....word/document.xml", "application/octet-stream"),  # a bare ZIP
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 16, "application/octet-stream"),
    ],
    ids=["jpeg", "png", "pdf", "docx", "gif", "exe", "html", "zip", "elf"],
)
def test_file_type_comes_from_the_bytes(data: bytes, mime: str) -> None:
    assert sniff_type(data) == mime


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("%E1%BA%A3nh.jpg", "ảnh.jpg"),
        ("..%2F..%2Fetc%2Fpasswd", "passwd"),
        ("C:%5CUsers%5Clan%5Cdon.pdf", "don.pdf"),
        ("a%00b%0Ac.png", "abc.png"),
        ("", "file"),
        ("x" * 900, "x" * 200),
    ],
    ids=["unicode", "folders", "windows-path", "control-chars", "empty", "too-long"],
)
def test_file_names_from_the_browser_are_cleaned(raw: str, name: str) -> None:
    assert _file_name(raw) == name


def test_the_contact_never_holds_the_cookie() -> None:
    token = "A" * 43
    chat = visitor_chat_id(token)
    assert chat == visitor_chat_id(token)
    assert token not in chat
    assert re.fullmatch(r"w[0-9a-f]{40}", chat)
    assert csrf_token(token) != csrf_token("B" * 43)


def _request(url: str, headers: dict[str, str] | None = None) -> Request:
    scheme, rest = url.split("://")
    host = rest.split("/")[0]
    raw = [(b"host", host.encode())] + [
        (k.lower().encode(), v.encode()) for k, v in (headers or {}).items()
    ]
    return Request({"type": "http", "scheme": scheme, "server": (host.split(":")[0], 80),
                    "path": "/", "headers": raw, "query_string": b""})  # fmt: skip


def test_cookies_are_secure_where_the_browser_keeps_them() -> None:
    https = cookie_header("c", "v", _request("https://chat.example.vn/"), max_age=60)
    assert "Secure; SameSite=None; Partitioned" in https
    local = cookie_header("c", "v", _request("http://127.0.0.1:8080/"), max_age=60)
    assert "Secure" in local
    proxied = _request("http://chat.example.vn/", {"X-Forwarded-Proto": "https"})
    assert "Secure" in cookie_header("c", "v", proxied, max_age=60)
    plain = cookie_header("c", "v", _request("http://192.168.1.20:8080/"), max_age=60)
    assert "Secure" not in plain
    assert "SameSite=Lax" in plain
    assert "HttpOnly" in plain
    kiosk = cookie_header(
        "k", "v", _request("https://chat.example.vn/"), max_age=60, cross_site=False
    )
    assert "SameSite=Strict" in kiosk


def test_frames_only_from_the_allowed_sites() -> None:
    assert "frame-ancestors 'self';" in security_headers(())["Content-Security-Policy"] + ";"
    both = security_headers(("https://a.gov.vn", "https://b.gov.vn"))["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://a.gov.vn https://b.gov.vn" in both


def test_rate_limiter_and_wrong_tries() -> None:
    limiter = RateLimiter(rate=1, burst=2)
    assert [limiter.allow("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.allow("k", now=1.0) == 0.0
    assert limiter.allow("other", now=1.0) == 0.0
    tries = WrongTries(limit=2, window_s=10)
    tries.wrong("a", now=0.0)
    assert not tries.blocked("a", now=1.0)
    tries.wrong("a", now=1.0)
    assert tries.blocked("a", now=2.0)
    assert not tries.blocked("a", now=11.5)


def test_messages_as_the_page_receives_them() -> None:
    assert body_of(TextMessage("Xin chào", (("menu:help", "Hướng dẫn"),), "menu.welcome")) == (
        {"kind": "text", "text": "Xin chào", "choices": [["menu:help", "Hướng dẫn"]]},
        None,
    )
    assert body_of(EditMessage("7", "Câu 1 → 5", (), "choice.answered"))[0] == {
        "kind": "edit", "target": 7, "text": "Câu 1 → 5", "choices": [],
    }  # fmt: skip
    assert body_of(ImageMessage(b"PNG", "c.png", "Biểu đồ", "Chỉ số 80%")) == (
        {"kind": "image", "text": "Biểu đồ", "alt": "Chỉ số 80%"},
        b"PNG",
    )
    with pytest.raises(PermanentSendError):
        body_of(EditMessage("tg-7", "x"))
    with pytest.raises(PermanentSendError):
        body_of(DocumentMessage(b"x", "a.xlsx"))


def test_every_label_the_page_uses_is_in_vietnamese() -> None:
    vi = labels().messages["vi"]
    en = labels().messages["en"]
    used: set[str] = set()
    for path in [*STATIC_DIR.glob("*.js"), *Path(LABELS_DIR.parent).glob("*.py")]:
        used.update(re.findall(r"""["'](web\.[a-z_]+)["']""", path.read_text(encoding="utf-8")))
    assert len(used) > 30
    assert sorted(used - set(vi)) == []
    assert sorted(set(en) - set(vi)) == []
    assert [k for k in vi if placeholders(vi[k]) != placeholders(en.get(k, vi[k]))] == []


@pytest.mark.parametrize("mode", ["chat", "embed", "kiosk", "pin"])
def test_pages_have_no_inline_script_or_style(mode: str) -> None:
    page = render_page(mode, "vi", "Sở <Xây> dựng", "t0ken")  # type: ignore[arg-type]
    assert "<script>" not in page
    assert "style=" not in page
    assert "<style" not in page
    assert "Sở &lt;Xây&gt; dựng" in page
    assert "Sở <Xây> dựng" not in page.split('id="labels">')[0]
    # The labels' JSON cannot close its own <script> element.
    labels_json = page.split('id="labels">')[1].split("</script>")[0]
    assert "<" not in labels_json
