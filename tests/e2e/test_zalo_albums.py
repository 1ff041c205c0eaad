"""End to end over the fake Zalo: several images at once (issue 13, point 4).

Zalo's ``user_send_image`` event carries a list of ``attachments``; a citizen who picks
several images at once may send them in one event. Each image is a file of the complaint,
answered once for the whole event, and the text sent with them is the description.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_zalo_api import USER, _db, _say, _url, bot, zalo
from tests.support.bot_process import BotProcess
from tests.support.fake_zalo import FakeZalo

pytestmark = pytest.mark.e2e
__all__ = ["bot", "zalo"]  # the fixtures

DESCRIPTION = "Công trình số 5 ngõ 12 xây vượt tầng, lấn chiếm vỉa hè."


def _images(zalo: FakeZalo, count: int, text: str = "") -> dict[str, Any]:
    """One ``user_send_image`` event with ``count`` images."""
    urls = [
        zalo.host_file(b"\xff\xd8\xff\xe0" + bytes([n]) * 600, f"anh{n}.jpg", "image/jpeg")
        for n in range(count)
    ]
    event = zalo.user_image(USER, urls[0], text)
    event["message"]["attachments"] = [
        {"type": "image", "payload": {"thumbnail": url, "url": url}} for url in urls
    ]
    return event


def _files(bot: BotProcess) -> tuple[str, int]:
    with _db(bot) as conn:
        (description,) = conn.execute("SELECT description FROM complaints").fetchone()
        (files,) = conn.execute("SELECT count(*) FROM complaint_files").fetchone()
    return str(description), int(files)


def test_one_event_with_three_images_and_text_is_the_description_and_three_files(
    zalo: FakeZalo, bot: BotProcess
) -> None:
    _say(zalo, bot, zalo.user_text(USER, "/phananh"))
    _say(zalo, bot, zalo.user_text(USER, "2"))
    count = len(zalo.messages(USER))
    assert zalo.post(_url(bot), _images(zalo, 3, DESCRIPTION)) == 200
    zalo.wait_for_messages(USER, count + 2)
    _say(zalo, bot, zalo.user_text(USER, "xong"))
    said = [m.text for m in zalo.messages(USER)[count:]]
    assert said[0] == "Đã lấy phần chữ kèm ảnh làm nội dung phản ánh.\nĐã nhận 3 tệp (3/5).", said
    assert "Đã nhận 3 tệp." in said[1], said
    assert said[2].startswith("Ông/Bà muốn ghi họ tên"), said
    assert len(said) == 3, said
    _say(zalo, bot, zalo.user_text(USER, "Gửi ẩn danh"))
    _say(zalo, bot, zalo.user_text(USER, "bỏ qua"))
    _say(zalo, bot, zalo.user_text(USER, "gửi"))
    assert _files(bot) == (DESCRIPTION, 3)
