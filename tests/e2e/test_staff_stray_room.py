"""End to end, a staff room seen from outside it: a group that Telegram upgraded to a
supergroup without the bot seeing it (no service message) is no configured room, and an
officer writing to the bot there is told so, with the id to set, instead of silence; a case
handled in an officer's private chat redraws the room's card."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_staff_room import (
    GROUP,
    NEW_SUPERGROUP,
    OFFICER_A,
    card_of,
    case_row,
    fake,
    file_complaint,
    message_with,
    redrawn_saying,
    start_bot,
)
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.e2e
__all__ = ["fake"]  # the fixture, shared with the staff room's tests


def test_an_officer_in_an_unseen_supergroup_is_told_what_to_set(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = start_bot(fake, tmp_path, GROUP)
    try:
        fake.migrate_group(GROUP, NEW_SUPERGROUP, announce=False)
        fake.member_sends(NEW_SUPERGROUP, OFFICER_A, "/hoso", first_name="An")
        told = message_with(fake, NEW_SUPERGROUP, "chưa là nhóm cán bộ")
        assert f"ADMIN_CHAT_IDS={NEW_SUPERGROUP}" in (told.text or "")
        count = len(fake.messages(NEW_SUPERGROUP))
        fake.member_sends(NEW_SUPERGROUP, 5555, "/hoso", first_name="Member")  # not staff
        fake.member_sends(NEW_SUPERGROUP, OFFICER_A, "/trogiup", first_name="An")
        message_with(fake, NEW_SUPERGROUP, "chưa là nhóm cán bộ", after=count)
        assert len(fake.messages(NEW_SUPERGROUP)) == count + 1  # the member got nothing
    finally:
        bot.stop()


def test_a_case_handled_in_a_private_chat_redraws_the_rooms_card(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = start_bot(fake, tmp_path, GROUP)
    try:
        code = file_complaint(fake, 7401, "Hồ sơ cấp phép nộp tháng 3 chưa có kết quả.")
        card = card_of(fake, GROUP, code)
        fake.user_sends_text(OFFICER_A, f"/hoso {code}")
        mine = card_of(fake, OFFICER_A, code)
        fake.user_presses(OFFICER_A, mine.message_id, f"case:{code}:take")
        redrawn_saying(fake, GROUP, card.message_id, "Trạng thái: Đang xử lý")
        fake.user_presses(OFFICER_A, mine.message_id, f"case:{code}:answer")
        message_with(fake, OFFICER_A, f"Trả lời & đóng phản ánh {code}")
        fake.user_sends_text(OFFICER_A, "Đã có kết quả, mời ông đến nhận.")
        closed = redrawn_saying(fake, GROUP, card.message_id, "Trạng thái: Đã giải quyết")
        assert fake.keyboard(closed) == []
        assert case_row(bot, code)[0] == "resolved"
    finally:
        bot.stop()
