"""Short receipt codes: how they are drawn, printed, read back however typed, and refused
when one digit is wrong or two neighbours are swapped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.zalo_codes import candidate, is_valid, near_miss, new_code, printed
from bot.channels.zalo_events import parse_text
from conversations import Command, Text

CODES = st.builds(lambda _: new_code(), st.integers())


@given(CODES)
def test_a_new_code_is_ten_digits_never_starting_with_zero_and_valid(code: str) -> None:
    assert len(code) == 10
    assert code.isdigit()
    assert code[0] != "0"
    assert is_valid(code)


@given(CODES, st.integers(0, 9), st.integers(1, 9))
def test_one_wrong_digit_is_refused(code: str, position: int, shift: int) -> None:
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert not is_valid(wrong)


@given(CODES, st.integers(0, 8))
def test_two_neighbours_swapped_are_refused(code: str, position: int) -> None:
    a, b = code[position], code[position + 1]
    swapped = code[:position] + b + a + code[position + 2 :]
    assert swapped == code or not is_valid(swapped)


@given(CODES)
def test_however_it_is_typed_it_reads_the_same(code: str) -> None:
    shown = printed(code)
    assert shown == f"{code[:4]}-{code[4:8]}-{code[8:]}"
    for typed in (
        shown,
        shown.replace("-", " "),
        shown.replace("-", "."),
        f"mã {shown}",
        f"MÃ SỐ: {code}",
        f"Ma {code}",
        f"code #{shown}",
        f"  {code[:2]} {code[2:5]} – {code[5:]}  ",
        shown.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ):
        assert candidate(typed) == code, typed
        # Typed without /start: the message is kept, for a step that reads text.
        parsed = parse_text(typed)
        assert isinstance(parsed, Command), typed
        assert (parsed.name, parsed.arg, bool(parsed.typed)) == ("start", code, True), typed
        assert parse_text(f"/start {typed}") == Command("start", code), typed
        assert parse_text(f"/batdau {typed}") == Command("batdau", code), typed


@pytest.mark.parametrize(
    "text",
    [
        "+84 912 345 678",
        "số nhà 12",
        "1234567",  # seven digits: too far from a code to be one
        "48217730155512",  # fourteen
        "12",
        "mã 48217730x5",
        "",
    ],
)
def test_other_texts_stay_text(text: str) -> None:
    assert candidate(text) is None
    assert near_miss(text) is None
    assert isinstance(parse_text(text), Text)


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("0912345678", "0912345678"),  # a leading 0 (a phone number where one is asked)
        ("091 234 5678", "0912345678"),
        ("84912345678", "84912345678"),
        ("4821-7730-1", "482177301"),  # nine digits
        ("4821-7730-155", "48217730155"),  # eleven
        ("mã 4821 7730 15 9", "48217730159"),  # an extra digit
        ("48217730", "48217730"),  # eight
    ],
)
def test_a_code_of_the_wrong_shape_is_read_as_a_code_to_hint_at(text: str, digits: str) -> None:
    """Not a code (``candidate``), but digits meant as one: read as ``/start`` with the
    message kept, so a step that reads text still gets the text (a phone number)."""
    assert candidate(text) is None
    assert near_miss(text) == digits
    parsed = parse_text(text)
    assert isinstance(parsed, Command)
    assert (parsed.name, parsed.arg, parsed.typed) == ("start", digits, text)
    assert parse_text(f"/start {text}") == Command("start", digits)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # The label printed on the slip, typed with the code, and what people write around it.
        ("Gửi mã 4825-1993-40", "4825199340"),
        ("gửi mã: 4825199340", "4825199340"),
        ("GUI MA 4825 1993 40", "4825199340"),
        ("Gửi mã / send: 4825-1993-40", "4825199340"),
        ("Mã biên nhận: 4825-1993-40", "4825199340"),
        ("mã hồ sơ 4825199340", "4825199340"),
        ("Số 4825199340", "4825199340"),
        ("Tôi gửi mã 4825-1993-40 ạ", "4825199340"),
        ("4825-1993-40 ạ", "4825199340"),
        ("Mã 4825-1993-40, cảm ơn", "4825199340"),
        # A wrong check digit is still read as a code, to be answered as a wrong code.
        ("Tôi gửi mã 4825-1993-41 ạ", "4825199341"),
        # Not a code: a phone number, two numbers, a long message, a number of another shape.
        ("Số điện thoại 0912 345 678 ạ", None),
        ("Tôi ở số 12, mã 4825199340", None),
        ("Công trình lấn chiếm vỉa hè, xin xem giúp hồ sơ 4825199340 ạ, cảm ơn nhiều", None),
        ("Số nhà 12 đường Lê Lợi", None),
    ],
)
def test_a_code_inside_a_short_sentence_is_found(typed: str, read: str | None) -> None:
    assert candidate(typed) == read


@pytest.mark.parametrize(
    "text",
    [
        "PA-2026-000001",
        "pa 2026 000123",
        "mã PA-2026-000123",
        "Tra cứu PA-2026-000123 giúp tôi ạ",
        "PA-２０２６-０００１２３",
    ],
)
def test_a_tracking_code_is_never_a_receipt_code(text: str) -> None:
    """Its digits "2026000123" have a receipt code's shape: the code inside a sentence must
    not read them as one (found on the web chat: "PA-2026-000001" became /start)."""
    assert candidate(text) is None
