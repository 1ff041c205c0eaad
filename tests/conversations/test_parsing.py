"""Reading what citizens type: ratings, numbers, labels, yes/no."""

from __future__ import annotations

import pytest

from conversations import clean_text, load_questionnaire
from conversations.parsing import match_label, normalize, parse_numbers, parse_rating, yes_no

Q = load_questionnaire("sipas-2640")
LABELS = {v: Q.texts[f"scale.{v}"].values() for v in Q.scale}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", 5),
        (" 1 ", 1),
        ("⑤", 5),
        ("năm", 5),
        ("Bốn", 4),
        ("ba", 3),
        ("Rất hài lòng", 5),
        ("rat hai long", 5),
        ("HÀI LÒNG", 4),
        ("không hài lòng", 2),
        ("Very dissatisfied", 1),
        ("6", None),
        ("0", None),
        ("tuyệt vời", None),
        ("", None),
        ("4.5", None),
    ],
    ids=[
        "digit", "padded", "circled", "word", "word-capital", "word-three", "label",
        "label-no-accents", "label-upper", "label-negative", "label-en", "out-of-range",
        "zero", "free-words", "empty", "decimal",
    ],
)  # fmt: skip
def test_parse_rating(raw: str, expected: int | None) -> None:
    assert parse_rating(raw, LABELS) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1, 3 5", [1, 3, 5]),
        ("2", [2]),
        ("1;2", [1, 2]),
        ("1 và 2", [1, 2]),
        ("", None),
        ("⑤", None),
        ("²", None),
        ("99999", None),
    ],
    ids=[
        "mixed-separators",
        "one",
        "semicolon",
        "words",
        "empty",
        "circled",
        "superscript",
        "huge",
    ],
)
def test_parse_numbers(raw: str, expected: list[int] | None) -> None:
    assert parse_numbers(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Có", "yes"), ("co", "yes"), ("Yes", "yes"), ("Không", "no"), ("ko", "no"), ("có lẽ", None)],
    ids=["co", "co-bare", "yes", "khong", "ko", "maybe"],
)
def test_yes_no(raw: str, expected: str | None) -> None:
    assert yes_no(raw) == expected


def test_normalize_strips_diacritics_and_d() -> None:
    assert normalize("  Đơn giản hóa   THỦ TỤC! ") == "don gian hoa thu tuc"


def test_match_label_in_either_language() -> None:
    labels = {"posted": ("Niêm yết tại cơ quan", "Notice board at the agency")}
    assert match_label("niem yet tai co quan", labels) == "posted"
    assert match_label("notice board at the agency", labels) == "posted"
    assert match_label("niêm yết", labels) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Rất hài lòng", "Rất hài lòng"),
        ("a\x00b", "ab"),
        ("dòng 1\ndòng 2\tcột", "dòng 1\ndòng 2 cột"),
        ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),
        ("".join(map(chr, range(32))), ""),  # nothing readable is left
        ("x\ud800y\udfffz", "xyz"),
        ("emoji 😀 stays", "emoji 😀 stays"),
        ("\x7f\u0085\u200b kept", "kept"),
    ],
    ids=[
        "plain",
        "nul",
        "newline-tab",
        "carriage-return",
        "all-c0",
        "lone-surrogates",
        "emoji",
        "not-c0",
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected
    assert clean_text(expected) == expected
    expected.encode("utf-8")  # what both drivers do with it
    assert "\x00" not in expected
