"""Short receipt codes a citizen can type: 10 digits printed ``4821-7730-15``.

On Zalo the link cannot carry the receipt's 24-character token, so the citizen types what is
printed on the slip. Nine random digits (the first never 0, so a Vietnamese phone number,
which starts with 0, is never read as a code) and a Verhoeff check digit, which catches every
single wrong digit and every swap of two neighbours (Verhoeff 1969, via python-stdnum).
Typed with spaces, dashes, dots, after "mã" in any case, or glued: all read the same.
Telegram deep links keep the long token (it is never typed).
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from stdnum import verhoeff

from conversations import Command
from conversations.flows.tracking import find_code
from conversations.normalise import clean

DIGITS = 10
#: Separators a citizen may type between the groups (spaces, dashes of any kind, dots).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―.·_/]+")
#: "mã", "ma", "code", "mã số" before the digits, with or without ":" or "#".
_PREFIX = re.compile(r"^(?:m[ãa](?:\s*s[ốo])?|code)\s*[:#]?\s*", re.IGNORECASE)
_SHAPE = re.compile(r"[1-9][0-9]{9}")


def new_code() -> str:
    """A fresh code: 10 digits, the first 1–9, the last Verhoeff's check digit."""
    body = str(secrets.randbelow(9 * 10**8) + 10**8)
    return body + str(verhoeff.calc_check_digit(body))


def printed(code: str) -> str:
    """``4821773015`` as it is printed and shown: ``4821-7730-15``."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def candidate(text: str) -> str | None:
    """The 10 digits ``text`` spells when it looks like a short code (prefix and separators
    dropped, NFKC so full-width digits count), whether or not its check digit is right;
    None for anything else. A whole message counts ("4821 7730 15"), and a short sentence
    with the code as its only number (``in_sentence``); "số nhà 12" does not."""
    if len(text) > SENTENCE:
        return None
    folded = unicodedata.normalize("NFKC", clean(text)).strip()  # bidi marks out first
    folded = _PREFIX.sub("", unicodedata.normalize("NFC", folded))
    digits = _SEPARATORS.sub("", folded)
    if _SHAPE.fullmatch(digits):
        return digits
    return in_sentence(folded)


#: A run of digits with separators between them, as a code is typed inside a sentence.
_RUN = re.compile(r"[0-9](?:[\s\-‐‑‒–—―.·_/]*[0-9])*")
#: The longest message searched for a code inside a sentence.
SENTENCE = 60


def in_sentence(text: str) -> str | None:
    """The code in a short message (at most 60 characters) that holds exactly one run of
    digits, and that run a code's shape: the slip's label typed with it ("Gửi mã / send:
    4825-1993-40"), "Mã biên nhận: ...", "Tôi gửi mã ... ạ". Its check digit is not
    checked here (a wrong one gets the wrong-code answer); more than one number, or a
    longer message, is the citizen's text."""
    if len(text) > SENTENCE or find_code(text) is not None:
        return None  # "PA-2026-000123": a tracking code's digits are no receipt code
    runs = _RUN.findall(text)
    if len(runs) != 1:
        return None
    digits = _SEPARATORS.sub("", runs[0])
    return digits if _SHAPE.fullmatch(digits) else None


#: Digits a citizen may have meant as a short code but mistyped: 8 to 13 of them.
_NEAR = re.compile(r"[0-9]{8,13}")


def near_miss(text: str) -> str | None:
    """The digits ``text`` spells when it looks like a short code typed wrong (read as
    ``candidate`` reads it): 8 to 13 digits that are not 10 beginning with 1-9, such as 9 or
    11 digits, a leading 0, or extra digits. None for a code of the right shape and for
    anything else. Where a step reads typed text it stays text (a phone number)."""
    if len(text) > 40:
        return None
    folded = unicodedata.normalize("NFKC", clean(text)).strip()  # bidi marks out first
    folded = _PREFIX.sub("", unicodedata.normalize("NFC", folded))
    digits = _SEPARATORS.sub("", folded)
    if _NEAR.fullmatch(digits) and not _SHAPE.fullmatch(digits):
        return digits
    return None


def is_valid(code: str) -> bool:
    """Whether ``code`` (10 digits, as ``candidate`` gives it) has the right check digit."""
    return _SHAPE.fullmatch(code) is not None and bool(verhoeff.is_valid(code))


def typed_code(text: str) -> Command | None:
    """A whole message that is a short code, or digits meant as one (``near_miss``), as the
    ``/start`` it stands for, the message kept (``Command.typed``) for a step that reads
    text; None for anything else. Every channel reads a typed slip code so."""
    code = candidate(text) or near_miss(text)
    return None if code is None else Command("start", code, typed=text.strip())
