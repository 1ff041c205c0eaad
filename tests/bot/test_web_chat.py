"""The web chat's routes in process (on SQLite and PostgreSQL): the cookie, CSRF, limits,
headers, a post through the engine and the outbox to the event stream, uploads, the kiosk."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.channels.web import CHANNEL, WebBus, WebChannel, read_upload, visitor_chat_id
from bot.limits import WebLimit
from bot.runtime.dispatch import Dispatcher
from bot.runtime.send_budget import Limits
from bot.runtime.sender import OutboxSender
from bot.web.chat import Limiters, WebChat, WebSettings
from bot.web.guard import CSRF_HEADER, KIOSK_COOKIE, VISITOR_COOKIE, RateLimiter
from bot.web.stream import POLL_S, Streams, cursor
from storage import read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.web import append_message
from storage.schema import survey_responses, web_uploads
from tests.support.clock import SequentialClock, SequentialIds

BASE = "https://chat.test"
PIN = "2468"
PORTAL = "https://portal.example.gov.vn"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Web:
    client: httpx.AsyncClient
    sender: OutboxSender
    stop: asyncio.Event
    engine: AsyncEngine

    async def open(self, path: str = "/") -> tuple[httpx.Response, str]:
        page = await self.client.get(path)
        assert page.status_code == 200
        marker = 'name="csrf-token" content="'
        start = page.text.index(marker) + len(marker)
        return page, page.text[start : page.text.index('"', start)]

    async def post(
        self, csrf: str, payload: Mapping[str, object], path: str = "/chat/send"
    ) -> httpx.Response:
        return await self.client.post(
            path, content=json.dumps(payload), headers={CSRF_HEADER: csrf}
        )

    async def events(
        self, after: int = 0, last_event_id: str | None = None
    ) -> list[tuple[str, dict[str, object]]]:
        """The stream as it stands (the stop is set, so it ends after one pass)."""
        await self.sender.drain_once()
        self.stop.set()
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        response = await self.client.get(f"/chat/events?after={after}", headers=headers)
        self.stop.clear()
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        found: list[tuple[str, dict[str, object]]] = []
        for block in response.text.split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "data" in lines:
                found.append((lines.get("event", "message"), json.loads(lines["data"])))
        return found


@pytest.fixture
async def web(engine: AsyncEngine) -> AsyncIterator[Web]:
    async with _web(engine) as made:
        yield made


def _web(engine: AsyncEngine, limiters: Limiters | None = None, pin: str | None = PIN):  # type: ignore[no-untyped-def]
    import contextlib

    @contextlib.asynccontextmanager
    async def make() -> AsyncIterator[Web]:
        clock = SequentialClock()
        dispatcher = Dispatcher(engine, clock=clock, new_id=SequentialIds())
        bus = WebBus()
        sender = OutboxSender(engine, WebChannel(engine, bus, clock), clock, Limits(500, 50, 50))
        stop = asyncio.Event()
        settings = WebSettings(kiosk_pin=pin, kiosk_idle_seconds=30, widget_origins=(PORTAL,))
        chat = WebChat(engine, dispatcher, bus, settings, stop, limiters)
        app = Starlette(routes=chat.routes())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield Web(client, sender, stop, engine)
        await dispatcher.close()

    return make()


async def test_the_page_has_an_icon_and_favicon_ico_leads_to_it(web: Web) -> None:
    page, _ = await web.open()
    link = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', page.text)
    assert link is not None
    icon = await web.client.get(link.group(1))
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    moved = await web.client.get("/favicon.ico")
    assert (moved.status_code, moved.headers["location"]) == (301, link.group(1))


async def test_the_page_gives_an_anonymous_cookie_and_strict_headers(web: Web) -> None:
    page, csrf = await web.open()
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{VISITOR_COOKIE}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/"):
        assert attribute in cookie
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert f"frame-ancestors 'self' {PORTAL}" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    # No external CDN: every script and stylesheet comes from this server.
    assert "://" not in page.text.split("<body")[0].replace('content="width', "")
    assert 'lang="vi"' in page.text
    assert "Lấy ý kiến người dân" in page.text
    assert len(csrf) == 40
    # The same visitor keeps the cookie: a second visit sets none.
    again = await web.client.get("/")
    assert "set-cookie" not in again.headers
    english = await web.client.get("/?lang=en")
    assert 'lang="en"' in english.text
    assert "Citizens&#x27; feedback" in english.text


async def test_posts_need_the_cookie_the_token_and_this_origin(web: Web) -> None:
    _, csrf = await web.open()
    body = {"id": "abcdefgh01", "text": "/start"}
    no_token = await web.client.post("/chat/send", content=json.dumps(body))
    assert (no_token.status_code, no_token.json()["error"]) == (403, "web.expired")
    wrong = await web.post("0" * 40, body)
    assert wrong.status_code == 403
    other_site = await web.client.post(
        "/chat/send",
        content=json.dumps(body),
        headers={CSRF_HEADER: csrf, "Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    fetched_cross_site = await web.client.post(
        "/chat/send",
        content=json.dumps(body),
        headers={CSRF_HEADER: csrf, "Sec-Fetch-Site": "cross-site"},
    )
    assert fetched_cross_site.status_code == 403
    stranger = httpx.AsyncClient(transport=web.client._transport, base_url=BASE)
    async with stranger:
        refused = await stranger.post(
            "/chat/send", content=json.dumps(body), headers={CSRF_HEADER: csrf}
        )
    assert refused.status_code == 403  # the token belongs to another visitor's cookie
    same_site = await web.client.post(
        "/chat/send", content=json.dumps(body), headers={CSRF_HEADER: csrf, "Origin": BASE}
    )
    assert same_site.status_code == 200


async def test_a_post_reaches_the_engine_and_its_reply_the_stream(web: Web) -> None:
    _, csrf = await web.open()
    answer = await web.post(csrf, {"id": "abcdefgh01", "text": "/start"})
    assert answer.json() == {"ok": True, "busy": False}
    events = await web.events()
    assert [kind for kind, _ in events] == ["message", "ready"]
    welcome = events[0][1]
    assert welcome["kind"] == "text"
    assert "Xin chào Ông/Bà" in str(welcome["text"])
    assert ["menu:survey", "Đánh giá mức độ hài lòng"] in welcome["choices"]  # type: ignore[operator]
    assert events[1][1] == {"empty": False, "busy": False}
    # A retried post (same id) is recognised and dropped: one welcome, not two.
    await web.post(csrf, {"id": "abcdefgh01", "text": "/start"})
    assert [k for k, _ in await web.events()] == ["message", "ready"]
    # A button on that message: the engine shows the answer on it (an edit), then asks.
    pressed = await web.post(
        csrf, {"id": "abcdefgh02", "choice": "menu:survey", "message": welcome["id"]}
    )
    assert pressed.json()["busy"] is True
    after = await web.events(after=int(welcome["id"]))  # type: ignore[call-overload]
    kinds = [body.get("kind") for _, body in after]
    assert kinds[0] == "edit"
    assert after[0][1]["target"] == welcome["id"]
    assert "→ Đánh giá mức độ hài lòng" in str(after[0][1]["text"])
    assert after[0][1]["choices"] == []
    assert "đồng ý tham gia" in str(after[1][1]["text"])
    # Reconnecting with Last-Event-ID resumes after it: nothing twice, nothing lost.
    last = str(after[-2][1]["id"])
    resumed = await web.events(last_event_id=last)
    assert resumed == [("ready", {"empty": False, "busy": True})]


@pytest.mark.parametrize(
    ("text", "too_long"),
    [("😡" * 4096, False), ("😡" * 4097, True), ("ệ" * 4097, True), ("𝕏a" * 2048, False)],
)
async def test_a_text_within_the_engines_limit_is_never_refused_for_its_bytes(
    web: Web, text: str, too_long: bool
) -> None:
    _, csrf = await web.open()
    await web.post(csrf, {"id": "abcdefgh00", "text": "/start"})
    await web.events()
    web.stop.clear()
    answer = await web.post(csrf, {"id": "abcdefgh01", "text": text})  # ASCII-escaped JSON
    assert answer.status_code == 200, answer.text
    said = " ".join(str(body.get("text")) for _, body in await web.events(after=1))
    assert ("Tin nhắn quá dài (4097 ký tự" in said) is too_long


async def test_a_text_far_over_the_limit_is_told_its_length(web: Web) -> None:
    """5,000 characters (within the body cap): the engine's hint with the real length and the
    limit, in Vietnamese, as on every channel; never a bare refusal."""
    _, csrf = await web.open()
    await web.post(csrf, {"id": "abcdefgh00", "text": "/start"})
    await web.events()
    web.stop.clear()
    answer = await web.post(csrf, {"id": "abcdefgh01", "text": "x" * 5000})
    assert answer.status_code == 200, answer.text
    said = " ".join(str(body.get("text")) for _, body in await web.events(after=1))
    assert "Tin nhắn quá dài (5000 ký tự; tối đa 4096)" in said


async def test_limits_on_what_a_browser_may_send(web: Web) -> None:
    _, csrf = await web.open()
    odd_choice = await web.post(csrf, {"id": "abcdefgh02", "choice": "a b"})
    assert odd_choice.status_code == 422
    extra = await web.post(csrf, {"id": "abcdefgh03", "text": "hi", "admin": True})
    assert extra.status_code == 422
    bad_id = await web.post(csrf, {"id": "x", "text": "hi"})
    assert bad_id.status_code == 422
    huge = await web.client.post(
        "/chat/send",
        content=b'{"id":"abcdefgh04","text":"' + b"x" * WebLimit.MAX_JSON_BODY + b'"}',
        headers={CSRF_HEADER: csrf},
    )
    assert huge.status_code == 413
    big_file = await web.client.post(
        "/chat/upload",
        content=PNG + b"\x00" * WebLimit.MAX_UPLOAD,
        headers={CSRF_HEADER: csrf, "X-Client-Id": "abcdefgh05"},
    )
    assert (big_file.status_code, big_file.json()["error"]) == (413, "web.too_large")


async def test_rate_limits_per_visitor_and_per_address(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot")
    limiters = Limiters(
        visitor=RateLimiter(rate=0.001, burst=3), address=RateLimiter(rate=0.001, burst=7)
    )
    async with _web(engine, limiters) as web:
        _, csrf = await web.open()
        codes = [
            (await web.post(csrf, {"id": f"abcdefgh{n:02d}", "text": "xin chào"})).status_code
            for n in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        refused = await web.post(csrf, {"id": "abcdefgh99", "text": "xin chào"})
        assert refused.json()["error"] == "web.too_fast"
        assert int(refused.headers["retry-after"]) >= 1
        # Five posts from this address so far (refused ones count too): two are left for
        # another visitor at the same counter, then none.
        other = httpx.AsyncClient(transport=web.client._transport, base_url=BASE)
        async with other:
            page = await other.get("/")
            token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            more = [
                (
                    await other.post(
                        "/chat/send",
                        content=json.dumps({"id": f"zzzzzzzz{n:02d}", "text": "hi"}),
                        headers={CSRF_HEADER: token},
                    )
                ).status_code
                for n in range(3)
            ]
        assert more == [200, 200, 429]
    # A refusal names no chat, not even hashed: their times would follow a visitor's steps.
    refusals = [r.getMessage() for r in caplog.records if "web_refused" in r.getMessage()]
    assert refusals
    assert not [line for line in refusals if "chat" in line]


async def _at_the_files_step(web: Web) -> str:
    """A visitor's complaint up to where files are taken; their CSRF token."""
    _, csrf = await web.open()
    for n, payload in enumerate(
        [
            {"text": "/phananh"},
            {"choice": "c.cat:capphep"},
            {"text": "Công trình bên cạnh xây lấn sang lối đi chung của khu phố."},
        ]
    ):
        assert (await web.post(csrf, {"id": f"abcdefgh{n:02d}", **payload})).status_code == 200
    return csrf


