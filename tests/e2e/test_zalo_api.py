"""End to end over Zalo: the real ``python -m bot`` (Zalo only) against a fake OA API."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.channels.zalo_codes import is_valid, printed
from tests.support.bot_process import BotProcess
from tests.support.fake_zalo import FakeZalo
from tests.support.zalo_e2e import TYPED_ANONYMOUS, running_bot, zalo_process

pytestmark = pytest.mark.e2e

USER = "8756112331268738712"


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo() as fake:
        yield fake


@pytest.fixture
def bot(zalo: FakeZalo, tmp_path: Path) -> Iterator[BotProcess]:
    with running_bot(zalo, tmp_path) as process:
        yield process


def _url(bot: BotProcess) -> str:
    return f"http://127.0.0.1:{bot.webhook_port}/zalo"


def _say(zalo: FakeZalo, bot: BotProcess, event: dict[str, Any], count: int | None = None) -> None:
    before = len(zalo.messages(USER)) if count is None else count
    assert zalo.post(_url(bot), event) == 200
    zalo.wait_for_messages(USER, before + 1)


def _db(bot: BotProcess) -> sqlite3.Connection:
    return sqlite3.connect(bot.workdir / "bot.db")


def test_full_survey_over_zalo(zalo: FakeZalo, bot: BotProcess) -> None:
    _say(zalo, bot, zalo.user_text(USER, "/khaosat"))
    consent = zalo.messages(USER)[-1]
    assert "Ông/Bà có đồng ý tham gia không?" in consent.text
    assert [b[2] for b in consent.buttons] == ["#c:consent:yes", "#c:consent:no"]
    _say(zalo, bot, zalo.press(USER, "#c:consent:yes"))
    info = zalo.messages(USER)[-1]
    assert not info.buttons  # 9 choices: numbered in the text instead
    assert "1. Niêm yết tại cơ quan" in info.text
    _say(zalo, bot, zalo.user_text(USER, "1 3"))
    _say(zalo, bot, zalo.user_text(USER, "xong"))
    _say(zalo, bot, zalo.user_text(USER, "1"))  # trips
    _say(zalo, bot, zalo.user_text(USER, "2"))  # timing: on time
    for n in range(18):
        _say(zalo, bot, zalo.user_text(USER, str(4 + n % 2)))
    assert "Trong quá trình giải quyết công việc" in zalo.messages(USER)[-1].text
    _say(zalo, bot, zalo.press(USER, "#c:f5:no"))
    _say(zalo, bot, zalo.press(USER, "#c:harass:no"))
    _say(zalo, bot, zalo.press(USER, "#c:payment:no"))
    _say(zalo, bot, zalo.user_text(USER, "xong"))  # expectations: none
    _say(zalo, bot, zalo.press(USER, "#c:comment:skip"))
    _say(zalo, bot, zalo.press(USER, "#c:p.intro:no"))
    assert "Đã đánh giá 18/22 tiêu chí" in zalo.messages(USER)[-1].text
    _say(zalo, bot, zalo.press(USER, "#c:summary:submit"))
    zalo.wait_for(lambda f: any("Trân trọng cảm ơn" in m.text for m in f.messages(USER)))
    with _db(bot) as conn:
        assert conn.execute("SELECT status FROM survey_responses").fetchone()[0] == "completed"
        answers = dict(conn.execute("SELECT item, coalesce(value_int, value_text) FROM answers"))
    assert answers["info"] == "posted,staff"
    assert answers["1.1"] == 4
    assert answers["4.3"] == 5
    assert answers["f5"] == "no"


def test_signature_redelivery_and_echo(zalo: FakeZalo, bot: BotProcess) -> None:
    forged = zalo.user_text(USER, "/khaosat")
    assert zalo.post(_url(bot), forged, wrong_secret=True) == 403
    assert zalo.post(_url(bot), forged, sign=False) == 403
    with _db(bot) as conn:
        assert conn.execute("SELECT count(*) FROM processed_events").fetchone()[0] == 0
    event = zalo.user_text(USER, "/start")
    _say(zalo, bot, event)
    assert zalo.post(_url(bot), event, retry=1) == 200  # Zalo retries: same msg_id
    assert zalo.post(_url(bot), zalo.oa_echo(USER, "/start")) == 200
    time.sleep(1.0)
    assert len(zalo.messages(USER)) == 1


def test_expired_token_is_refreshed_once_and_rotation_survives_restart(
    zalo: FakeZalo, bot: BotProcess
) -> None:
    zalo.expire_access_token()
    _say(zalo, bot, zalo.user_text(USER, "/start"))
    assert len(zalo.refreshes) == 1
    assert [s.error for s in zalo.sends] == [-216, 0]  # one refresh, one retry
    bot.kill()
    bot.start()
    zalo.expire_access_token()
    _say(zalo, bot, zalo.user_text(USER, "/trogiup"))
    assert len(zalo.refreshes) == 2
    assert all(r.error == 0 for r in zalo.refreshes)  # the rotated token was kept


def test_outside_the_seven_day_window(zalo: FakeZalo, bot: BotProcess) -> None:
    event = zalo.user_text(USER, "/start")
    zalo.out_of_window(USER)
    assert zalo.post(_url(bot), event) == 200
    deadline = time.monotonic() + 10
    held = 0
    while time.monotonic() < deadline and not held:
        with _db(bot) as conn:
            held = conn.execute("SELECT count(*) FROM outbox WHERE status = 'held'").fetchone()[0]
        time.sleep(0.1)
    assert held == 1
    time.sleep(1.5)
    assert [s.error for s in zalo.sends] == [-230]  # kept for staff, not retried


def test_receipt_code_sent_on_zalo_opens_its_survey(zalo: FakeZalo, bot: BotProcess) -> None:
    issued = subprocess.run(
        [sys.executable, "-m", "bot", "receipts", "issue", "--procedure", "1.009972", "--zalo",
         "--qr", str(bot.workdir / "qr")],
        cwd=bot.workdir, env=bot.env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    token, link, code = issued.stdout.strip().split("\t")
    assert link == f"https://zalo.me/{zalo.oa_id}"
    assert re.fullmatch(r"[1-9]\d{3}-\d{4}-\d{2}", code)
    assert (bot.workdir / "qr" / "0001.png").exists()  # by its place, never by token
    digits = code.replace("-", "")
    typed = [
        token,  # the long token still works
        code,  # as printed under the QR
        f"mã {code.replace('-', ' ')}",  # lower case word, spaces
        f"MÃ: {digits}",  # upper case, glued
        f" {digits[:3]} {digits[3:6]}-{digits[6:]} ",
    ]
    for n, text in enumerate(typed):
        user = f"{USER[:-2]}{n:02d}"
        before = len(zalo.messages(user))
        assert zalo.post(_url(bot), zalo.user_text(user, text)) == 200
        zalo.wait_for_messages(user, before + 1)
        assert "Ông/Bà có đồng ý tham gia không?" in zalo.messages(user)[-1].text, text
    # One wrong digit: refused by the check digit, with the plain "check the code" message.
    wrong = digits[:4] + str((int(digits[4]) + 1) % 10) + digits[5:]
    assert not is_valid(wrong)
    before = len(zalo.messages(USER))
    _say(zalo, bot, zalo.user_text(USER, printed(wrong)), count=before)
    # The refusal comes first, then the menu: a read of the last message could catch either.
    assert "Mã trên giấy biên nhận không đúng" in zalo.messages(USER)[before].text


def test_complaint_with_an_image_over_zalo_is_stored(zalo: FakeZalo, bot: BotProcess) -> None:
    picture = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
    url = zalo.host_file(picture, "anh.jpg", "image/jpeg")
    _say(zalo, bot, zalo.user_text(USER, "/phananh"))
    _say(zalo, bot, zalo.user_text(USER, "2"))  # the second category, typed
    _say(zalo, bot, zalo.user_text(USER, "Công trình xây dựng lấn chiếm vỉa hè trước số 12."))
    count = len(zalo.messages(USER))
    assert zalo.post(_url(bot), zalo.user_image(USER, url)) == 200
    zalo.wait_for_messages(USER, count + 2)  # "file received" and the question again
    _say(zalo, bot, zalo.user_text(USER, "xong"))
    before = len(zalo.messages(USER))
    _say(zalo, bot, zalo.press(USER, "#c:c.who:anon"))
    zalo.wait_for_messages(USER, before + 2)  # the privacy notice, then the address question
    _say(zalo, bot, zalo.press(USER, "#c:c.addr:skip"))
    # The summary may come with a note: wait for its «Gửi» button, not for a count.
    zalo.wait_for(
        lambda z: any(b[2] == "#c:c.confirm:send" for b in z.messages(USER)[-1].buttons),
        what="the summary with its send button",
    )
    filed_from = len(zalo.messages(USER))
    assert zalo.post(_url(bot), zalo.press(USER, "#c:c.confirm:send")) == 200
    zalo.wait_for(
        lambda z: any("Mã phản ánh" in m.text for m in z.messages(USER)[filed_from:]),
        timeout=30,
        what="the tracking code",
    )
    deadline = time.monotonic() + 60  # the attachments job, on a loaded machine
    stored = None
    while time.monotonic() < deadline and stored is None:
        with _db(bot) as conn:
            row = conn.execute("SELECT status, data FROM complaint_files").fetchone()
        stored = row if row and row[0] == "stored" else None
        time.sleep(0.2)
    assert stored is not None
    assert bytes(stored[1]) == picture


def test_a_digest_chart_reaches_a_zalo_staff_member_as_an_image(
    zalo: FakeZalo, tmp_path: Path
) -> None:
    """/bantin from a staff member on Zalo: the digest text, then its chart as an uploaded
    image (a media template), and no dead row in the outbox."""
    process = zalo_process(zalo, tmp_path)
    process.extra_env["ZALO_ADMIN_IDS"] = USER
    access, refresh = zalo.issue_tokens()
    subprocess.run(
        [sys.executable, "-m", "bot", "zalo", "set-token", "--refresh-token", refresh,
         "--access-token", access, "--expires-in", "90000"],
        cwd=tmp_path, env=process.env(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    process.start()
    try:
        assert zalo.post(_url(process), zalo.user_text(USER, "/bantin")) == 200
        shown = zalo.wait_for_messages(USER, 3, timeout=30)
        assert "BẢN TIN TUẦN" in shown[1].text
        assert shown[2].attachment_id is not None
        image = zalo.uploaded(shown[2].attachment_id)
        assert image.data.startswith(b"\x89PNG")
        deadline = time.monotonic() + 10
        while True:  # "sent" is recorded just after the send
            with _db(process) as conn:
                statuses = [r[0] for r in conn.execute("SELECT status FROM outbox")]
            if set(statuses) == {"sent"} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert "dead" not in statuses
        assert set(statuses) == {"sent"}
    finally:
        process.stop()


def test_an_image_with_text_and_a_burst_of_images_over_zalo(
    zalo: FakeZalo, bot: BotProcess
) -> None:
    """Zalo puts the text sent with an image in the event's ``text``: at the description it is
    the description and the image is kept; images sent at once are acknowledged once."""
    description = "Công trình số 5 ngõ 12 xây vượt tầng, lấn chiếm vỉa hè."
    pictures = [b"\xff\xd8\xff\xe0" + bytes([n]) * 600 for n in range(3)]
    urls = [zalo.host_file(p, f"anh{n}.jpg", "image/jpeg") for n, p in enumerate(pictures)]
    _say(zalo, bot, zalo.user_text(USER, "/phananh"))
    _say(zalo, bot, zalo.user_text(USER, "2"))
    count = len(zalo.messages(USER))
    assert zalo.post(_url(bot), zalo.user_image(USER, urls[0], description)) == 200
    said = [m.text for m in zalo.wait_for_messages(USER, count + 3)[count:]]
    assert said[0] == "Đã lấy phần chữ kèm ảnh làm nội dung phản ánh."
    assert said[1] == "Đã nhận tệp 1/5."
    assert "Đã nhận 1 tệp." in said[2]

    # Two images at once (Zalo posts each as its own event): one acknowledgement.
    count = len(zalo.messages(USER))
    events = [zalo.user_image(USER, url) for url in urls[1:]]
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda e: zalo.post(_url(bot), e), events)) == [200, 200]
    zalo.wait_for_messages(USER, count + 2)
    _say(zalo, bot, zalo.user_text(USER, "xong"))
    said = [m.text for m in zalo.messages(USER)[count:]]
    assert said[0] == "Đã nhận 2 tệp (3/5)."
    assert "Đã nhận 3 tệp." in said[1]
    assert said[2].startswith("Ông/Bà muốn ghi họ tên")
    assert len(said) == 3
    for typed in TYPED_ANONYMOUS:  # no name, no address (optional for a góp ý), send
        _say(zalo, bot, zalo.user_text(USER, typed))
    with _db(bot) as conn:
        (stored,) = conn.execute("SELECT description FROM complaints").fetchone()
        files = conn.execute("SELECT count(*) FROM complaint_files").fetchone()[0]
    assert stored == description
    assert files == 3
