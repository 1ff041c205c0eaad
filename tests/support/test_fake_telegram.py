"""Tests of the fake Telegram server, driven by python-telegram-bot's own client and by httpx.

Using ``telegram.Bot`` proves the wire format: if PTB can send to the fake and parse its answers
into Message/Update objects, the real bot process can too.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter

from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token_x"
USER = 777


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    # PTB 22 warns when RetryAfter.retry_after is read as an int; opting in to timedelta keeps
    # filterwarnings=error quiet (the real bot process should set the same variable).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token=TOKEN, username="sipas_test_bot") as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Rất hài lòng", callback_data="q1:5")],
            [InlineKeyboardButton("Không hài lòng", callback_data="q1:1")],
        ]
    )


def seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "sipas_test_bot"
    assert me.first_name == "SIPAS Test"
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"
    assert fake.calls_to("getMe")[0].status == 200


async def test_send_message_with_keyboard_is_stored_and_returned(
    fake: FakeTelegram, bot: Bot
) -> None:
    sent = await bot.send_message(USER, "Câu 1: Anh/chị hài lòng?", reply_markup=keyboard())
    assert sent.message_id == 1
    assert sent.chat.id == USER
    assert sent.chat.type == "private"
    assert sent.text == "Câu 1: Anh/chị hài lòng?"
    assert sent.reply_markup == keyboard()
    assert sent.from_user is not None
    assert sent.from_user.is_bot

    [stored] = fake.messages(USER)
    assert stored.message_id == 1
    assert stored.text == "Câu 1: Anh/chị hài lòng?"
    assert fake.keyboard(stored) == [("Rất hài lòng", "q1:5"), ("Không hài lòng", "q1:1")]
    second = await bot.send_message(USER, "tiếp")
    assert second.message_id == 2
    assert second.reply_markup is None
    last = fake.last_message(USER)
    assert last is not None
    assert last.message_id == 2
    # the decoded params keep JSON values as objects
    assert fake.calls_to("sendMessage")[0].params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Rất hài lòng",
        "callback_data": "q1:5",
    }


async def test_edit_then_identical_edit_is_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Câu 1", reply_markup=keyboard())
    edited = await bot.edit_message_text(
        "Câu 1 ✓", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard()
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Câu 1 ✓"
    assert edited.edit_date is not None

    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text(
            "Câu 1 ✓", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard()
        )

    # Like Telegram: editing the text without reply_markup drops the keyboard.
    await bot.edit_message_text("Câu 1 ✓✓", chat_id=USER, message_id=sent.message_id)
    stored = fake.messages(USER)[0]
    assert stored.text == "Câu 1 ✓✓"
    assert stored.reply_markup is None
    assert [version.text for version in stored.history] == ["Câu 1", "Câu 1 ✓"]
    assert stored.edited_at is not None
    assert stored.edited_at >= stored.sent_at

    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard())
    assert fake.keyboard(fake.messages(USER)[0])[0] == ("Rất hài lòng", "q1:5")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard())
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=99)
    assert [c.status for c in fake.calls_to("editMessageText")] == [200, 400, 200, 400]


async def test_long_polling_returns_text_and_callback_query(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Câu 1", reply_markup=keyboard())
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # nothing queued yet: the fake holds the request open
    started = time.monotonic()
    first_id = fake.user_sends_text(USER, "xin chào")
    [update] = await poll
    assert time.monotonic() - started < 2  # returned as soon as the update arrived
    assert isinstance(update, Update)
    assert update.update_id == first_id == 10000
    assert update.message is not None
    assert update.message.text == "xin chào"
    assert update.message.chat.id == USER
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "vi"

    press_id = fake.user_presses(USER, sent.message_id, "q1:5")
    updates = await bot.get_updates(offset=first_id + 1, timeout=2)
    assert [u.update_id for u in updates] == [press_id]
    query = updates[0].callback_query
    assert query is not None
    assert query.data == "q1:5"
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert query.message.chat.id == USER
    assert query.from_user.id == USER

    assert await bot.answer_callback_query(query.id, text="Đã ghi nhận")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)  # Telegram takes one answer per query
    answers = fake.callback_answers
    assert [a.status for a in answers] == [200, 400]
    assert answers[0].text == "Đã ghi nhận"
    assert answers[0].update_id == press_id
    assert answers[0].delay is not None
    assert 0 <= answers[0].delay < 5

    await bot.edit_message_text("Câu 1 ✓", chat_id=USER, message_id=sent.message_id)
    trips = fake.round_trips()
    assert len(trips) == 1  # the text got no reply; the press got the edit
    assert 0 <= trips[0] < 5


async def test_commands_get_the_command_entity(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends_command(USER, "/start", "R-7Q2K")
    fake.user_sends_text(USER, "/help")
    start, help_ = await bot.get_updates(timeout=1)
    assert start.message is not None
    assert help_.message is not None
    assert start.message.text == "/start R-7Q2K"
    assert start.message.parse_entities() == {start.message.entities[0]: "/start"}
    assert help_.message.entities[0].type == "bot_command"
    assert help_.message.entities[0].length == 5


async def test_offset_confirms_and_drops_updates(fake: FakeTelegram, bot: Bot) -> None:
    ids = [fake.user_sends_text(USER, f"m{n}") for n in range(3)]
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == ids
    # not confirmed yet: asking again returns the same updates
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == ids
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], timeout=0)] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(timeout=0, limit=1)] == ids[1:2]
    assert await bot.get_updates(offset=ids[2] + 1, timeout=0) == ()
    # confirmed updates are gone for good
    assert await bot.get_updates(timeout=0) == ()
    assert fake.pending_update_ids() == []


async def test_deliver_again_redelivers_the_same_update_id(fake: FakeTelegram, bot: Bot) -> None:
    first = fake.user_sends_text(USER, "một")
    second = fake.user_sends_text(USER, "hai")
    got = await bot.get_updates(timeout=0)
    assert [u.update_id for u in got] == [first, second]
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()

    fake.deliver_again(first)
    again = await bot.get_updates(offset=second + 1, timeout=1)
    assert [u.update_id for u in again] == [first]
    assert again[0].message is not None
    assert again[0].message.text == "một"
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    assert len(fake.update(first).deliveries) == 2


async def test_allowed_updates_filters_kinds(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Câu 1", reply_markup=keyboard())
    fake.user_sends_text(USER, "text")
    press = fake.user_presses(USER, sent.message_id, "q1:1")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.update_id for u in updates] == [press]


async def test_fail_next_429_raises_retry_after_and_stores_nothing(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=2)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "một")
    assert seconds(caught.value.retry_after) == 2
    assert fake.messages(USER) == []
    [failed] = fake.calls_to("sendMessage")
    assert failed.status == 429
    assert failed.description == "Too Many Requests: retry after 2"

    sent = await bot.send_message(USER, "một")  # only the next call failed
    assert sent.message_id == 1
    assert [m.text for m in fake.messages(USER)] == ["một"]


async def test_fail_next_for_one_chat_and_5xx(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=502, chat_id=USER, count=2)
    await bot.send_message(USER + 1, "other chat is fine")
    for _ in range(2):
        with pytest.raises(Exception, match=r"(?i)Bad Gateway"):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "x")
    assert [c.status for c in fake.calls_to("sendMessage")] == [200, 502, 502, 200]


async def test_forbidden_when_blocked(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "x")

    fake.block(USER)
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)blocked"):
            await bot.send_message(USER, "y")
    await bot.send_message(USER + 1, "y")
    assert [m.text for m in fake.messages(USER)] == ["x"]
    fake.unblock(USER)
    await bot.send_message(USER, "z")


async def test_set_and_get_my_commands_per_language(fake: FakeTelegram, bot: Bot) -> None:
    vi = [BotCommand("start", "Bắt đầu khảo sát"), BotCommand("forget", "Xoá dữ liệu")]
    en = [BotCommand("start", "Start the survey")]
    assert await bot.set_my_commands(vi, language_code="vi")
    assert await bot.set_my_commands(en, scope=BotCommandScopeDefault(), language_code="en")
    assert await bot.get_my_commands(language_code="vi") == tuple(vi)
    assert await bot.get_my_commands(language_code="en") == tuple(en)
    assert await bot.get_my_commands() == ()
    assert fake.commands("vi")[1] == {"command": "forget", "description": "Xoá dữ liệu"}
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "upper case is invalid")])
    assert await bot.delete_my_commands(language_code="vi")
    assert fake.commands("vi") == []


async def test_send_document_keeps_the_bytes(fake: FakeTelegram, bot: Bot) -> None:
    data = bytes(range(256)) * 4 + b"\r\n--tail\r\n"
    sent = await bot.send_document(USER, data, filename="bien-nhan.pdf", caption="Biên nhận")
    assert sent.document is not None
    assert sent.document.file_name == "bien-nhan.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert sent.document.file_size == len(data)
    assert sent.caption == "Biên nhận"
    [stored] = fake.messages(USER)
    assert stored.file_data == data
    assert stored.method == "sendDocument"

    # the file_id can be reused and the file downloaded again through getFile
    again = await bot.send_document(USER, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data

    photo = await bot.send_photo(USER, b"\x89PNG\r\n\x1a\n....", caption="QR")
    assert photo.photo[-1].file_size == 12
    assert fake.messages(USER)[-1].file_data == b"\x89PNG\r\n\x1a\n...."


async def test_html_is_checked(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "<b>Đậm</b> &amp; <i>nghiêng</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
        await bot.send_message(USER, "dòng 1<br>dòng 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag"):
        await bot.send_message(USER, "<b>Đậm", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "   ")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=markup)
    assert len(fake.messages(USER)) == 1


async def test_raw_http_errors_and_body_formats(fake: FakeTelegram) -> None:
    base = f"http://127.0.0.1:{fake.port}"
    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        wrong = await client.post("/bot999:nope/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

        unknown = await client.post(f"/bot{TOKEN}/sendTelepathy")
        assert unknown.status_code == 404
        assert unknown.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }

        me = await client.get(f"/bot{TOKEN}/getme")  # method names are case-insensitive
        assert me.json()["result"]["id"] == 123456

        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        as_json = await client.post(
            f"/bot{TOKEN}/sendMessage",
            json={"chat_id": USER, "text": "[1, 2]", "reply_markup": markup},
        )
        assert as_json.json()["result"]["reply_markup"] == markup
        as_query = await client.get(
            f"/bot{TOKEN}/sendMessage", params={"chat_id": USER, "text": "q"}
        )
        assert as_query.json()["ok"]
        as_form = await client.post(
            f"/bot{TOKEN}/sendMessage",
            data={"chat_id": str(USER), "text": "[not json]", "reply_markup": json.dumps(markup)},
        )
        assert as_form.json()["result"]["text"] == "[not json]"
        assert [m.text for m in fake.messages(USER)] == ["[1, 2]", "q", "[not json]"]
        assert fake.messages(USER)[2].reply_markup == markup

        fake.fail_next("sendMessage", status=429, retry_after=7)
        limited = await client.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": "1", "text": "x"})
        assert limited.status_code == 429
        assert limited.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }

        # a newer getUpdates ends the older one, like two bot instances polling
        older = asyncio.create_task(client.post(f"/bot{TOKEN}/getUpdates", data={"timeout": "5"}))
        await asyncio.sleep(0.2)
        newer = await client.post(f"/bot{TOKEN}/getUpdates", data={"timeout": "0"})
        assert newer.json() == {"ok": True, "result": []}
        ended = await older
        assert ended.status_code == 409
        assert "terminated by other getUpdates request" in ended.json()["description"]


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str | None, dict[str, object]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(
            (self.headers.get("X-Telegram-Bot-Api-Secret-Token"), json.loads(body))
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_webhook_mode(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example/telegram", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example/telegram"
    assert fake.webhook_secret == "s3cret"
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates(timeout=0)

    update_id = fake.user_sends_text(USER, "qua webhook")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    _Hook.received = []
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=hook.serve_forever)
    thread.start()
    try:
        url = f"http://127.0.0.1:{hook.server_address[1]}/telegram"
        status = await asyncio.to_thread(fake.post_update_to, url, update_id, "s3cret")
    finally:
        hook.shutdown()
        hook.server_close()
        thread.join()
    assert status == 200
    [(secret, payload)] = _Hook.received
    assert secret == "s3cret"
    assert payload["update_id"] == update_id
    assert (await bot.get_webhook_info()).pending_update_count == 0

    assert await bot.delete_webhook()
    assert fake.webhook_url == ""
    assert [url for url, _ in fake.webhook_history] == ["https://bot.example/telegram", ""]


def test_wait_for_and_rates_from_another_thread(fake: FakeTelegram) -> None:
    def send_later() -> None:
        async def go() -> None:
            async with Bot(TOKEN, base_url=fake.base_url) as client:
                for n in range(3):
                    await client.send_message(USER, f"tin {n}")

        asyncio.run(go())

    sender = threading.Thread(target=send_later)
    sender.start()
    try:
        messages = fake.wait_for_messages(USER, 3, timeout=5)
    finally:
        sender.join()
    assert [m.text for m in messages] == ["tin 0", "tin 1", "tin 2"]
    assert fake.sends_per_second(USER) == 3  # three sends well within one second
    assert fake.sends_per_second(USER + 1) == 0
    assert fake.sends_per_second() == 3

    with pytest.raises(TimeoutError, match=r"(?s)waited 0.2 s for 4 message.*sendMessage"):
        fake.wait_for_messages(USER, 4, timeout=0.2)


async def test_user_files_parse_and_download(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends_photo(USER, data=b"jpeg-bytes", caption="ảnh hồ sơ")
    fake.user_sends_document(USER, data=b"%PDF-1.7", file_name="don.pdf")
    photo_update, document_update = await bot.get_updates(timeout=0)
    assert photo_update.message is not None
    assert document_update.message is not None
    assert photo_update.message.caption == "ảnh hồ sơ"
    assert len(photo_update.message.photo) == 2
    document = document_update.message.document
    assert document is not None
    assert document.file_name == "don.pdf"
    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.7"


async def test_stop_answers_a_pending_long_poll() -> None:
    server = FakeTelegram(token=TOKEN).start()
    async with httpx.AsyncClient(trust_env=False) as client:
        poll = asyncio.create_task(
            client.post(f"{server.base_url}{TOKEN}/getUpdates", data={"timeout": "30"})
        )
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.to_thread(server.stop)
        response = await poll
    assert time.monotonic() - started < 3
    assert response.json() == {"ok": True, "result": []}
    server.stop()  # stopping twice is harmless
