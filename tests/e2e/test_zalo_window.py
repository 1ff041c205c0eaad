"""End to end over the fake Zalo with a controlled clock: a complaint filed on Zalo and
answered by staff 10 days later reaches the citizen as a template message when the agency
has one, or is held and arrives (once) when the citizen writes again, across a restart.

Each "process life" is the real wiring in this test's event loop: the signed webhook served
by uvicorn, the dispatcher, the outbox sender and the Zalo sender with its token store and
window, all on one SQLite file; the fake OA is reached over real HTTP. The clock is the
test's, so 10 days pass at once (the webhook's replay window is widened to match)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.zalo_codes import is_valid, printed
from storage import read_transaction, write_transaction
from storage.queries.receipts import NewReceipt, issue_receipts
from storage.schema import complaints
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo, running
from tests.support.zalo_e2e import (
    CITIZEN,
    STAFF,
    Life,
    counts,
    digest_counts,
    file_and_answer_later,
    file_complaint,
    life,
    seeded_database,
)

__all__ = ["CITIZEN", "STAFF", "Life", "life"]  # shared with the neighbouring Zalo tests

TEMPLATE = "358912"
CODE = "4821773015"
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with running(TEMPLATE) as fake:
        yield fake


@pytest.fixture
async def database(zalo: FakeZalo, tmp_path: Path) -> Database:
    return await seeded_database(zalo, tmp_path)


async def test_ten_days_later_the_answer_goes_as_a_template(
    zalo: FakeZalo, database: Database
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, TEMPLATE) as bot:
        code = await file_and_answer_later(bot, clock)
    [sent] = zalo.template_sends
    assert (sent.user_id, sent.template_id) == (CITIZEN, TEMPLATE)
    # Staff are told how the sender hears of it: by a template message.
    told = zalo.messages(STAFF)[-1].text
    assert "Người gửi được báo bằng tin mẫu Zalo" in told, told
    assert code in sent.data["content"]
    assert "đã tháo dỡ phần lấn chiếm" in sent.data["content"]
    # How to answer it from a template with no buttons: a number, or any message to the OA.
    assert "nhắn cho OA này một chữ số từ 1" in sent.data["content"], sent.data
    assert [s.error for s in zalo.sends if s.user_id == CITIZEN and s.error] == []
    # The template has no rating buttons: the answer with its buttons waits for the
    # citizen's next message, and comes first then; the rating pressed is recorded.
    assert (await counts(database)).get("held", 0) == 1
    # The digest counts it once, as what reached the citizen: sent as a template; not also
    # as held while its buttons wait, nor as re-sent when they go.
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
    before = len(zalo.messages(CITIZEN))
    async with life(zalo, database, clock, TEMPLATE) as bot:
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
        first = zalo.messages(CITIZEN)[before]
        assert code in first.text
        rate = [payload for _, _, payload in first.buttons if payload.startswith("#c:rate:")]
        assert len(rate) == 5, first.buttons
        await bot.press(CITIZEN, rate[-1])
    thanks = " ".join(m.text for m in zalo.messages(CITIZEN)[before + 1 :])
    assert "cảm ơn" in thanks.lower(), thanks
    assert (await counts(database)).get("held", 0) == 0
    assert len(zalo.template_sends) == 1
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})


async def test_without_a_template_the_answer_waits_and_arrives_once_after_a_restart(
    zalo: FakeZalo, database: Database
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock) as bot:
        code = await file_and_answer_later(bot, clock)
        before = len(zalo.messages(CITIZEN))
    assert (await counts(database))["held"] == 1
    # Staff are told the truth: not "the sender has been told", but held until they write.
    told = zalo.messages(STAFF)[-1].text
    assert "Người gửi chưa được báo" in told, told
    assert "đã được báo" not in told
    assert zalo.template_sends == []
    clock.now += timedelta(hours=5)
    async with life(zalo, database, clock) as bot:  # restarted
        assert len(zalo.messages(CITIZEN)) == before
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
        await bot.text(CITIZEN, "Cảm ơn")
    after = [m.text for m in zalo.messages(CITIZEN)[before:]]
    answered = [t for t in after if "đã tháo dỡ phần lấn chiếm" in t]
    assert len(answered) == 1, after
    assert code in answered[0]
    assert after[0] == answered[0]  # the held answer comes before the replies
    assert "gõ một chữ số từ 1" in after[0], after[0]  # how to rate it by typing
    assert (await counts(database)).get("held", 0) == 0
    # Held, then re-sent: the digest tells both.
    assert await digest_counts(database) == (0, {"held": 1, "resent": 1, "template": 0})


async def test_inside_the_window_staff_are_told_the_sender_was_told(
    zalo: FakeZalo, database: Database
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, TEMPLATE) as bot:
        code = await file_complaint(bot)
        clock.now += timedelta(days=1)
        await bot.text(STAFF, "/start")
        await bot.press(STAFF, f"#c:case:{code}:answer")
        await bot.text(STAFF, "Đã xử lý xong.")
    assert "Người gửi đã được báo" in zalo.messages(STAFF)[-1].text
    assert zalo.template_sends == []


async def test_wrong_short_codes_are_limited_per_chat_and_day(
    zalo: FakeZalo, database: Database
) -> None:
    assert is_valid(CODE)
    engine = database.open()
    async with write_transaction(engine) as conn:
        await issue_receipts(conn, [NewReceipt("t" * 24, "1.009972", short_code=CODE)], NOW)
    await engine.dispose()
    clock = SettableClock(datetime.now(UTC))
    # Eight with another first digit, two with another check digit (one printed).
    wrong = [c for c in (f"{n}{CODE[1:]}" for n in range(1, 10)) if c != CODE]
    wrong += [CODE[:9] + "0", printed(CODE[:9] + "1")]
    assert len(wrong) == 10
    async with life(zalo, database, clock) as bot:
        for code in wrong:
            before = len(zalo.messages(CITIZEN))
            await bot.text(CITIZEN, code)
            answer = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
            assert "Mã trên giấy biên nhận không đúng" in answer, code
        before = len(zalo.messages(CITIZEN))
        await bot.text(CITIZEN, printed(CODE))  # the right one, but not today
        [refused] = zalo.messages(CITIZEN)[before:]
        assert "sai mã trên giấy biên nhận 10 lần hôm nay" in refused.text
        await bot.text(STAFF, printed(CODE))  # another chat is not held back
        assert "Ông/Bà có đồng ý tham gia không?" in zalo.messages(STAFF)[-1].text
        clock.now += timedelta(days=1)
        await bot.text(CITIZEN, f"mã {CODE}")
        assert "Ông/Bà có đồng ý tham gia không?" in zalo.messages(CITIZEN)[-1].text


async def test_a_code_of_the_wrong_length_gets_its_format_and_counts_as_wrong(
    zalo: FakeZalo, database: Database
) -> None:
    """9 or 11 digits, a leading 0, extra digits, however separated: the citizen is told what
    a code looks like (not silence, not the menu), and each counts toward the day's limit."""
    engine = database.open()
    async with write_transaction(engine) as conn:
        await issue_receipts(conn, [NewReceipt("t" * 24, "1.009972", short_code=CODE)], NOW)
    await engine.dispose()
    clock = SettableClock(datetime.now(UTC))
    shown = printed(CODE)
    misshapen = [
        shown[:-1],  # nine digits
        shown + "5",  # eleven
        "0" + CODE,  # a leading 0, eleven
        "0" + CODE[1:],  # a leading 0, ten
        f"mã {CODE[:4]} {CODE[4:8]} {CODE[8:]} 77",  # extra digits
        CODE[:8],  # eight
        "0912 345 678",
        f"/start {shown[:-1]}",
        CODE + "123",
        "84" + CODE[:9],
    ]
    async with life(zalo, database, clock) as bot:
        for text in misshapen:
            before = len(zalo.messages(CITIZEN))
            await bot.text(CITIZEN, text)
            answer = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
            assert "gồm 10 chữ số, ví dụ 4821-7730-15" in answer, (text, answer)
        before = len(zalo.messages(CITIZEN))
        await bot.text(CITIZEN, shown)  # the right one, but not today: ten wrong ones
        [refused] = zalo.messages(CITIZEN)[before:]
        assert "sai mã trên giấy biên nhận 10 lần hôm nay" in refused.text


