"""The text of a complaint's notice sent as ONE Zalo template message (outside the 7-day
window), whatever the notice's length: its words shortened at a word boundary to fit the
template's one field, then its fixed parts whole: how to rate it (a rating request's
template has no buttons) and a mark saying the text is shortened and that the whole notice
shows when the citizen writes to the OA (the notice itself stays held for that moment).

Pure: ``ZaloSender`` looks up the hint and the mark in the citizen's language.
"""

from __future__ import annotations

import re
import unicodedata

#: The longest text put into a template's one field, in characters (code points), as Zalo
#: counts a message's text (unverified: Zalo's limit per template field).
MAX_TEMPLATE_TEXT = 500
#: Where words stop short: a notice's case code is never cut, wherever the cut falls.
_CODE = re.compile(r"\bPA-\d{4}-\d{6}\b")
#: Longer than any Vietnamese or English word: a "word" this long (a link, digits run
#: together) is cut inside rather than dropped whole.
LONG_WORD = 30
#: What shows the words go on.
ELLIPSIS = "…"
#: Characters that belong to the one before them: a hard cut never falls just before one
#: (a Vietnamese tone mark typed decomposed, an emoji's skin tone or variation selector, the
#: joiner inside a family emoji), nor just after a joiner.
_ZWJ = "\u200d"
_SKIN_TONES = range(0x1F3FB, 0x1F400)


def template_text(
    body: str, hint: str, mark: str, limit: int = MAX_TEMPLATE_TEXT
) -> tuple[str, bool]:
    """The template's text for a notice ``body``: ``body``, then ``hint`` on its own line
    when given, in at most ``limit`` characters; and whether ``body`` was shortened. When
    it does not fit, ``body`` is cut at a word boundary and ends with "…", and ``mark``
    follows on the last line. ``hint``, ``mark`` and the case code in ``body`` are never
    cut (when they alone exceed ``limit``, the text does too: Zalo refuses it, and the
    notice is held rather than garbled)."""
    fixed = f"\n{hint}" if hint else ""
    if len(body) + len(fixed) <= limit:
        return body + fixed, False
    tail = fixed + (f"\n{mark}" if mark else "")
    code = _CODE.search(body)
    floor = code.end() if code else 0
    room = max(limit - len(tail) - len(ELLIPSIS), floor)
    return shorten(body, room, floor) + ELLIPSIS + tail, True


def shorten(text: str, room: int, floor: int = 0) -> str:
    """The start of ``text`` in at most ``room`` characters (all of it when it fits), cut
    after a whole word, trailing spaces dropped; a word longer than ``LONG_WORD`` (a link)
    is cut inside, but never between a character and what belongs to it. Never shorter
    than ``floor`` characters (the words up to the case code)."""
    if len(text) <= room:
        return text
    # The last space within reach (always past ``floor``), unless a long word follows it.
    space = next((i for i in range(room, floor, -1) if text[i].isspace()), -1)
    if space >= 0 and room - space <= LONG_WORD:
        return text[:space].rstrip()
    cut = room
    while cut > floor and _belongs(text, cut):
        cut -= 1
    return text[:cut].rstrip()


def _belongs(text: str, at: int) -> bool:
    """Whether the character at ``at`` belongs to the one before it (a cut there would part
    them)."""
    here = text[at]
    return (
        unicodedata.combining(here) != 0
        or here in (_ZWJ, "\ufe0f", "\ufe0e")
        or ord(here) in _SKIN_TONES
        or text[at - 1] == _ZWJ
    )
