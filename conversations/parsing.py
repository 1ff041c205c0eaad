"""Reads what a citizen typed: ratings, option numbers, labels and yes/no words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_CIRCLED = {"①": 1, "②": 2, "③": 3, "④": 4, "⑤": 5}
_NUMBER_WORDS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}  # fmt: skip
_BACK = {"quay lai", "tro lai", "lui", "back", "previous"}
_SKIP = {"bo qua", "skip", "next", "tiep"}
_DONE = {"xong", "done", "ok", "hoan tat", "finish"}
_YES = {"co", "yes", "y", "dong y", "vang", "u", "ok"}
_NO = {"khong", "no", "n", "ko", "k"}
#: What a database refuses or mangles in text: NUL (PostgreSQL refuses it, SQLite keeps it,
#: so the two would disagree), the other C0 control characters but line feed and tab, and
#: lone surrogates (neither driver can encode them as UTF-8).
_REFUSED = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Inbound text as every database stores it, applied by each channel's parser to what
    a citizen sent (texts, command arguments, file names): ``"a\\x00b\\r\\n"`` -> ``"ab\\n"``.
    A carriage return becomes a line feed; the other refused characters are dropped."""
    if text.isprintable():
        return text
    return _REFUSED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def normalize(text: str) -> str:
    """Lower case, no diacritics, single spaces: "Rất  Hài lòng!" -> "rat hai long"."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s/+-]", " ", bare).split())


def is_ascii_number(text: str) -> bool:
    """Digits 0-9 only (at least one): what ``int`` takes without an exception. Button data
    comes from the client and may be forged: ``"²".isdigit()`` is True, ``int("²")`` raises."""
    return text.isascii() and text.isdigit()


def is_small_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts "²" and "⑤", which ``int`` refuses."""
    return 0 < len(text) <= 3 and text.isascii() and text.isdigit()


def parse_number(text: str) -> int | None:
    """A lone number, as a digit, circled digit or word (vi/en); None otherwise."""
    stripped = text.strip()
    if stripped in _CIRCLED:
        return _CIRCLED[stripped]
    norm = normalize(stripped)
    if is_small_number(norm):
        return int(norm)
    return _NUMBER_WORDS.get(norm)


def parse_rating(text: str, labels: Mapping[int, Iterable[str]]) -> int | None:
    """A 1–5 rating typed as a number or as the level's words in any language."""
    number = parse_number(text)
    if number is not None:
        return number if number in labels else None
    norm = normalize(text)
    for level, names in labels.items():
        if any(norm == normalize(name) for name in names):
            return level
    return None


def parse_numbers(text: str) -> list[int] | None:
    """Several option numbers, for multi-select: "1, 3 5" -> [1, 3, 5]; None if not all numbers."""
    parts = [p for p in re.split(r"[\s,;.]+", text.strip()) if p]
    if not parts or not all(is_small_number(p) for p in parts):
        return None
    return [int(p) for p in parts]


def match_label(text: str, labels: Mapping[str, Iterable[str]]) -> str | None:
    """The code whose label (in any language) equals the text, ignoring case and accents."""
    norm = normalize(text)
    if not norm:
        return None
    for code, names in labels.items():
        if any(norm == normalize(name) for name in names):
            return code
    return None


def is_back(text: str) -> bool:
    return normalize(text) in _BACK


def is_skip(text: str) -> bool:
    return normalize(text) in _SKIP


def is_done(text: str) -> bool:
    return normalize(text) in _DONE


def yes_no(text: str) -> str | None:
    norm = normalize(text)
    if norm in _YES:
        return "yes"
    if norm in _NO:
        return "no"
    return None