@pytest.mark.parametrize("step", ["phone", "complaint text"])
async def test_ten_digits_at_a_step_that_reads_text_are_text_not_receipt_codes(
    zalo: FakeZalo, database: Database, step: str
) -> None:
    """At the complaint's phone prompt ``1234567891`` is a wrong phone number; in the complaint
    text it is the text. Ten digits whose check digit is wrong are never a receipt code there,
    nor count toward the wrong codes of the day: the right code still opens the survey
    afterwards. (A code whose check digit holds, such as ``1234567890``, is read as a receipt
    code mid-task and asks keep-or-drop: ``tests/conversations/test_typed_code_mid_task.py``.)"""
    engine = database.open()
    async with write_transaction(engine) as conn:
        await issue_receipts(conn, [NewReceipt("t" * 24, "1.009972", short_code=CODE)], NOW)
    await engine.dispose()
    clock = SettableClock(datetime.now(UTC))
    typed = ["1234567891", "2345 6789 01", "9876-5432-10", "mã 5555555555", "4821-7730-1"]
    typed += ["091 234 567", "48217730155"]
    typed += [f"{n}{CODE[1:]}" for n in range(1, 10) if f"{n}{CODE[1:]}" != CODE]
    async with life(zalo, database, clock) as bot:
        await bot.text(CITIZEN, "/phananh")
        await bot.text(CITIZEN, "2")
        if step == "phone":
            await bot.text(CITIZEN, "Công trình lấn chiếm vỉa hè trước số 12 đường Lê Lợi.")
            await bot.text(CITIZEN, "xong")
            await bot.press(CITIZEN, "#c:c.who:named")
            await bot.text(CITIZEN, "Trần Văn Ba")
        for text in typed if step == "phone" else typed[:1]:
            before = len(zalo.messages(CITIZEN))
            await bot.text(CITIZEN, text)
            answer = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
            assert "giấy biên nhận" not in answer, (text, answer)
            expected = "Số điện thoại chưa đúng" if step == "phone" else "gửi kèm ảnh hoặc tệp"
            assert expected in answer, (text, answer)
        await bot.text(CITIZEN, "/huy")
        await bot.text(CITIZEN, printed(CODE))
        assert "Ông/Bà có đồng ý tham gia không?" in zalo.messages(CITIZEN)[-1].text


