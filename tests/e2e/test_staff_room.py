"""End to end: a team of officers handles complaints in a Telegram staff group.

The fake delivers in groups only what Telegram delivers to a bot in privacy mode (commands,
replies to the bot, messages naming it), so every action here works with privacy mode on.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bot_process import BotProcess, press, send_and_wait
from tests.support.fake_telegram import BotMessage, FakeTelegram

pytestmark = pytest.mark.e2e

OFFICER_A, OFFICER_B, MEMBER = 9001, 9002, 5555
GROUP = -4001
SUPERGROUP = -1001234567890
NEW_SUPERGROUP = -1009876543210


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token="123456:E2E-staff", username="sipas_test_bot") as server:
        yield server


def start_bot(fake: FakeTelegram, workdir: Path, room: int) -> BotProcess:
    process = BotProcess(
        fake,
        workdir,
        extra_env={
            "ADMIN_TELEGRAM_IDS": f"{OFFICER_A},{OFFICER_B}",
            "ADMIN_CHAT_IDS": str(room),
        },
    )
    process.start()
    return process


def file_complaint(fake: FakeTelegram, citizen: int, text: str) -> str:
    send_and_wait(fake, citizen, "/phananh")
    press(fake, citizen, "c.cat:capphep")
    send_and_wait(fake, citizen, text)
    press(fake, citizen, "c.files:done")
    press(fake, citizen, "c.who:named")
    send_and_wait(fake, citizen, "Nguyễn Văn An")
    send_and_wait(fake, citizen, "0912 345 678")
    send_and_wait(fake, citizen, "Số 7 đường Trường Chinh, phường Phủ Lý")  # the law's address
    press(fake, citizen, "c.confirm:send")
    filed = fake.wait_for(
        lambda f: next(
            (m.text for m in f.messages(citizen) if "Mã phản ánh" in (m.text or "")), None
        ),
        what="the tracking code",
    )
    match = re.search(r"PA-\d{4}-\d{6}", filed or "")
    assert match is not None
    return match.group(0)


def message_with(fake: FakeTelegram, chat: int, *needles: str, after: int = 0) -> BotMessage:
    """The first message of the bot in ``chat`` (from the ``after``-th on) saying all of
    ``needles``, once there is one."""

    def found(f: FakeTelegram) -> BotMessage | None:
        return next(
            (
                m
                for m in f.messages(chat)[after:]
                if all(n in (m.text or m.caption or "") for n in needles)
            ),
            None,
        )

    message = fake.wait_for(found, 15, f"a message with {needles} in {chat}")
    assert message is not None
    return message


def card_of(fake: FakeTelegram, chat: int, code: str) -> BotMessage:
    return message_with(fake, chat, f"Phản ánh {code}", "Loại:")


def redrawn_saying(fake: FakeTelegram, chat: int, message_id: int, needle: str) -> BotMessage:
    """The bot's message ``message_id`` once it was edited to say ``needle``."""

    def edited(f: FakeTelegram) -> BotMessage | None:
        found = f.message(chat, message_id)
        return found if found is not None and needle in (found.text or "") else None

    message = fake.wait_for(edited, 15, f"message {message_id} saying {needle!r}")
    assert message is not None
    return message


def prompt_for(fake: FakeTelegram, chat: int, code: str, after: int) -> BotMessage:
    return message_with(fake, chat, f"phản ánh {code} — gõ", after=after)


def prompted(
    fake: FakeTelegram, chat: int, who: tuple[int, str], card: BotMessage, code: str, act: str
) -> BotMessage:
    """The reply prompt the officer ``who`` (id, name) gets for pressing ``act`` on ``card``."""
    count = len(fake.messages(chat))
    fake.member_presses(chat, who[0], card.message_id, f"case:{code}:{act}", first_name=who[1])
    return prompt_for(fake, chat, code, count)


def answered(fake: FakeTelegram, update_id: int) -> bool:
    return any(a.update_id == update_id for a in fake.callback_answers)


def history(process: BotProcess, code: str) -> list[tuple[str, str | None, str | None, bool]]:
    with sqlite3.connect(process.workdir / "bot.db") as conn:
        return conn.execute(
            "SELECT e.to_status, e.action, e.actor_name, e.public FROM complaint_events e"
            " JOIN complaints c ON c.id = e.complaint_id WHERE c.code = ? ORDER BY e.id",
            (code,),
        ).fetchall()