async def test_an_upload_is_kept_and_reaches_the_complaint_as_an_attachment(web: Web) -> None:
    csrf = await _at_the_files_step(web)
    uploaded = await web.client.post(
        "/chat/upload",
        content=PNG,
        headers={
            CSRF_HEADER: csrf,
            "X-Client-Id": "abcdefgh10",
            "X-File-Name": "..%2F..%2Fetc%2F" + quote("ảnh lối đi.png"),
        },
    )
    assert uploaded.json() == {"ok": True, "busy": True}
    events = await web.events()
    texts = [str(body.get("text")) for _, body in events]
    assert any("Đã nhận tệp 1/5" in text for text in texts)
    async with read_transaction(web.engine) as conn:
        row = (await conn.execute(select(web_uploads))).one()
    assert row.name == "ảnh lối đi.png"  # no folders from the browser's name
    assert row.mime == "image/png"  # from the bytes, not from what the browser said
    assert await read_upload(web.engine, row.token) == PNG


@pytest.mark.parametrize(
    ("data", "name", "kept", "mime"),
    [
        (b"%PDF-1.7\n" + b"x" * 64, "scan.bin", True, "application/pdf"),
        (b"%PDF-1.7\n" + b"x" * 64, "", True, "application/pdf"),
        (PNG, "don.pdf", True, "image/png"),
        (b"MZ\x90\x00" + b"\x00" * 64, "don.pdf", False, "application/octet-stream"),
        (b"<!DOCTYPE html><script>x</script>", "don.pdf", False, "application/octet-stream"),
    ],
    ids=["pdf-wrong-extension", "pdf-no-name", "png-named-pdf", "exe-named-pdf", "html-named-pdf"],
)
async def test_an_upload_is_what_its_bytes_are(
    web: Web, data: bytes, name: str, kept: bool, mime: str
) -> None:
    """The browser's name and type decide nothing: a real PDF under an odd name is taken, a
    program or a web page named ``don.pdf`` is refused at once with the type message."""
    csrf = await _at_the_files_step(web)
    uploaded = await web.client.post(
        "/chat/upload",
        content=data,
        headers={
            CSRF_HEADER: csrf,
            "X-Client-Id": "abcdefgh10",
            "X-File-Name": name,
            "Content-Type": "application/pdf",
        },
    )
    assert uploaded.status_code == 200
    texts = [str(body.get("text")) for _, body in await web.events()]
    assert any("Đã nhận tệp 1/5" in text for text in texts) is kept
    assert any("Loại tệp này chưa nhận được" in text for text in texts) is not kept
    async with read_transaction(web.engine) as conn:
        row = (await conn.execute(select(web_uploads))).one()
    assert row.mime == mime


