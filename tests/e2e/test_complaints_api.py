"""End to end: a complaint filed with a photo, handled by staff, answered and rated."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time

import httpx
import pytest

from tests.support.bot_process import ADMIN_ID, BotProcess, press, send_and_wait
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_e2e import PHOTO, bot, fake, texts, wait_text

pytestmark = pytest.mark.e2e
__all__ = ["bot", "fake"]  # the fixtures

CITIZEN = 7101


def test_complaint_with_photo_answered_by_staff_and_rated(
    fake: FakeTelegram, bot: BotProcess
) -> None:
    send_and_wait(fake, CITIZEN, "/phananh")
    press(fake, CITIZEN, "c.cat:capphep")
    send_and_wait(fake, CITIZEN, "Hồ sơ cấp phép xây dựng nộp tháng 3 đến nay chưa có kết quả.")
    fake.user_sends_photo(CITIZEN, data=PHOTO)
    wait_text(fake, CITIZEN, "Đã nhận tệp 1/5")
    press(fake, CITIZEN, "c.files:done")
    press(fake, CITIZEN, "c.who:named")
    send_and_wait(fake, CITIZEN, "Nguyễn Thị Lan")
    send_and_wait(fake, CITIZEN, "0912 345 678")
    send_and_wait(fake, CITIZEN, "Số 7 đường Trường Chinh, phường Phủ Lý")
    press(fake, CITIZEN, "c.confirm:send")
    filed_at = wait_text(fake, CITIZEN, "Mã phản ánh:")
    filed = texts(fake, CITIZEN)[filed_at]
    match = re.search(r"PA-\d{4}-\d{6}", filed)
    assert match is not None
    code = match.group(0)

    # The staff chat gets the case at once, with its action buttons.
    card = fake.wait_for(
        lambda f: next((m for m in f.messages(ADMIN_ID) if code in (m.text or "")), None),
        what="the case in the staff chat",
    )
    assert card is not None
    assert "Nguyễn Thị Lan · 0912345678" in (card.text or "")
    assert [cb for _, cb in fake.keyboard(card)] == [
        f"case:{code}:{a}" for a in ("take", "ask", "answer", "oos", "dup", "note")
    ]

    # The photo is copied into the database, then staff can open the case and get it.
    db = bot.workdir / "bot.db"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT status, sha256, data FROM complaint_files").fetchone()
        if row and row[0] == "stored":
            break
        time.sleep(0.2)
    assert row is not None
    assert row[0] == "stored"
    assert row[1] == hashlib.sha256(PHOTO).hexdigest()
    assert bytes(row[2]) == PHOTO
    before = len(fake.messages(ADMIN_ID))
    fake.user_sends_command(ADMIN_ID, "/hoso", code)
    sent = fake.wait_for_messages(ADMIN_ID, before + 2)[before:]
    assert "Nội dung: Hồ sơ cấp phép" in (sent[0].text or "")
    assert sent[1].file_data == PHOTO

    # Staff answer and close; the citizen gets the answer and rates it.
    press(fake, ADMIN_ID, f"case:{code}:answer")
    send_and_wait(fake, ADMIN_ID, "Hồ sơ đã có kết quả, mời bà đến nhận ngày 20/12.")
    notice = fake.wait_for(
        lambda f: next(
            (m for m in f.messages(CITIZEN) if "đã được giải quyết" in (m.text or "")), None
        ),
        what="the answer",
    )
    assert notice is not None
    assert "mời bà đến nhận ngày 20/12" in (notice.text or "")
    press(fake, CITIZEN, f"rate:{code}:5")
    wait_text(fake, CITIZEN, "Cảm ơn Ông/Bà đã đánh giá cách giải quyết")
    with sqlite3.connect(db) as conn:
        status, rating = conn.execute("SELECT status, rating FROM complaints").fetchone()
        history = [r[0] for r in conn.execute("SELECT to_status FROM complaint_events")]
    assert (status, rating) == ("resolved", 5)
    assert history == ["new", "resolved"]

    # The public Open311 view knows the case, closed, without any personal data.
    base = f"http://127.0.0.1:{bot.webhook_port}/open311/v2"
    public = httpx.get(f"{base}/requests/{code}.json", timeout=5)
    assert public.status_code == 200
    assert public.json()[0]["status"] == "closed"
    for secret in ("Nguyễn", "0912345678", "912345678", "20/12", "cấp phép xây dựng nộp"):
        assert secret not in public.text