async def _held_then_written(
    zalo: FakeZalo, database: Database, act: str, note: str, first: str
) -> tuple[str, list[str]]:
    """A complaint answered (``act``: "answer" or "ask") 10 days after filing, its notice
    held; after a restart the citizen writes ``first``. The code and what they got since."""
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock) as bot:
        code = await file_complaint(bot)
        clock.now += timedelta(days=10)
        zalo.out_of_window(CITIZEN)
        await bot.text(STAFF, "/start")
        await bot.press(STAFF, f"#c:case:{code}:{act}")
        await bot.text(STAFF, note)
        before = len(zalo.messages(CITIZEN))
    assert (await counts(database))["held"] == 1
    async with life(zalo, database, clock) as bot:
        await bot.text(CITIZEN, first)
    return code, [m.text for m in zalo.messages(CITIZEN)[before:]]


async def _rating(database: Database, code: str) -> int | None:
    engine = database.open()
    try:
        async with read_transaction(engine) as conn:
            found = await conn.execute(select(complaints.c.rating).where(complaints.c.code == code))
            rating = found.scalar_one()
            return None if rating is None else int(rating)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("first", ["Cho tôi hỏi kết quả", "Cảm ơn", "5", "Rất hài lòng"])
async def test_a_held_rating_request_re_sent_is_the_question_a_typed_number_answers(
    zalo: FakeZalo, database: Database, first: str
) -> None:
    """The rating request held outside the window goes first when the citizen writes again;
    what they wrote is answered as a reply to it (a rating when it is one), never with "not
    understood" and the menu; a number typed next is the rating of that case."""
    code, got = await _held_then_written(zalo, database, "answer", "Đã xử lý xong.", first)
    assert code in got[0], got
    assert "Đã xử lý xong." in got[0], got
    said = " ".join(got[1:])
    assert "chưa hiểu ý" not in said, got
    clock = SettableClock(datetime.now(UTC) + timedelta(days=10, hours=1))
    if first[0] == "5" or first.startswith("Rất"):
        assert "Cảm ơn Ông/Bà đã đánh giá" in said, got
    else:
        assert "gõ một chữ số từ 1" in said, got  # how to answer it by typing
        assert "Cảm ơn Ông/Bà đã đánh giá" not in said, got
        before = len(zalo.messages(CITIZEN))
        async with life(zalo, database, clock) as bot:
            await bot.text(CITIZEN, "4")
        after = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
        assert "Cảm ơn Ông/Bà đã đánh giá" in after, after
    assert await _rating(database, code) == (4 if first[0] not in "5R" else 5)