def case_row(process: BotProcess, code: str) -> tuple[str, str | None]:
    with sqlite3.connect(process.workdir / "bot.db") as conn:
        row = conn.execute(
            "SELECT status, assignee_name FROM complaints WHERE code = ?", (code,)
        ).fetchone()
    return row[0], row[1]


@pytest.mark.parametrize("room", [GROUP, SUPERGROUP], ids=["group", "supergroup"])
def test_two_officers_handle_two_cases_at_once(
    fake: FakeTelegram, tmp_path: Path, room: int
) -> None:
    bot = start_bot(fake, tmp_path, room)
    try:
        first = file_complaint(fake, 7201, "Hồ sơ cấp phép nộp tháng 3 chưa có kết quả.")
        second = file_complaint(fake, 7202, "Công chức một cửa hẹn lại nhiều lần.")
        card_1, card_2 = card_of(fake, room, first), card_of(fake, room, second)

        # A member who is not an administrator: presses and commands change nothing.
        before = len(fake.messages(room))
        pressed = fake.member_presses(room, MEMBER, card_1.message_id, f"case:{first}:take")
        fake.wait_for(lambda f: answered(f, pressed), what="the member's press answered")
        assert fake.member_sends(room, MEMBER, "/hoso") is not None  # a command is delivered
        assert fake.member_sends(room, MEMBER, "ok", reply_to=card_1.message_id) is not None

        # B takes case 2: the card in the group is redrawn with B's name and the deadline.
        fake.member_presses(room, OFFICER_B, card_2.message_id, f"case:{second}:take",
                            first_name="Bình")  # fmt: skip
        redrawn = redrawn_saying(fake, room, card_2.message_id, "Người xử lý: Bình")
        assert "Hạn giải quyết:" in (redrawn.text or "")
        labels = [label for label, _ in fake.keyboard(redrawn)]
        assert labels == ["Yêu cầu bổ sung", "Trả lời & đóng", "Chuyển cơ quan có thẩm quyền",
                          "Đánh dấu trùng", "Nhận thay", "Chuyển lại cho nhóm", "Ghi chú nội bộ"]  # fmt: skip
        # Nothing the member did got an answer in the group; case 1 is still nobody's.
        assert len(fake.messages(room)) == before
        assert case_row(bot, first) == ("new", None)
        assert "Người xử lý: chưa có ai nhận" in (fake.message(room, card_1.message_id).text or "")  # type: ignore[union-attr]

        # Interleaved: A chooses "answer" on case 1, B "ask for more" on case 2; each gets a
        # reply prompt naming the case, then each answers their own prompt.
        count = len(fake.messages(room))
        fake.member_presses(room, OFFICER_A, card_1.message_id, f"case:{first}:answer",
                            first_name="An")  # fmt: skip
        prompt_1 = prompt_for(fake, room, first, count)
        fake.member_presses(room, OFFICER_B, redrawn.message_id, f"case:{second}:ask",
                            first_name="Bình")  # fmt: skip
        prompt_2 = prompt_for(fake, room, second, count)
        sent = {
            c.params["text"]: c.params for c in fake.calls_to("sendMessage") if c.chat_id == room
        }
        markup = sent[prompt_1.text]["reply_markup"]
        assert markup["force_reply"] is True
        assert first in markup["input_field_placeholder"]
        assert second in sent[prompt_2.text]["reply_markup"]["input_field_placeholder"]
        # Privacy mode: what is not a reply to the bot never reaches it.
        assert fake.member_sends(room, OFFICER_A, "Để tôi trả lời ngay.") is None
        fake.member_sends(room, OFFICER_B, "Xin gửi bản chụp giấy biên nhận.",
                          reply_to=prompt_2.message_id, first_name="Bình")  # fmt: skip
        fake.member_sends(room, OFFICER_A, "Đã có kết quả, mời ông đến nhận ngày 20/12.",
                          reply_to=prompt_1.message_id, first_name="An")  # fmt: skip

        told_1 = message_with(fake, 7201, "đã được giải quyết")
        assert "mời ông đến nhận ngày 20/12" in (told_1.text or "")
        told_2 = message_with(fake, 7202, "bổ sung")
        assert "Xin gửi bản chụp giấy biên nhận." in (told_2.text or "")
        message_with(fake, room, f"Đã cập nhật {first}: Đã giải quyết")
        message_with(fake, room, f"Đã cập nhật {second}: Chờ người gửi bổ sung")
        # Each card was redrawn where it was pressed: case 1 closed, without buttons.
        closed = redrawn_saying(fake, room, card_1.message_id, "Trạng thái: Đã giải quyết")
        assert fake.keyboard(closed) == []
        assert "An" in (closed.text or "")
        assert case_row(bot, first) == ("resolved", "An")
        assert case_row(bot, second) == ("waiting_citizen", "Bình")

        # A presses «Nhận xử lý» on B's case (a card drawn before B took it): told who holds
        # it, nothing taken; «Nhận thay» takes it over. Then an internal note.
        card_2_now = message_with(fake, room, f"Phản ánh {second}", "Trạng thái: Chờ người gửi")
        fake.member_presses(room, OFFICER_A, card_2_now.message_id, f"case:{second}:take",
                            first_name="An")  # fmt: skip
        message_with(fake, room, f"Phản ánh {second} đang do Bình xử lý")
        assert case_row(bot, second) == ("waiting_citizen", "Bình")
        fake.member_presses(room, OFFICER_A, card_2_now.message_id, f"case:{second}:takeover",
                            first_name="An")  # fmt: skip
        redrawn_saying(fake, room, card_2_now.message_id, "Người xử lý: An")
        count = len(fake.messages(room))
        fake.member_presses(room, OFFICER_A, card_2_now.message_id, f"case:{second}:note",
                            first_name="An")  # fmt: skip
        note_prompt = prompt_for(fake, room, second, count)
        citizen_before = len(fake.messages(7202))
        fake.member_sends(room, OFFICER_A, "Đã gọi điện, ông hẹn thứ Hai gửi bổ sung.",
                          reply_to=note_prompt.message_id, first_name="An")  # fmt: skip
        message_with(fake, room, f"Đã lưu ghi chú nội bộ cho {second}")
        assert [(s, a, n) for s, a, n, _ in history(bot, second)] == [
            ("new", None, None),
            ("in_progress", "take", "Bình"),
            ("waiting_citizen", None, "Bình"),
            ("waiting_citizen", "takeover", "An"),
            ("waiting_citizen", "note", "An"),
        ]
        assert not history(bot, second)[-1][3]  # the note is not public

        # /hoso with the bot's name, and the filters: mine, nobody's, overdue.
        count = len(fake.messages(room))
        fake.member_sends(room, OFFICER_A, f"/hoso@sipas_test_bot {second}", first_name="An")
        shown = message_with(fake, room, "Ghi chú nội bộ (An): Đã gọi điện", after=count)
        assert "An nhận thay" in (shown.text or "")
        count = len(fake.messages(room))
        fake.member_sends(room, OFFICER_A, "/hoso cua-toi", first_name="An")
        mine = message_with(fake, room, "Phản ánh đang mở (của tôi): 1", after=count)
        assert second in (mine.text or "")
        assert first not in (mine.text or "")
        count = len(fake.messages(room))
        fake.member_sends(room, OFFICER_B, "/hoso@sipas_test_bot chua-nhan", first_name="Bình")
        message_with(fake, room, "Không có phản ánh mở nào chưa có người nhận.", after=count)
        count = len(fake.messages(room))
        fake.member_sends(room, OFFICER_B, "/hoso qua-han", first_name="Bình")
        message_with(fake, room, "Không có phản ánh nào quá hạn.", after=count)
        # Choosing a case from the list leaves the list usable.
        count = len(fake.messages(room))
        fake.member_sends(room, OFFICER_B, "/hoso", first_name="Bình")
        listed = message_with(fake, room, "Phản ánh đang mở: 1", after=count)
        fake.member_presses(room, OFFICER_B, listed.message_id, f"case:{second}:view")
        message_with(fake, room, f"Phản ánh {second}", "Loại:", after=count + 1)
        assert fake.keyboard(fake.message(room, listed.message_id)) == fake.keyboard(listed)

        # The citizen heard of nothing internal; the member never got a word.
        assert len(fake.messages(7202)) == citizen_before
        texts = [m.text or "" for m in fake.messages(room)]
        assert not any("Bấm /start" in t or "Xin chào" in t for t in texts)
    finally:
        bot.stop()


