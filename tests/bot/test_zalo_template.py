"""The text of a notice sent as ONE Zalo template message (``bot/channels/zalo_template``):
shortened at a word boundary, marked, its fixed parts (case code, rating hint, mark) whole,
never longer than the limit, never parting a character from its tone mark or an emoji
from its modifier."""

from __future__ import annotations

import unicodedata

import pytest

from bot.channels.zalo_template import MAX_TEMPLATE_TEXT, shorten, template_text

HINT = "Để đánh giá, Ông/Bà nhắn một chữ số từ 1 đến 5."
MARK = "(Tin đã được rút gọn.)"
ANSWER = "Phản ánh PA-2026-000123 đã được giải quyết. Trả lời: công trình đã được tháo dỡ."
#: "được" with its tone marks typed apart (NFD), as some keyboards send them.
DECOMPOSED = unicodedata.normalize("NFD", "đượcđượcđượcđượcđược")
FAMILY = "👨\u200d👩\u200d👧"
THUMB = "👍🏽"


@pytest.mark.parametrize(
    ("body", "hint", "room", "kept"),
    [
        # Cut after a whole word ("được" is never left as "đượ").
        (ANSWER, HINT, ANSWER.index("được th") + 3, ANSWER[: ANSWER.index(" được th")]),
        (ANSWER, "", ANSWER.index("được th") + 4, ANSWER[: ANSWER.index(" tháo")]),
        (ANSWER, "", len(ANSWER) - 1, ANSWER[: ANSWER.index(" dỡ.")]),
        # Emoji between words are words: never halved.
        (f"Đã xong {THUMB} {FAMILY} cảm ơn", "", 19, f"Đã xong {THUMB} {FAMILY}"),
        # A long run without spaces (a link) is cut inside, but never between a letter and
        # its tone marks typed apart, nor inside an emoji with its skin tone, nor inside a
        # family joined by ZWJ.
        (f"Xem {DECOMPOSED * 4}", "", 4 + 7 * 5 + 2, f"Xem {(DECOMPOSED * 4)[:36]}"),
        (f"Xem {THUMB * 20}", "", 4 + 2 * 17 + 1, f"Xem {THUMB * 17}"),
        (f"Xem {FAMILY * 20}", "", 4 + 5 * 7 + 3, f"Xem {FAMILY * 7}"),
        # The case code is never cut, even when the room left is smaller than it.
        (ANSWER, HINT, 12, "Phản ánh PA-2026-000123"),
    ],
)
def test_template_text_shortened(body: str, hint: str, room: int, kept: str) -> None:
    """``room``: what is left for the words once the fixed parts have theirs; ``body`` goes on
    well past it."""
    body += " và còn nữa" * 40
    tail = (f"\n{hint}" if hint else "") + f"\n{MARK}"
    limit = room + len("…") + len(tail)
    text, shortened = template_text(body, hint, MARK, limit)
    assert (text, shortened) == (f"{kept}…{tail}", True)
    if room >= len("Phản ánh PA-2026-000123"):
        assert len(text) <= limit


@pytest.mark.parametrize(("body", "hint"), [(ANSWER, HINT), (ANSWER, ""), (f"{THUMB}{FAMILY}", "")])
def test_template_text_at_the_exact_limit(body: str, hint: str) -> None:
    """At the limit: whole, no mark; one character less: shortened and marked."""
    whole = body + (f"\n{hint}" if hint else "")
    assert template_text(body, hint, MARK, len(whole)) == (whole, False)
    text, shortened = template_text(body, hint, MARK, len(whole) - 1)
    assert shortened
    assert text.endswith(f"\n{MARK}")
    assert f"…\n{hint}" in text if hint else "…\n" in text
    assert len(text) <= len(whole) - 1 or len(body) < len(MARK)


@pytest.mark.parametrize("length", [600, 1900])
def test_a_long_vietnamese_answer_fits_with_its_hint_and_mark(length: int) -> None:
    words = " ".join(f"Bước {n}: công trình đã được tháo dỡ." for n in range(1, 200))
    body = f"Phản ánh PA-2026-000123 đã được giải quyết. Trả lời:\n{words}"[:length]
    text, cut = template_text(body, HINT, MARK)
    assert cut
    assert len(text) <= MAX_TEMPLATE_TEXT
    assert text.endswith(f"…\n{HINT}\n{MARK}")
    kept = text.split("…")[0]
    assert body.startswith(kept)
    assert body[len(kept)] == " "  # a whole word, the next one left out
    assert "PA-2026-000123" in kept


@pytest.mark.parametrize(
    ("text", "room", "expected"),
    [
        ("một hai ba", 10, "một hai ba"),  # fits exactly
        ("một hai ba", 9, "một hai"),
        ("một hai ba", 7, "một hai"),  # the space right after a word: the word is whole
        ("một hai ba", 6, "một"),
        ("một " + "x" * 40, 40, "một " + "x" * 36),  # a link: cut inside, not dropped whole
        ("một  \n hai ba", 6, "một"),  # trailing spaces and line breaks dropped
    ],
)
def test_shorten_at_word_boundaries(text: str, room: int, expected: str) -> None:
    assert shorten(text, room) == expected