async def test_a_held_request_for_more_re_sent_is_the_question_a_typed_number_answers(
    zalo: FakeZalo, database: Database
) -> None:
    """The same for the request to send more (its one button, "Gửi bổ sung"): the message
    that reopened the window is not "not understood", and "1" typed next is that button."""
    code, got = await _held_then_written(
        zalo, database, "ask", "Xin gửi ảnh hiện trường.", "Chào anh"
    )
    assert code in got[0], got
    assert "Xin gửi ảnh hiện trường." in got[0], got
    assert "chưa hiểu ý" not in " ".join(got[1:]), got
    clock = SettableClock(datetime.now(UTC) + timedelta(days=10, hours=1))
    before = len(zalo.messages(CITIZEN))
    async with life(zalo, database, clock) as bot:
        await bot.text(CITIZEN, "1")
    after = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
    assert "Mời Ông/Bà gõ nội dung bổ sung" in after, after


@pytest.mark.parametrize(("template", "code"), [("", -230), ("", -232), (TEMPLATE, -230)])
async def test_staff_told_the_sender_was_told_are_corrected_when_zalo_refuses(
    zalo: FakeZalo, database: Database, template: str, code: int
) -> None:
    """Our record says the citizen wrote 2 days ago, Zalo says the window is closed: staff
    were told "the sender has been told"; once Zalo refuses the notice and it is held (or
    goes as a template), the officer who acted gets a short correction, and the case's
    history keeps it."""
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, template) as bot:
        case = await file_complaint(bot)
        clock.now += timedelta(days=2)
        zalo.out_of_window(CITIZEN, code)
        await bot.text(STAFF, "/start")
        await bot.press(STAFF, f"#c:case:{case}:answer")
        await bot.text(STAFF, "Đã xử lý xong.")
        told = [m.text for m in zalo.messages(STAFF)[-2:]]
        assert "Người gửi đã được báo" in told[0], told
        fixed = "đã gửi bằng tin mẫu Zalo" if template else "sẽ gửi ngay khi người dân nhắn OA"
        assert case in told[1], told
        assert "chưa gửi được tới người dân" in told[1], told
        assert fixed in told[1], told
        await bot.text(STAFF, f"/hoso {case}")
        history = " ".join(m.text for m in zalo.messages(STAFF)[-3:])
        assert "chưa gửi được tới người dân" in history, history


