"""Validates and normalises the Vietnamese phone number a complaint's sender gives."""

from __future__ import annotations

import re
import unicodedata

# Mobile prefixes in use since the 2018 switch from 11 to 10 digits (the old 012x/016x/018x/
# 019x numbers were renumbered into 03x/05x/07x/08x). 095 (the defunct S-Fone) is not in use.
MOBILE_PREFIXES = frozenset(
    [f"03{d}" for d in "23456789"]
    + ["052", "055", "056", "058", "059"]
    + ["070", "076", "077", "078", "079"]
    + [f"08{d}" for d in "123456789"]
    + ["090", "091", "092", "093", "094", "096", "097", "098", "099"]
)

# What people put between digits: spaces, dots, dashes, parentheses ("(+84) 912.345.678").
_SEPARATORS = re.compile(r"[\s.\-()]+")
# After separators go, only ASCII digits with at most one leading "+" may remain. ASCII only:
# str.isdigit() would also accept Thai or Arabic-Indic digits that NFKC leaves alone.
_SHAPE = re.compile(r"\+?[0-9]+")
_COUNTRY = "84"
_MOBILE_LEN = 10  # 0 + 9 digits
_LANDLINE_LEN = 11  # 02 + area code + subscriber, 11 digits in all since 2017


def normalize_phone(text: str) -> str | None:
    """The number in national format with a leading 0 (``0912345678``), or None if invalid.

    Accepts separators, a leading ``+84``/``84``/``0084`` or ``0``, and an ``(0)`` trunk digit
    after the country code. Full-width digits (some phone keyboards type them) are folded to
    ASCII with NFKC. Only personal numbers pass: 10-digit mobiles with a current prefix and
    11-digit landlines starting with 02; hotlines (1900/1800…) and the retired 11-digit mobile
    numbers (016x, 012x…) do not.
    """
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not _SHAPE.fullmatch(compact):
        return None
    international = compact.startswith("+")
    digits = compact.removeprefix("+")
    if not international and digits.startswith("00"):
        # "0084 912 345 678": the international call prefix dialled from a landline.
        international, digits = True, digits[2:]
    if international:
        if not digits.startswith(_COUNTRY):
            return None  # a foreign number
        national = "0" + digits[len(_COUNTRY) :].removeprefix("0")
    elif digits.startswith(_COUNTRY):
        # "84912345678": the country code without "+". No national number starts with 8.
        national = "0" + digits[len(_COUNTRY) :].removeprefix("0")
    else:
        national = digits
    return national if _is_valid_national(national) else None


def _is_valid_national(number: str) -> bool:
    if len(number) == _MOBILE_LEN:
        return number[:3] in MOBILE_PREFIXES
    if len(number) == _LANDLINE_LEN:
        return number.startswith("02")
    return False


def mask_phone(phone: str) -> str:
    """Hides the middle digits for staff lists and logs: ``0912***678``.

    Keeps the first 4 and the last 3 digits of the normalised number. Anything that is not a
    valid number is masked entirely, so a mistyped value never leaks into a log either.
    """
    number = normalize_phone(phone)
    if number is None:
        return "***"
    return number[:4] + "*" * (len(number) - 7) + number[-3:]
