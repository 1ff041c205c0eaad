"""End to end over the fake Bot API: albums (issue 13, points 3 and 4).

An album is one update per photo sharing a ``media_group_id``; any photo may carry the
caption. Each case checks every message the bot sent between the album and the next step
(reached by typing "xong"), so a second acknowledgement, a lost caption note or a partial
count fails it.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.support.bot_process import BotProcess, press, send_and_wait
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_e2e import PHOTO, bot, fake, texts, wait_text

pytestmark = pytest.mark.e2e
__all__ = ["bot", "fake"]  # the fixtures

DESCRIPTION = "Công trình số 5 ngõ 12 xây vượt tầng, lấn chiếm vỉa hè."
TAKEN = "Đã lấy phần chữ kèm ảnh làm nội dung phản ánh."
ASK_FILES = "Ông/Bà có thể gửi kèm ảnh hoặc tệp"
NEXT = "Ông/Bà muốn ghi họ tên"


def _at_description(fake: FakeTelegram, chat: int) -> None:
    send_and_wait(fake, chat, "/phananh")
    press(fake, chat, "c.cat:capphep")
    wait_text(fake, chat, "Mời Ông/Bà viết nội dung")


def _photos(first: int, count: int) -> list[bytes]:
    return [PHOTO + bytes([first + n]) for n in range(count)]


def _until_next_step(fake: FakeTelegram, chat: int, since: int) -> list[str]:
    """Types "xong" once the files question came, and returns what the bot sent from
    ``since`` up to the next step's question (included)."""
    wait_text(fake, chat, ASK_FILES, since)
    send_and_wait(fake, chat, "xong")
    wait_text(fake, chat, NEXT, since)
    return texts(fake, chat, since)


def _stored(bot: BotProcess) -> tuple[str, int]:
    """The filed complaint's description and number of files."""
    with sqlite3.connect(bot.workdir / "bot.db") as conn:
        (description,) = conn.execute("SELECT description FROM complaints").fetchone()
        (files,) = conn.execute("SELECT count(*) FROM complaint_files").fetchone()
    return str(description), int(files)


def _file(fake: FakeTelegram, chat: int) -> None:
    send_and_wait(fake, chat, "Gửi ẩn danh")
    send_and_wait(fake, chat, "bỏ qua")
    press(fake, chat, "c.confirm:send")
    wait_text(fake, chat, "Mã phản ánh:")


@pytest.mark.parametrize("captioned", [0, 2], ids=["caption-first", "caption-last"])
def test_album_with_its_caption_at_the_description(
    fake: FakeTelegram, bot: BotProcess, captioned: int
) -> None:
    chat = 7301 + captioned
    _at_description(fake, chat)
    before = len(fake.messages(chat))
    fake.user_sends_album(chat, _photos(0, 3), "album-a", captions={captioned: DESCRIPTION})
    said = _until_next_step(fake, chat, before)
    # One acknowledgement: the caption taken and the whole album counted, then the question.
    assert said[0] == f"{TAKEN}\nĐã nhận 3 tệp (3/5).", said
    assert said[1].startswith(ASK_FILES), said
    assert len(said) == 3, said
    _file(fake, chat)
    assert _stored(bot) == (DESCRIPTION, 3)


def test_album_at_the_files_step_after_one_at_the_description(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    chat = 7311
    _at_description(fake, chat)
    before = len(fake.messages(chat))
    fake.user_sends_album(chat, _photos(0, 2), "album-a", captions={0: DESCRIPTION})
    ack = wait_text(fake, chat, "Đã nhận 2 tệp (2/5).", before)
    wait_text(fake, chat, ASK_FILES, ack)
    before = len(fake.messages(chat))
    fake.user_sends_album(chat, _photos(10, 2), "album-b")
    said = _until_next_step(fake, chat, before)
    assert said[0] == "Đã nhận 2 tệp (4/5).", said
    assert said[1].startswith(ASK_FILES), said
    assert len(said) == 3, said


def test_album_over_the_file_limit_says_how_many_were_not_kept(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    chat = 7312
    _at_description(fake, chat)
    send_and_wait(fake, chat, DESCRIPTION)
    wait_text(fake, chat, ASK_FILES)
    before = len(fake.messages(chat))
    fake.user_sends_album(chat, _photos(0, 4), "album-a")
    ack = wait_text(fake, chat, "Đã nhận 4 tệp (4/5).", before)
    wait_text(fake, chat, ASK_FILES, ack)
    before = len(fake.messages(chat))
    fake.user_sends_album(chat, _photos(10, 3), "album-b")
    said = _until_next_step(fake, chat, before)
    assert said[0] == (
        "Đã nhận 1 tệp (5/5).\n2 tệp không được nhận: mỗi phản ánh chỉ kèm tối đa 5 tệp."
    ), said
    assert len(said) == 3, said
    _file(fake, chat)
    assert _stored(bot) == (DESCRIPTION, 5)


def test_album_whose_parts_come_in_two_polls_is_answered_once(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    """Telegram hands out what it has: a long poll answered with an album's first photo
    alone, the rest in the next poll. The bot waits for the rest and answers once."""
    chat = 7313
    _at_description(fake, chat)
    send_and_wait(fake, chat, DESCRIPTION)
    wait_text(fake, chat, ASK_FILES)
    before = len(fake.messages(chat))
    first, *rest = _photos(0, 3)
    update = fake.user_sends_photo(chat, data=first, media_group_id="album-a")
    fake.wait_for(lambda f: f.update(update).delivered_at is not None, what="the first photo")
    for photo in rest:
        fake.user_sends_photo(chat, data=photo, media_group_id="album-a")
    said = _until_next_step(fake, chat, before)
    assert said[0] == "Đã nhận 3 tệp (3/5).", said
    assert len(said) == 3, said


def test_an_album_whose_caption_answers_a_question_loses_no_answer(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    """At a step that keeps no file, the caption is the answer: what the bot says to it (the
    privacy notice before the address) is sent, not replaced by what a later photo of the
    album gets; the address question comes once, last."""
    chat = 7314
    _at_description(fake, chat)
    send_and_wait(fake, chat, DESCRIPTION)
    wait_text(fake, chat, ASK_FILES)
    send_and_wait(fake, chat, "xong")
    wait_text(fake, chat, NEXT)
    before = len(fake.messages(chat))
    fake.user_sends_album(chat, _photos(0, 2), "album-a", captions={0: "Gửi ẩn danh"})
    wait_text(fake, chat, "Mời Ông/Bà gõ địa chỉ", before)
    send_and_wait(fake, chat, "bỏ qua")
    summary = wait_text(fake, chat, "Xin Ông/Bà kiểm tra lại trước khi gửi", before)
    said = texts(fake, chat, before)[: summary - before]
    assert any(t.startswith("Trước khi Ông/Bà để lại địa chỉ") for t in said), said
    asked = [t for t in said if "Mời Ông/Bà gõ địa chỉ" in t]
    assert len(asked) == 1, said
    assert "Mời Ông/Bà gõ địa chỉ" in said[-1], said
