"""Reading and masking the Vietnamese phone number a complaint's sender types."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.phone import MOBILE_PREFIXES, mask_phone, normalize_phone

# Written out rather than taken from the module, so a wrong edit to the module shows up here.
CURRENT_MOBILE_PREFIXES = [
    "032", "033", "034", "035", "036", "037", "038", "039",
    "052", "055", "056", "058", "059",
    "070", "076", "077", "078", "079",
    "081", "082", "083", "084", "085", "086", "087", "088", "089",
    "090", "091", "092", "093", "094", "096", "097", "098", "099",
]  # fmt: skip
UNUSED_PREFIXES = [
    "030", "031", "050", "051", "053", "054", "057", "060", "069", "071", "072", "073", "074",
    "075", "080", "095", "010", "012", "016", "018", "019",
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("0912345678", "0912345678", id="plain"),
        pytest.param("0912 345 678", "0912345678", id="spaces"),
        pytest.param("  0912345678\n", "0912345678", id="surrounding-whitespace"),
        pytest.param("0912.345.678", "0912345678", id="dots"),
        pytest.param("0912-345-678", "0912345678", id="dashes"),
        pytest.param("(0912) 345 678", "0912345678", id="parentheses"),
        pytest.param("0912\u00a0345\u00a0678", "0912345678", id="no-break-spaces"),
        pytest.param("+84912345678", "0912345678", id="plus84"),
        pytest.param("+84 912 345 678", "0912345678", id="plus84-spaces"),
        pytest.param("(+84) 912.345.678", "0912345678", id="plus84-parenthesised"),
        pytest.param("+84 (0) 912 345 678", "0912345678", id="plus84-trunk-zero"),
        pytest.param("84912345678", "0912345678", id="84-without-plus"),
        pytest.param("0084 912 345 678", "0912345678", id="0084-call-prefix"),
        pytest.param("０９１２３４５６７８", "0912345678", id="full-width-digits"),
        pytest.param("＋８４ ９１２ ３４５ ６７８", "0912345678", id="full-width-plus84"),
        pytest.param("0321234567", "0321234567", id="viettel-03x"),
        pytest.param("0561234567", "0561234567", id="vietnamobile-05x"),
        pytest.param("0701234567", "0701234567", id="mobifone-07x"),
        pytest.param("0851234567", "0851234567", id="vinaphone-08x"),
        pytest.param("0991234567", "0991234567", id="gmobile-09x"),
        pytest.param("024 3825 3535", "02438253535", id="landline-hanoi"),
        pytest.param("(028) 3829 1234", "02838291234", id="landline-hcmc"),
        pytest.param("0226.385.1234", "02263851234", id="landline-ha-nam"),
        pytest.param("+84 24 3825 3535", "02438253535", id="landline-international"),
    ],
)
def test_normalize_phone_accepts(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("--.()", id="separators-only"),
        pytest.param("09123abc78", id="letters"),
        pytest.param("0912345678 ext 12", id="extension"),
        pytest.param("không có", id="words"),
        pytest.param("091234567", id="9-digits"),
        pytest.param("091234567890", id="12-digits"),
        pytest.param("912345678", id="missing-leading-zero"),
        pytest.param("01681234567", id="old-0168-prefix"),
        pytest.param("01212345678", id="old-0121-prefix"),
        pytest.param("+841681234567", id="old-prefix-international"),
        pytest.param("0951234567", id="095-not-in-use"),
        pytest.param("0243825353", id="landline-10-digits"),
        pytest.param("024382535351", id="landline-12-digits"),
        pytest.param("19001234", id="hotline-1900"),
        pytest.param("1900 1234", id="hotline-1900-spaced"),
        pytest.param("18001091", id="hotline-1800"),
        pytest.param("1900123456", id="hotline-10-digits"),
        pytest.param("📞0912345678", id="emoji-prefix"),
        pytest.param("0912345678😀", id="emoji-suffix"),
        pytest.param("٠٩١٢٣٤٥٦٧٨", id="arabic-indic-digits"),
        pytest.param("+1 415 555 0100", id="foreign-us"),
        pytest.param("+65 9123 4567", id="foreign-singapore"),
        pytest.param("++84912345678", id="double-plus"),
        pytest.param("0912+345678", id="plus-inside"),
        pytest.param("+84", id="country-code-only"),
        pytest.param("+", id="plus-only"),
        pytest.param("0912/345/678", id="slashes"),
    ],
)
def test_normalize_phone_rejects(raw: str) -> None:
    assert normalize_phone(raw) is None


@pytest.mark.parametrize("prefix", CURRENT_MOBILE_PREFIXES)
def test_every_current_mobile_prefix_is_accepted(prefix: str) -> None:
    assert normalize_phone(f"{prefix}1234567") == f"{prefix}1234567"
    assert normalize_phone(f"+84 {prefix[1:]} 123 4567") == f"{prefix}1234567"


@pytest.mark.parametrize("prefix", UNUSED_PREFIXES)
def test_unused_mobile_prefix_is_rejected(prefix: str) -> None:
    assert normalize_phone(f"{prefix}1234567") is None


def test_prefix_table_matches_module() -> None:
    assert set(CURRENT_MOBILE_PREFIXES) == MOBILE_PREFIXES


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("0912345678", "0912***678", id="mobile"),
        pytest.param("+84 912 345 678", "0912***678", id="normalised-first"),
        pytest.param("02438253535", "0243****535", id="landline"),
        pytest.param("12345", "***", id="invalid"),
        pytest.param("", "***", id="empty"),
    ],
)
def test_mask_phone(raw: str, expected: str) -> None:
    assert mask_phone(raw) == expected


DIGITS = st.text(alphabet="0123456789", min_size=7, max_size=7)


@given(prefix=st.sampled_from(CURRENT_MOBILE_PREFIXES), rest=DIGITS, sep=st.sampled_from(" .-"))
def test_typed_variants_agree_and_are_stable(prefix: str, rest: str, sep: str) -> None:
    number = prefix + rest
    variants = [number, f"{number[:4]}{sep}{number[4:7]}{sep}{number[7:]}", f"+84{number[1:]}"]
    assert {normalize_phone(v) for v in variants} == {number}
    assert normalize_phone(number) == number  # idempotent on its own output
    masked = mask_phone(number)
    assert masked.startswith(number[:4])
    assert masked.endswith(number[-3:])
    assert set(masked[4:-3]) == {"*"}


@given(st.text(max_size=30))
def test_any_text_gives_none_or_a_national_number(text: str) -> None:
    result = normalize_phone(text)
    assert result is None or (result.isascii() and result.isdigit() and result[0] == "0")