async def test_the_kiosk_needs_the_staff_pin_and_starts_afresh(web: Web) -> None:
    locked, csrf = await web.open("/kiosk")
    assert 'data-mode="pin"' in locked.text
    wrong = await web.post(csrf, {"pin": "0000"}, "/kiosk/unlock")
    assert (wrong.status_code, wrong.json()["error"]) == (403, "web.kiosk_pin_wrong")
    reset_refused = await web.post(csrf, {}, "/kiosk/reset")
    assert reset_refused.status_code == 403
    unlocked = await web.post(csrf, {"pin": PIN}, "/kiosk/unlock")
    assert unlocked.status_code == 200
    assert f"{KIOSK_COOKIE}=" in unlocked.headers["set-cookie"]
    assert "SameSite=Strict" in unlocked.headers["set-cookie"]
    kiosk, csrf = await web.open("/kiosk")
    assert 'data-mode="kiosk"' in kiosk.text
    assert 'data-idle="30"' in kiosk.text
    assert "frame-ancestors 'self'" in kiosk.headers["content-security-policy"]
    first_visitor = web.client.cookies[VISITOR_COOKIE]
    await web.open("/kiosk")
    assert web.client.cookies[VISITOR_COOKIE] != first_visitor  # every kiosk page is fresh
    _, csrf = await web.open("/kiosk")
    visitor = web.client.cookies[VISITOR_COOKIE]
    await web.post(csrf, {"id": "abcdefgh01", "text": "/khaosat"})
    started = await web.post(csrf, {"id": "abcdefgh02", "choice": "consent:yes"})
    assert started.json()["busy"] is True
    reset = await web.post(csrf, {}, "/kiosk/reset")
    assert reset.status_code == 200
    assert web.client.cookies[VISITOR_COOKIE] != visitor
    async with read_transaction(web.engine) as conn:
        statuses = [r.status for r in await conn.execute(select(survey_responses.c.status))]
    assert statuses == ["abandoned"]  # the last citizen's half-done survey counts as partial
    fresh = reset.json()["csrf"]
    after = await web.events()
    assert after == [("ready", {"empty": True, "busy": False})]
    # Locking needs the PIN too.
    assert (await web.post(fresh, {"pin": "1111"}, "/kiosk/lock")).status_code == 403
    locked_again = await web.post(fresh, {"pin": PIN}, "/kiosk/lock")
    assert "Max-Age=0" in locked_again.headers["set-cookie"]