def test_a_group_that_becomes_a_supergroup_loses_nothing(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = start_bot(fake, tmp_path, GROUP)
    try:
        first = file_complaint(fake, 7301, "Đường ngõ 12 ngập nước sau mưa.")
        card = card_of(fake, GROUP, first)
        count = len(fake.messages(GROUP))
        fake.member_presses(GROUP, OFFICER_A, card.message_id, f"case:{first}:answer",
                            first_name="An")  # fmt: skip
        prompt = prompt_for(fake, GROUP, first, count)

        # Telegram upgrades the group; the bot is not told yet, and a new case comes in: the
        # send to the old id fails with migrate_to_chat_id, the room moves, the card arrives.
        fake.migrate_group(GROUP, NEW_SUPERGROUP, announce=False)
        second = file_complaint(fake, 7302, "Hồ sơ chuyển mục đích sử dụng đất bị trả lại.")
        card_2 = card_of(fake, NEW_SUPERGROUP, second)
        assert "event=staff_room_moved" in bot.output()
        with sqlite3.connect(bot.workdir / "bot.db") as conn:
            dead = conn.execute("SELECT count(*) FROM outbox WHERE status = 'dead'").fetchone()[0]
        assert dead == 0

        # The answer A was in the middle of, typed in the supergroup, still goes through.
        fake.member_sends(NEW_SUPERGROUP, OFFICER_A, "Đã cho nạo vét cống, xin cảm ơn.",
                          reply_to=prompt.message_id, first_name="An")  # fmt: skip
        told = message_with(fake, 7301, "đã được giải quyết")
        assert "nạo vét cống" in (told.text or "")
        message_with(fake, NEW_SUPERGROUP, f"Đã cập nhật {first}: Đã giải quyết")
        # And the new card works there: B takes it, the card is redrawn in place.
        fake.member_presses(NEW_SUPERGROUP, OFFICER_B, card_2.message_id, f"case:{second}:take",
                            first_name="Bình")  # fmt: skip
        redrawn_saying(fake, NEW_SUPERGROUP, card_2.message_id, "Người xử lý: Bình")
        assert case_row(bot, second) == ("in_progress", "Bình")
        # After a restart the move is known from storage: not logged again.
        bot.stop()
        bot.start()
        fake.member_sends(NEW_SUPERGROUP, OFFICER_B, "/hoso cua-toi", first_name="Bình")
        message_with(fake, NEW_SUPERGROUP, "Phản ánh đang mở (của tôi): 1")
        assert bot.output().count("event=staff_room_moved") == 0  # known from storage
    finally:
        bot.stop()


def test_migration_announced_by_service_messages(fake: FakeTelegram, tmp_path: Path) -> None:
    bot = start_bot(fake, tmp_path, GROUP)
    try:
        fake.migrate_group(GROUP, NEW_SUPERGROUP)
        fake.member_sends(NEW_SUPERGROUP, OFFICER_A, "/hoso", first_name="An")
        message_with(fake, NEW_SUPERGROUP, "Không có phản ánh nào đang mở.")
        assert bot.output().count("event=staff_room_moved") == 1
        assert not [c for c in fake.calls if c.chat_id == GROUP and c.status != 200]
    finally:
        bot.stop()


def test_an_answer_to_an_older_prompt_never_reaches_another_case(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """One officer with two prompts open answers the older one: the text is not applied to
    the newer case, its citizen hears nothing, the officer is told; the newer prompt still
    works. In the group the bot speaks staff only: a mention gets the room's help, never the
    citizen's greeting; a member who is not staff gets nothing. Only the holder hands back."""
    bot = start_bot(fake, tmp_path, GROUP)
    try:
        first = file_complaint(fake, 7401, "Hồ sơ cấp phép nộp tháng 3 chưa có kết quả.")
        second = file_complaint(fake, 7402, "Công chức một cửa hẹn lại nhiều lần.")
        card_1, card_2 = card_of(fake, GROUP, first), card_of(fake, GROUP, second)
        prompt_1 = prompted(fake, GROUP, (OFFICER_A, "An"), card_1, first, "answer")
        prompt_2 = prompted(fake, GROUP, (OFFICER_A, "An"), card_2, second, "ask")
        citizen_2 = len(fake.messages(7402))

        count = len(fake.messages(GROUP))
        fake.member_sends(GROUP, OFFICER_A, "Đã có kết quả, mời ông đến nhận ngày 20/12.",
                          reply_to=prompt_1.message_id, first_name="An")  # fmt: skip
        refused = message_with(fake, GROUP, "chưa được gửi hay lưu", after=count)
        assert first in (refused.text or "")
        assert second in (refused.text or "")
        assert case_row(bot, first) == ("new", None)
        assert case_row(bot, second) == ("new", None)
        assert len(fake.messages(7402)) == citizen_2

        # The newer prompt is still the one waiting: answering it reaches its own citizen.
        fake.member_sends(GROUP, OFFICER_A, "Xin gửi bản chụp giấy biên nhận.",
                          reply_to=prompt_2.message_id, first_name="An")  # fmt: skip
        told = message_with(fake, 7402, "bổ sung")
        assert "Xin gửi bản chụp giấy biên nhận." in (told.text or "")
        assert "mời ông đến nhận" not in (told.text or "")
        # The older prompt answered again: nothing waits for it, nothing is applied.
        count = len(fake.messages(GROUP))
        fake.member_sends(GROUP, OFFICER_A, "Đã có kết quả.", reply_to=prompt_1.message_id,
                          first_name="An")  # fmt: skip
        message_with(fake, GROUP, f"Không có lời nhắc nào của phản ánh {first}", after=count)
        assert case_row(bot, first) == ("new", None)
        assert not any("đã được giải quyết" in (m.text or "") for m in fake.messages(7401))

        # Staff wording only: B's mention, /start and /phananh get the room's help.
        for said in ("@sipas_test_bot xin chào", "/start@sipas_test_bot", "/phananh"):
            count = len(fake.messages(GROUP))
            fake.member_sends(GROUP, OFFICER_B, said, first_name="Bình")
            message_with(fake, GROUP, "Trong nhóm cán bộ", after=count)
        # Only A, who has case 2 now, hands it back; B is told so, and nothing changes.
        count = len(fake.messages(GROUP))
        fake.member_presses(GROUP, OFFICER_B, card_2.message_id, f"case:{second}:release",
                            first_name="Bình")  # fmt: skip
        message_with(fake, GROUP, "chỉ người đang xử lý mới chuyển lại", after=count)
        assert case_row(bot, second) == ("waiting_citizen", "An")
        # A member who is not staff: a mention and a reply to a prompt get nothing.
        before = len(fake.messages(GROUP))
        assert fake.member_sends(GROUP, MEMBER, "@sipas_test_bot chào") is not None
        assert fake.member_sends(GROUP, MEMBER, "ok", reply_to=prompt_2.message_id) is not None
        # A last command from an officer, answered after the member's messages were read.
        fake.member_sends(GROUP, OFFICER_B, "/hoso chua-nhan", first_name="Bình")
        listed = message_with(fake, GROUP, "Phản ánh đang mở (chưa có ai nhận): 1", after=before)
        assert first in (listed.text or "")
        assert len(fake.messages(GROUP)) == before + 1

        texts = [m.text or "" for m in fake.messages(GROUP)]
        assert not any("Xin chào" in t or "Ông/Bà muốn làm gì" in t for t in texts)
    finally:
        bot.stop()


def test_a_case_changed_from_another_chat_redraws_the_rooms_card(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """An officer working one-to-one (a private chat here; a Zalo officer the same way) takes
    and answers a case: the group's card is edited each time, as when a colleague acts
    there, and shows the holder's name."""
    bot = start_bot(fake, tmp_path, GROUP)
    try:
        code = file_complaint(fake, 7203, "Hồ sơ cấp phép nộp tháng 3 chưa có kết quả.")
        card = card_of(fake, GROUP, code)
        send_and_wait(fake, OFFICER_A, f"/hoso {code}")
        press(fake, OFFICER_A, f"case:{code}:take")
        taken = redrawn_saying(fake, GROUP, card.message_id, "Người xử lý: Citizen")
        assert "Trạng thái: Đang xử lý" in (taken.text or "")
        press(fake, OFFICER_A, f"case:{code}:answer")
        send_and_wait(fake, OFFICER_A, "Đã có kết quả, mời ông đến nhận.")
        closed = redrawn_saying(fake, GROUP, card.message_id, "Trạng thái: Đã giải quyết")
        assert fake.keyboard(closed) == []  # nothing left to do on a closed case
        assert case_row(bot, code) == ("resolved", "Citizen")
    finally:
        bot.stop()
