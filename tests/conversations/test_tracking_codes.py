"""How a tracking code is read from what a citizen types (conversations/flows/tracking.py).

Table-driven: each row is a message as typed on a phone and what the code readers make of it.
"""

from __future__ import annotations

import pytest

from conversations.flows.tracking import codes_in, find_code, looks_like_code, whole_code

CODE = "PA-2026-000123"

#: A message that is nothing but a code: the code; anything else: None.
WHOLE = [
    ("PA-2026-000123", CODE),
    ("pa 2026 000123", CODE),
    ("mã PA-2026-000123", CODE),
    ("Mã số: PA/2026/000123.", CODE),
    ("PA2026000123", CODE),
    ("  PA-2026-000123 !!", CODE),
    # the 60-character limit: 60 characters are read, 61 are not (a long message says more)
    (CODE + " " * 45 + ".", CODE),
    (CODE + " " * 46 + ".", None),
    ("PA-2026-000123 có kết quả chưa?", None),
    ("PA-2026-12345", None),
    ("mã số:", None),  # the lead-in alone, the code not typed yet
    ("", None),
]


@pytest.mark.parametrize(("text", "code"), WHOLE)
def test_whole_code(text: str, code: str | None) -> None:
    assert whole_code(text) == code


def test_the_whole_code_limit_is_sixty_characters() -> None:
    sixty = CODE + " " * 45 + "."
    assert len(sixty) == 60
    assert whole_code(sixty) == CODE
    assert whole_code(sixty + " ") is None


#: Any message: the first code in it.
FIRST = [
    ("tra cứu giúp tôi PA-2026-000123 nhé", CODE),
    ("PA–2026–000123", CODE),  # en dashes, as a word processor puts them
    ("ＰＡ－２０２６－０００１２３", CODE),  # full-width
    ("pa.2026.000123 và PA-2025-000007", CODE),
    ("PA-2026-0001234", None),  # seven digits: no code
    ("SPA-2026-000123", None),  # not at a word's start
    ("mã của tôi là 2026-000123", None),
]


@pytest.mark.parametrize(("text", "code"), FIRST)
def test_find_code(text: str, code: str | None) -> None:
    assert find_code(text) == code


def test_codes_in_finds_every_code_once() -> None:
    text = "PA-2026-000123, pa 2025 000007 và lại PA-2026-000123"
    assert codes_in(text) == {CODE, "PA-2025-000007"}
    assert codes_in("không có mã") == set()


#: Whether a message is a try at a code that cannot be read.
TRIES = [
    ("PA-2026-12345", True),
    ("pa2026", True),
    ("p.a 2026", True),
    ("PA", False),
    ("Phản ánh 2026", False),
    ("2026-000123", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "expected"), TRIES)
def test_looks_like_code(text: str, expected: bool) -> None:
    assert looks_like_code(text) is expected
