"""End to end: a staff group that Telegram upgraded to a supergroup without the bot seeing
it (no service message) is no configured room; an officer writing to the bot there is told
so, with the id to set, instead of being met by silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_staff_room import (
    GROUP,
    NEW_SUPERGROUP,
    OFFICER_A,
    fake,
    message_with,
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
