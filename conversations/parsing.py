"""Reads what a citizen typed: ratings, option numbers, labels and yes/no words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .normalise import clean, fold, number_words, scale_label, star_rating, word_list
from .normalise import yes_no as yes_no

_NUMBER_WORDS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}  # fmt: skip
#: A number with a sign before it (hyphen, minus, dashes, plus), after the edge's cleaning.
_SIGNED = re.compile(r"^[-+\u2212\u2012\u2013\u2014\uFE63\uFF0B\uFF0D]\s*\d")
_BACK = {"quay lai", "tro lai", "lui", "back", "previous"}
_SKIP = {"bo qua", "skip", "next", "tiep"}
_DONE = {"xong", "done", "ok", "hoan tat", "finish"}
#: Typed words that cancel what is under way where there is no «Hủy» button (Zalo, the
#: console, a staff group), as normalised: the engine cancels at any step.
CANCEL_WORDS = frozenset({"huy", "cancel", "huy bo"})


def clean_text(text: str) -> str:
    """Inbound text as the engine and every database see it: :func:`normalise.clean`
    (kept under this name for the adapters that call it on texts, arguments and names)."""
    return clean(text)


def normalize(text: str) -> str:
    """The matching form of a text: :func:`normalise.fold` ("Rất  Hài lòng!" -> "rat hai long")."""
    return fold(text)


def is_ascii_number(text: str) -> bool:
    """Digits 0-9 only (at least one): what ``int`` takes without an exception. Button data
    comes from the client and may be forged: ``"²".isdigit()`` is True, ``int("²")`` raises."""
    return text.isascii() and text.isdigit()


def is_small_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts "²" and "⑤", which ``int`` refuses."""
    return 0 < len(text) <= 3 and text.isascii() and text.isdigit()


def parse_number(text: str) -> int | None:
    """A lone number, as a digit, circled digit or word (vi/en); None otherwise. A signed
    number ("-1", "+3") is none of the options' places, so it is None, never its digits."""
    if _SIGNED.match(clean(text)):
        return None
    norm = normalize(text)
    if is_small_number(norm):
        return int(norm)
    return _NUMBER_WORDS.get(norm)


def parse_rating(text: str, labels: Mapping[int, Iterable[str]]) -> int | None:
    """A 1–5 rating typed as a number (alone or with its unit: "4 điểm", "5 sao", "mức 3"),
    as that many stars ("⭐⭐⭐⭐") or as the level's words in any language."""
    if _SIGNED.match(clean(text)):
        return None
    stars = star_rating(text)
    if stars is not None:
        return stars if stars in labels else None
    number = parse_number(_without_unit(text, "rating_units"))
    if number is not None:
        return number if number in labels else None
    norm = scale_label(text) or normalize(text)
    for level, names in labels.items():
        if any(norm == normalize(name) for name in names):
            return level
    return None


def _without_unit(text: str, units: str) -> str:
    """``text`` folded, without one unit word of the list ``units`` before or after a lone
    number ("4 diem" -> "4", "muc 3" -> "3"); unchanged otherwise."""
    words = fold(text).split()
    if len(words) == 2 and (words[0] in word_list(units)) != (words[1] in word_list(units)):
        return words[1] if words[0] in word_list(units) else words[0]
    return text


def parse_numbers(text: str) -> list[int] | None:
    """Several option numbers, for multi-select: "1, 3 5", "4 và 5", "2 and 4" -> the numbers
    (the joining words are the list ``list_joiners`` of ``data/words.yaml``); None if
    anything else is there, a signed number included."""
    joiners = word_list("list_joiners")
    parts = [p for p in re.split(r"[\s,;.&]+", clean(text)) if p and fold(p) not in joiners]
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


def nav_word(text: str) -> str | None:
    """The navigation a typed text means ("back", "skip", "done", "cancel"), or None: what
    a free-text step (a name, an address, a description) must never store as content."""
    folded = normalize(text)
    for name, words in (
        ("back", _BACK),
        ("skip", _SKIP),
        ("done", _DONE),
        ("cancel", CANCEL_WORDS),
    ):
        if folded in words:
            return name
    return None


#: What :func:`parse_count` gives for "many times" ("nhiều lần"): more than any number named.
MANY = "many"


def parse_count(text: str) -> int | str | None:
    """A count of times as people type it: a number (digits or words) with its unit ("4 lần",
    "hai lần", "lần 2", "lần thứ hai", "2 times", "3x"), "nhiều lần" (:data:`MANY`), or
    "không lần nào" (0); None for anything else, a bare number included (that is an
    option's place). The words are the lists of ``data/words.yaml``."""
    folded = fold(text)
    if folded in word_list("many"):
        return MANY
    words = folded.split()
    units, fillers, numbers = word_list("count_units"), word_list("count_fillers"), number_words()
    count: int | None = None
    has_unit = False
    for word in words:
        glued = re.fullmatch(r"(\d{1,3})x", word)  # "3x"
        if glued:
            word, has_unit = glued.group(1), True
        if word in units:
            has_unit = True
        elif is_small_number(word) or word in numbers:
            if count is not None:
                return None  # two numbers: "2 hay 3 lần" is no one count
            count = int(word) if is_small_number(word) else numbers[word]
        elif word not in fillers:
            return None
    return count if has_unit and count is not None else None