@pytest.mark.parametrize(
    ("act", "note", "typed", "expected"),
    [
        ("answer", "Đã xử lý xong.", "5", "Cảm ơn Ông/Bà đã đánh giá"),
        ("answer", "Đã xử lý xong.", "Rất hài lòng", "Cảm ơn Ông/Bà đã đánh giá"),
        ("ask", "Xin gửi ảnh hiện trường.", "1", "Mời Ông/Bà gõ nội dung bổ sung"),
    ],
)
async def test_a_notice_delivered_in_the_window_is_the_question_typing_answers(
    zalo: FakeZalo, database: Database, act: str, note: str, typed: str, expected: str
) -> None:
    """Re-tester #2: a rating request (or a request for more) delivered normally, inside
    the window, with its buttons: the citizen types instead of pressing ("5" opened the
    language picker, "Rất hài lòng" got "not understood", "1" started a survey). What they
    type answers it, as it does a notice held and re-sent; the menu's numbers come back
    once it is answered."""
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock) as bot:
        code = await file_complaint(bot)
        clock.now += timedelta(days=1)
        await bot.text(STAFF, "/start")
        await bot.press(STAFF, f"#c:case:{code}:{act}")
        await bot.text(STAFF, note)
        notice = zalo.messages(CITIZEN)[-1]
        assert code in notice.text, notice.text
        assert note in notice.text, notice.text
        assert notice.buttons, notice  # delivered now, with its buttons
        before = len(zalo.messages(CITIZEN))
        await bot.text(CITIZEN, typed)
        said = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
        assert expected in said, said
        assert "chưa hiểu ý" not in said, said
        if act == "answer":
            before = len(zalo.messages(CITIZEN))
            await bot.text(CITIZEN, "5")  # answered: the menu's 5 again (the language)
            again = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
            assert "Mời Ông/Bà chọn ngôn ngữ" in again, again
    assert (await counts(database)).get("held", 0) == 0
    if act == "answer":
        assert await _rating(database, code) == 5


async def test_a_digit_typed_at_a_task_opened_as_the_rating_request_came_again_rates(
    zalo: FakeZalo, database: Database
) -> None:
    """D7: the citizen wakes the chat with a receipt's short code; the held rating request
    (which says "or type a digit from 1 to 5") goes first, then the survey's consent
    screen. "3" typed next is the rating (not "please choose"), and the consent screen
    comes again; once the rating is given, the consent step reads what is typed again."""
    engine = database.open()
    async with write_transaction(engine) as conn:
        await issue_receipts(conn, [NewReceipt("t" * 24, "1.009972", short_code=CODE)], NOW)
    await engine.dispose()
    code, got = await _held_then_written(zalo, database, "answer", "Đã xử lý xong.", printed(CODE))
    assert code in got[0], got
    assert "gõ một chữ số từ 1" in got[0], got  # what the re-sent request promises
    assert "Ông/Bà có đồng ý tham gia không?" in got[-1], got
    clock = SettableClock(datetime.now(UTC) + timedelta(days=10, hours=1))
    before = len(zalo.messages(CITIZEN))
    async with life(zalo, database, clock) as bot:
        await bot.text(CITIZEN, "3")
        after = [m.text for m in zalo.messages(CITIZEN)[before:]]
        assert "Cảm ơn Ông/Bà đã đánh giá" in after[0], after
        assert "Ông/Bà có đồng ý tham gia không?" in after[-1], after
        assert "vui lòng bấm chọn" not in " ".join(after), after
        before = len(zalo.messages(CITIZEN))
        await bot.text(CITIZEN, "3")  # the rating is given: the consent step's again
        again = " ".join(m.text for m in zalo.messages(CITIZEN)[before:])
        assert "Cảm ơn Ông/Bà đã đánh giá" not in again, again
        assert "Ông/Bà có đồng ý tham gia không?" in again, again
    assert await _rating(database, code) == 3
