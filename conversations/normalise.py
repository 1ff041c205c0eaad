"""Citizens' text made one shape at the edge (``clean``), and read one way (``fold``).

Every channel adapter passes what a citizen sent (texts, captions, commands and their
arguments, file names) through :func:`clean` before it builds an event, and the engine does
it again for whatever reaches it another way (a job, a test), so no flow ever sees an
un-normalised string. Matching what was typed against what the bot offered (options, yes/no,
navigation words, periods, codes) goes through :func:`fold`, defined only here.

Why each step (Unicode® Standard Annex #15 for NFC; UAX #9 for the bidirectional controls;
UTS #39 for characters that render as nothing):

- Some Vietnamese keyboards (and macOS/iOS copy-paste) send decomposed text (NFD): ``tháng``
  as ``tha`` + U+0301 + ``ng``, which compares unequal to the NFC word stored everywhere.
- Phones paste numbers with bidirectional marks (U+202D…U+202C, U+2068…U+2069, U+200E) and
  emoji carry variation selectors; a zero-width space looks like nothing yet is not empty.
- A right-to-left override inside a name would reverse what staff read on a case card.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Final

import yaml

#: Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, Unicode 15):
#: characters a renderer shows as nothing when it has no glyph for them. The format
#: characters (Cf) among them go with the rest of category Cf; the others are letters or
#: marks only by category: the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the Khmer
#: inherent vowels (U+17B4, U+17B5), the combining grapheme joiner (U+034F), the Mongolian
#: free variation selectors, the variation selectors, and the unassigned rest of the tag
#: block (U+E0000…U+E0FFF).
_IGNORABLE_RANGES: Final = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip
#: With them the braille blank (U+2800), a symbol (So) that prints as nothing and is used to
#: send "empty" messages.
_INVISIBLE_EXTRA: Final = frozenset(
    [chr(c) for low, high in _IGNORABLE_RANGES for c in range(low, high + 1)] + ["\u2800"]
)
#: The general categories of what is visibly printed: letters, digits, punctuation, symbols.
_PRINTED: Final = ("L", "N", "P", "S")
#: Line breaks of every kind become a line feed (CR LF first, as one).
_LINE_BREAKS: Final = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_SPACES: Final = re.compile(r"[^\S\n]+")
_BLANK_LINES: Final = re.compile(r"\n{3,}")
#: Polite particles around an answer ("Dạ, có ạ", "vâng, đồng ý nhé"): dropped when matching.
#: The accented forms are taken off before diacritics go; "đã" and "da" stay (they are words).
_LEADING: Final = frozenset({"dạ", "vâng", "thưa", "vang", "thua", "dạa"})
_TRAILING: Final = frozenset({"ạ", "à", "nhé", "nha", "nhen", "a", "nhe", "ạa", "ha"})
#: The suffixes of navigation buttons (back, skip, cancel, done): typed as words, never given
#: a number, so that a number is always an answer (a rating of 7 is no "skip").
NAV_SUFFIXES: Final = (":back", ":skip", ":cancel", ":done")


def _keep(ch: str) -> bool:
    if ch in "\n\t":
        return True
    if ch in _INVISIBLE_EXTRA:
        return False
    category = unicodedata.category(ch)
    # Cc: control characters (NUL, which PostgreSQL refuses); Cf: format characters (zero
    # width, BOM, bidi marks and overrides, tags); Cs: lone surrogates (no UTF-8 encoding).
    return category not in ("Cc", "Cf", "Cs")


def _ascii_digit(ch: str) -> str:
    """A decimal digit of any script (full-width ``５``, Arabic-Indic ``٥``) as ASCII."""
    if ch.isascii() or unicodedata.category(ch) != "Nd":
        return ch
    return str(unicodedata.decimal(ch))


def clean(text: str) -> str:
    """Inbound text as the engine and the database see it, ``str -> str`` (never raises).

    NFC; invisible and control characters removed (a line feed and a tab stay); every line
    break a line feed; decimal digits of any script read as ASCII; runs of spaces (also
    no-break and ideographic ones) one space; each line trimmed; at most one blank line in a
    row; the whole trimmed. ``"\\u200b"`` -> ``""``, ``"0\\u202d912 345 678\\u202c"`` ->
    ``"0912 345 678"``, ``"tha\\u0301ng"`` -> ``"tháng"``. Idempotent. Length limits are
    applied by the caller, after this.
    """
    if text.isascii() and text.isprintable() and text == text.strip() and "  " not in text:
        return text  # the common case, unchanged
    text = _LINE_BREAKS.sub("\n", text)
    text = "".join(_ascii_digit(ch) for ch in text if _keep(ch))
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", _without_loose_marks(text))
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return text if _printed(text) else ""


def _without_loose_marks(text: str) -> str:
    """``text`` without combining marks (Mn, Mc, Me) that have no base: at the start or
    after a space or line break. NFC has joined every mark that has one; rendered alone or
    stacked on a space, these print as nothing a reader can read."""
    out: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] == "M" and (not out or out[-1].isspace()):
            continue
        out.append(ch)
    return "".join(out)


def _printed(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in _PRINTED for ch in text)


def is_blank(text: str) -> bool:
    """True when nothing is visibly printed: no letter, digit, punctuation or symbol (general
    categories L*, N*, P*, S*) once Unicode's default-ignorable code points, combining marks
    with no base and the braille blank (U+2800) are set aside. Spaces, zero-width
    characters, U+0301 alone, Hangul fillers: blank. :func:`clean` gives ``""`` for such a
    text, so no flow stores it as a name, a description or a comment."""
    return not clean(text)


def _strip_particles(words: list[str]) -> list[str]:
    # Trailing first: "vâng ạ" is "vâng", an answer, never "ạ".
    while len(words) > 1 and words[-1] in _TRAILING:
        words = words[:-1]
    while len(words) > 1 and words[0] in _LEADING:
        words = words[1:]
    return words


def fold(text: str) -> str:
    """The matching form of a text: ``"Dạ, TÔI ĐỒNG Ý ạ 👍"`` -> ``"toi dong y"``.

    Cleaned, lower case, without diacritics (đ is d), digits of any kind as ASCII (① is 1),
    punctuation, symbols and emoji as spaces, polite particles around the words dropped
    (a lone "dạ" or "vâng" stays: it is an answer), single spaces. Used for comparing only;
    what is stored is :func:`clean`'s output.
    """
    lowered = clean(text).lower()
    words = _strip_particles(re.sub(r"[^\w]+", " ", lowered).split())
    decomposed = unicodedata.normalize("NFD", " ".join(words).replace("đ", "d"))
    out: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        digit = unicodedata.digit(ch, None) if not ch.isascii() else None
        out.append(str(digit) if digit is not None else ch)
    bare = re.sub(r"[^a-z0-9 ]+", " ", "".join(out).replace("_", " "))
    return " ".join(_strip_particles(bare.split()))


#: The word lists of ``data/words.yaml`` (yes, no, polite tails, numbers, count units).
WORDS_FILE: Final = Path(__file__).parent / "data" / "words.yaml"


@cache
def _words() -> dict[str, object]:
    loaded = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{WORDS_FILE}: a mapping of word lists expected")
    return loaded


@cache
def word_list(name: str) -> frozenset[str]:
    """The folded entries of the list ``name`` in ``data/words.yaml``."""
    entries = _words().get(name)
    if not isinstance(entries, list):
        raise ValueError(f"{WORDS_FILE}: {name!r} is not a list")
    return frozenset(fold(str(entry)) for entry in entries)


@cache
def number_words() -> dict[str, int]:
    """Numbers written as words ("hai" -> 2, "bốn" -> 4), folded."""
    entries = _words().get("numbers")
    if not isinstance(entries, dict):
        raise ValueError(f"{WORDS_FILE}: 'numbers' is not a mapping")
    return {fold(str(word)): int(value) for word, value in entries.items()}


def yes_no(text: str) -> str | None:
    """ "yes" or "no" for the common ways of saying so (polite, short, emphatic, accented or
    not): the lists ``yes_words`` and ``no_words`` of ``data/words.yaml``; polite and emphatic
    words after the answer ("không ạ, cảm ơn", "có chứ", "không đâu") do not change it. A
    whole phrase is read first: "có đâu" is a no."""
    folded = short_reply(fold(text))
    yes, no = word_list("yes_words"), word_list("no_words")
    for candidate in (folded, _without_polite_tail(folded)):
        if candidate in yes:
            return "yes"
        if candidate in no:
            return "no"
        head, _, rest = candidate.partition(" ")
        if head in word_list("negators") and (rest in yes or rest in word_list("wanting")):
            return "no"  # "không cần", "chưa đồng ý", "ko ok": a negator before a yes
    return None


#: A reply this short (in words) is read with the short forms of "không" spelled out.
_SHORT_REPLY_WORDS: Final = 6


def short_reply(folded: str) -> str:
    """A short folded reply (at most six words) with the short forms of "không" (list
    ``no_short`` of ``data/words.yaml``: "ko", "k", "kg", "hok" …) spelled out, as whole words
    only: "ko co" -> "khong co", "da k can" -> "da khong can"; "kem", "kho", "ok" stay.
    A longer text (a description) is returned unchanged."""
    words = folded.split()
    if len(words) > _SHORT_REPLY_WORDS:
        return folded
    short = word_list("no_short")
    return " ".join("khong" if word in short else word for word in words)


@cache
def _scale_phrases() -> dict[str, str]:
    entries = _words().get("scale_words")
    if not isinstance(entries, dict):
        raise ValueError(f"{WORDS_FILE}: 'scale_words' is not a mapping")
    return {
        short_reply(fold(str(phrase))): fold(str(label))
        for label, phrases in entries.items()
        for phrase in [label, *phrases]
    }


def scale_label(text: str) -> str | None:
    """The satisfaction scale's label (folded) that a typed rating means in other words:
    "chưa hài lòng" -> "khong hai long", "hài lòng lắm" -> "rat hai long", "tạm được" ->
    "binh thuong" (mapping ``scale_words`` of ``data/words.yaml``, keyed by the labels of the
    SIPAS scale); None for anything else. Short forms of "không" count ("ko hài lòng")."""
    return _scale_phrases().get(short_reply(fold(text)))


def _without_polite_tail(folded: str) -> str:
    """A folded answer without the thanks or the emphasis after it: "khong a cam on" ->
    "khong", "co chu" -> "co", "bo di" -> "bo" (lists ``polite_tail``, ``emphatic_tail``)."""
    tails = sorted(word_list("polite_tail") | word_list("emphatic_tail"), key=len, reverse=True)
    words = folded.split()
    changed = True
    while changed and len(words) > 1:
        changed = False
        for tail in tails:
            size = len(tail.split())
            if len(words) > size and words[-size:] == tail.split():
                words, changed = words[:-size], True
                break
        stripped = _strip_particles(words)
        changed = changed or stripped != words
        words = stripped
    return " ".join(words)


def star_rating(text: str) -> int | None:
    """How many stars a text is made of ("⭐⭐⭐⭐" -> 4, "★ ★ ★" -> 3), spaces and emoji
    variation selectors aside; None when it holds anything else. The stars are the list
    ``rating_stars`` of ``data/words.yaml``."""
    marks = clean(text).replace(" ", "")
    stars = _words().get("rating_stars")
    if not marks or not isinstance(stars, list) or any(ch not in stars for ch in marks):
        return None
    return len(marks)


def is_nav(choice_id: str) -> bool:
    """A navigation button (back, skip, cancel, done), read as a word and never numbered."""
    return choice_id.endswith(NAV_SUFFIXES)


#: The words for an answer, by the suffix of its option's id ("switch:keep" reads "giữ").
_ANSWER_WORDS: Final = {"keep": "keep_words", "drop": "drop_words"}
#: The options that say yes at a confirm-type step (send the complaint, submit the survey).
_AFFIRMATIVE: Final = (":send", ":submit")
#: A part of a label inside it (not at its start) names an option when it is this long.
_MIN_INNER_WORDS: Final = 2
_MIN_INNER_LETTERS: Final = 4


def match_choice(text: str, options: Sequence[tuple[str, Iterable[str]]]) -> str | None:
    """The option a typed text means, or None (nothing, or several: :func:`choices_meant`)."""
    meant = choices_meant(text, options)
    return meant[0] if len(meant) == 1 else None


def choices_meant(text: str, options: Sequence[tuple[str, Iterable[str]]]) -> tuple[str, ...]:
    """The options a typed text may mean: one when it is clear, several when it is a part
    of more than one label (say which), none when it names none.

    ``options``: (choice id, its labels in every language), in the order shown. Understood,
    in this order: the option's number (navigation buttons have none: :func:`is_nav`), any
    of its labels however written (case, diacritics, NFD, emoji, punctuation, polite
    particles), the line as a channel displays it ("3. Bình thường", "3 – Bình thường");
    for an option whose id ends in ``:yes`` or ``:no`` the usual words for yes and no, in
    ``:keep`` or ``:drop`` the words for those; then a part of a label in whole words, at
    its start ("Trực tiếp" for "Trực tiếp tại cơ quan") or, two words or a long word, inside
    it ("một phần"), for answers only (never a navigation button). A label shown after its
    number ("4 – Hài lòng") is also read without it.
    """
    folded = fold(text)
    if not folded:
        return ()
    numbered = [cid for cid, _ in options if not is_nav(cid)]
    if folded.isdigit() and len(folded) <= 3:
        number = int(folded)
        return (numbered[number - 1],) if 1 <= number <= len(numbered) else ()
    names = {cid: [fold(label) for label in labels] for cid, labels in options}
    # As typed; with "ko" as "không"; then a rating in other words as its scale label.
    for typed in dict.fromkeys((folded, short_reply(folded), scale_label(folded) or "")):
        for choice_id, labels in names.items():
            place = numbered.index(choice_id) + 1 if choice_id in numbered else None
            shown = (f"{place} {name}" for name in labels) if place is not None else ()
            if typed and (typed in labels or typed in shown or f"{place} {typed}" in labels):
                return (choice_id,)
    answer = yes_no(text)
    core = _without_polite_tail(folded)
    for suffix, words in _ANSWER_WORDS.items():
        if answer is None and (folded in word_list(words) or core in word_list(words)):
            answer = suffix
    if answer is not None:
        for choice_id in names:
            if choice_id.endswith(f":{answer}"):
                return (choice_id,)
    confirming = _confirm_answer(text, core, list(names))
    if confirming is not None:
        return (confirming,)
    return _by_part(core, {cid: names[cid] for cid in numbered}, numbered)


def _confirm_answer(text: str, core: str, ids: list[str]) -> str | None:
    """At a confirm-type step (one whose option id ends in ``:send`` or ``:submit``, such as a
    complaint's summary with «Gửi» or the survey's with «Gửi phiếu»): a yes ("có", "đồng ý",
    "vâng") is that option, a word for editing ("sửa", "sửa lại") is its «Quay lại»
    (``:back``). A no ("không") names none of them: the step says again what each does."""
    affirmative = [cid for cid in ids if cid.endswith(_AFFIRMATIVE)]
    if len(affirmative) != 1:
        return None
    if yes_no(text) == "yes":
        return affirmative[0]
    if core in word_list("edit_words"):
        return next((cid for cid in ids if cid.endswith(":back")), None)
    return None


def _by_part(typed: str, names: dict[str, list[str]], numbered: list[str]) -> tuple[str, ...]:
    """The options of which ``typed`` is a part in whole words; one that it names whole once
    its displayed number is set aside ("hai long" for "4 hai long") wins over the others."""
    if len(typed.replace(" ", "")) < 2:
        return ()
    words = typed.split()
    whole: list[str] = []
    parts: list[str] = []
    for place, choice_id in enumerate(numbered, start=1):
        for name in names[choice_id]:
            label = name.split()
            if label[:1] == [str(place)] and label[1:] == words:
                whole.append(choice_id)
            if _is_part(words, label):
                parts.append(choice_id)
                break
    if len(whole) == 1:
        return (whole[0],)
    return tuple(dict.fromkeys(parts))


def _is_part(words: list[str], label: list[str]) -> bool:
    size = len(words)
    if label[:size] == words:
        return True
    inner = size >= _MIN_INNER_WORDS or len(words[0]) >= _MIN_INNER_LETTERS
    return inner and any(label[i : i + size] == words for i in range(1, len(label) - size + 1))