async def test_wrong_pins_make_the_address_wait(web: Web) -> None:
    _, csrf = await web.open("/kiosk")
    for _ in range(WebLimit.PIN_TRIES):
        assert (await web.post(csrf, {"pin": "0000"}, "/kiosk/unlock")).status_code == 403
    waiting = await web.post(csrf, {"pin": PIN}, "/kiosk/unlock")
    assert (waiting.status_code, waiting.json()["error"]) == (429, "web.kiosk_pin_wait")


async def test_no_pin_no_kiosk(engine: AsyncEngine) -> None:
    async with _web(engine, pin=None) as web:
        assert (await web.client.get("/kiosk")).status_code == 404


async def test_the_widget_script_carries_its_labels(web: Web) -> None:
    script = await web.client.get("/widget.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "__LABELS__" not in script.text
    assert "Hỏi đáp, góp ý" in script.text
    assert "Questions and feedback" in script.text
    assert "?embed=1" in script.text


async def test_pictures_are_only_for_their_visitor(web: Web) -> None:
    _, _csrf = await web.open()
    token = web.client.cookies[VISITOR_COOKIE]
    channel = WebChannel(web.engine, WebBus(), SequentialClock())
    from storage.outbound import ImageMessage

    await channel.send(visitor_chat_id(token), ImageMessage(PNG, "sipas.png", "Biểu đồ", "Tóm tắt"))
    events = await web.events()
    image = events[0][1]
    assert image["kind"] == "image"
    assert image["alt"] == "Tóm tắt"
    shown = await web.client.get(str(image["src"]))
    assert (shown.status_code, shown.headers["content-type"], shown.content) == (
        200,
        "image/png",
        PNG,
    )
    stranger = httpx.AsyncClient(transport=web.client._transport, base_url=BASE)
    async with stranger:
        await stranger.get("/")
        assert (await stranger.get(str(image["src"]))).status_code == 404


def test_the_channel_name_is_web() -> None:
    assert CHANNEL == "web"


async def test_a_stream_delivers_what_this_or_another_process_appends(
    engine: AsyncEngine,
) -> None:
    """This process's appends wake the stream at once; another process's are found by its
    poll. Either way the page gets every message, in order, once."""
    stop = asyncio.Event()
    bus = WebBus()
    streams = Streams(engine, bus, stop)
    chat = "w" + "1" * 40
    stream = streams.stream(chat, "192.0.2.1", 0)
    assert await anext(stream) == "retry: 2000\n\n"
    assert await anext(stream) == 'event: ready\ndata: {"empty": true, "busy": false}\n\n'
    waiting = asyncio.create_task(_next(stream))
    await asyncio.sleep(0.05)
    async with write_transaction(engine) as conn:  # another process: no wake-up here
        first = await append_message(
            conn, chat, {"kind": "text", "text": "một", "choices": []}, datetime.now(UTC)
        )
    got = await asyncio.wait_for(waiting, POLL_S + 5)
    assert got.startswith(f"id: {first}\ndata: ")
    assert json.loads(got.split("data: ", 1)[1])["text"] == "một"
    channel = WebChannel(engine, bus, lambda: datetime.now(UTC))
    started = asyncio.get_running_loop().time()
    waiting = asyncio.create_task(_next(stream))
    await channel.send(chat, TextMessage("hai"))
    got = await asyncio.wait_for(waiting, POLL_S + 5)
    assert json.loads(got.split("data: ", 1)[1])["text"] == "hai"
    assert asyncio.get_running_loop().time() - started < POLL_S  # woken, not polled
    assert streams.full(chat, "192.0.2.1") is False
    stop.set()
    await stream.aclose()
    assert bus.streams(chat) == 0


async def _next(stream: AsyncGenerator[str, None]) -> str:
    return await anext(stream)


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 0), ("", 0), ("42", 42), ("-1", 0), ("9" * 19, 0), ("x", 0)]
)
def test_the_cursor_a_page_sends_back(raw: str | None, expected: int) -> None:
    assert cursor(raw) == expected


async def test_a_stream_cancelled_while_waiting_leaves_no_task_behind() -> None:
    from bot.web.stream import _woken

    before = asyncio.all_tasks()
    waiting = asyncio.create_task(_woken(asyncio.Event(), asyncio.Event(), 60))
    await asyncio.sleep(0.01)
    waiting.cancel()  # the browser went away
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == []
