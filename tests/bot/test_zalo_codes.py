"""Short receipt codes: how they are drawn, printed, read back however typed, and refused
when one digit is wrong or two neighbours are swapped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.zalo import parse_text
from bot.channels.zalo_codes import candidate, is_valid, new_code, printed
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
        assert parse_text(typed) == Command("start", code), typed
        assert parse_text(f"/start {typed}") == Command("start", code), typed
        assert parse_text(f"/batdau {typed}") == Command("batdau", code), typed


@pytest.mark.parametrize(
    "text",
    [
        "0912345678",  # a mobile number: codes never start with 0
        "091 234 5678",
        "+84 912 345 678",
        "84912345678",
        "4821-7730-1",  # nine digits
        "4821-7730-155",  # eleven
        "số nhà 12",
        "12",
        "mã 48217730x5",
        "",
    ],
)
def test_other_texts_stay_text(text: str) -> None:
    assert candidate(text) is None
    assert isinstance(parse_text(text), Text)
