"""End to end over the fake Bot API: messages as citizens really send them.

A sticker where text is expected, a photo whose caption is the whole description, an album
of three photos (three updates sharing a ``media_group_id``), and a description edited
before and after «Gửi» (``edited_message``, which the bot asks Telegram for).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.support.bot_process import BotProcess, press, send_and_wait
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_e2e import bot, fake, texts, wait_text

pytestmark = pytest.mark.e2e
__all__ = ["bot", "fake"]  # the fixtures

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
STICKER = {
    "file_id": "STICKER1", "file_unique_id": "S1", "type": "regular", "width": 512,
    "height": 512, "is_animated": False, "is_video": False,
}  # fmt: skip
#: Kinds of message without text, as Telegram sends them; a poll whose option lacks
#: ``persistent_id`` (which the Telegram library requires since Bot API 9.6) among them.
STRAYS: list[tuple[dict[str, Any], str]] = [
    ({"poll": {
        "id": "5012", "question": "Câu hỏi?", "options": [{"text": "A", "voter_count": 0}],
        "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
        "allows_multiple_answers": False,
    }}, "cuộc thăm dò"),
    ({"dice": {"emoji": "🎲", "value": 4}}, "biểu tượng xúc xắc"),
    ({"game": {"title": "Trò chơi", "description": "x", "photo": []}}, "trò chơi"),
    ({"venue": {"location": {"latitude": 21.0, "longitude": 105.8}, "title": "Sở",
                "address": "Hà Nội"}}, "địa điểm"),
    ({"story": {"chat": {"id": -100123, "type": "channel"}, "id": 3}}, "tin (story)"),
    ({"giveaway": {"chats": [], "winners_selection_date": 0, "winner_count": 1}},
     "chương trình tặng quà"),
    ({"some_future_kind": {"id": 1}}, "loại tin nhắn này"),
]  # fmt: skip
DESCRIPTION = "Công trình số 5 ngõ 12 xây vượt tầng, lấn chiếm vỉa hè."


def _hint_then_question(fake: FakeTelegram, chat: int, fields: dict[str, Any], named: str) -> None:
    """``fields`` sent at the description step: the hint naming it, then the question."""
    before = len(fake.messages(chat))
    fake.user_sends_message(chat, fields)
    hint = wait_text(fake, chat, f"Chúng tôi chưa đọc được {named}", before)
    again = wait_text(fake, chat, "Mời Ông/Bà viết nội dung", hint)
    assert again == hint + 1


def _complaint(bot: BotProcess) -> tuple[str, list[tuple[str, str]]]:
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        (description,) = conn.execute("SELECT description FROM complaints").fetchone()
        files = conn.execute("SELECT media, channel_file_id FROM complaint_files").fetchall()
    return str(description), [(str(m), str(f)) for m, f in files]


def test_stray_media_caption_and_album(fake: FakeTelegram, bot: BotProcess) -> None:
    chat = 7201
    send_and_wait(fake, chat, "/phananh")
    press(fake, chat, "c.cat:capphep")

    # A sticker where a description is expected: a hint, then the question again.
    _hint_then_question(fake, chat, {"sticker": STICKER}, "nhãn dán")

    # The whole description as a photo's caption: taken, and the photo kept.
    before = len(fake.messages(chat))
    fake.user_sends_photo(chat, data=PHOTO, caption=DESCRIPTION)
    taken = wait_text(fake, chat, "Đã lấy phần chữ kèm ảnh", before)
    received = wait_text(fake, chat, "Đã nhận tệp 1/5.", taken)
    assert received == taken + 1
    wait_text(fake, chat, "Đã nhận 1 tệp.", received)

    # An album of three photos: one acknowledgement and one prompt, not six messages.
    before = len(fake.messages(chat))
    fake.user_sends_album(chat, [PHOTO + bytes([n]) for n in range(3)], "13579")
    ack = wait_text(fake, chat, "Đã nhận 3 tệp (4/5)", before)
    wait_text(fake, chat, "Đã nhận 4 tệp.", ack)
    # At the files step a caption is the file's note.
    fake.user_sends_photo(chat, data=PHOTO + b"note", caption="Ảnh chụp sáng 28/11")
    wait_text(fake, chat, "Đã nhận tệp 5/5.", ack)
    wait_text(fake, chat, "Đã nhận 5 tệp.", ack)
    send_and_wait(fake, chat, "xong")
    after_album = texts(fake, chat, before)
    assert len(after_album) == 5, after_album  # the album's 2, the photo's 2, the next step
    assert after_album[4].startswith("Ông/Bà muốn ghi họ tên")

    send_and_wait(fake, chat, "Gửi ẩn danh")
    send_and_wait(fake, chat, "bỏ qua")  # the optional address of an anonymous góp ý
    wait_text(fake, chat, "Tệp kèm theo: 5")
    press(fake, chat, "c.confirm:send")
    wait_text(fake, chat, "Mã phản ánh:")
    description, files = _complaint(bot)
    assert description == DESCRIPTION
    assert [m for m, _ in files] == ["photo"] * 5
    assert len({f for _, f in files}) == 5
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        notes = [n for (n,) in conn.execute("SELECT note FROM complaint_files ORDER BY id")]
    assert notes == [None, None, None, None, "Ảnh chụp sáng 28/11"]


def test_every_kind_without_text_gets_the_hint_never_the_apology(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    chat = 7203
    send_and_wait(fake, chat, "/phananh")
    press(fake, chat, "c.cat:capphep")
    for fields, named in STRAYS:
        before = len(fake.messages(chat))
        _hint_then_question(fake, chat, fields, named)
        assert not any("không xử lý được" in t for t in texts(fake, chat, before))
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        assert conn.execute("SELECT count(*) FROM failed_events").fetchone() == (0,)


def test_an_edited_description_before_and_after_sending(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    chat = 7202
    send_and_wait(fake, chat, "/phananh")
    press(fake, chat, "c.cat:khac")
    update = send_and_wait(fake, chat, "Đề nghị bố trí thêm chỗ để xe máy.")
    message_id = fake.user_message_id(update)
    press(fake, chat, "c.files:done")
    press(fake, chat, "c.who:anon")
    press(fake, chat, "c.addr:skip")
    wait_text(fake, chat, "Nội dung: Đề nghị bố trí thêm chỗ để xe máy.")

    # Before «Gửi»: the edit replaces the description, and the summary says so.
    before = len(fake.messages(chat))
    fake.user_edits_text(chat, message_id, "Đề nghị bố trí thêm chỗ để xe máy trước cổng Sở.")
    note = wait_text(fake, chat, "Đã cập nhật nội dung phản ánh", before)
    summary = wait_text(fake, chat, "Xin Ông/Bà kiểm tra lại trước khi gửi", note)
    assert (
        "Nội dung: Đề nghị bố trí thêm chỗ để xe máy trước cổng Sở." in texts(fake, chat)[summary]
    )
    press(fake, chat, "c.confirm:send")
    wait_text(fake, chat, "Mã phản ánh:")
    assert _complaint(bot)[0] == "Đề nghị bố trí thêm chỗ để xe máy trước cổng Sở."

    # After «Gửi»: a short note, and the filed description stays as sent.
    before = len(fake.messages(chat))
    fake.user_edits_text(chat, message_id, "Nội dung khác hẳn")
    wait_text(fake, chat, "Chúng tôi không đọc lại tin nhắn đã sửa", before)
    assert _complaint(bot)[0] == "Đề nghị bố trí thêm chỗ để xe máy trước cổng Sở."


def test_a_bad_receipt_code_mid_complaint_keeps_the_complaint(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    chat = 7204
    send_and_wait(fake, chat, "/phananh")
    press(fake, chat, "c.cat:capphep")
    send_and_wait(fake, chat, DESCRIPTION)
    for sent in ("/start BADTOKEN", "\u202d４３３９-０２２２-３２\u202c"):
        before = len(fake.messages(chat))
        fake.user_sends_text(chat, sent)
        said = wait_text(fake, chat, "Mã trên giấy biên nhận không đúng", before)
        again = wait_text(fake, chat, "Ông/Bà có thể gửi kèm ảnh hoặc tệp", said)
        assert again == said + 1
        assert not any("chọn việc khác" in t for t in texts(fake, chat, before))
    send_and_wait(fake, chat, "xong")
    wait_text(fake, chat, "Ông/Bà muốn ghi họ tên")
