"""A reply too long for one message leaves as several, each marked "(1/3)", "(tiếp) (2/3)".

Channels refuse or cut a long text: Telegram takes 4,096 UTF-16 code units, Zalo 2,000
characters. The engine does not know which channel a message goes to (a staff alert goes to
every staff chat, on any channel), so every part is kept within the smallest limit,
``MAX_MESSAGE_UNITS``, counted in UTF-16 code units (an emoji outside the basic plane is two;
that is also at least the number of characters, so the count suits both channels).

The engine does not render text either; a part is measured by rendering it in every language
of the catalog and taking the longest, so it fits whichever language its reader has.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .catalog import LANGUAGES, default_catalog
from .effects import ChoiceOption, Lines, Reply
from .limits import MAX_MESSAGE_UNITS

#: (body, part mark) -> a message; the mark renders empty when the reply is a single message.
Build = Callable[[Lines, Lines], Reply]
NO_MARK = Lines(())
#: Room kept in the part that carries buttons: a channel may list them in the text instead
#: (Zalo numbers more than five options), with a line saying what may be typed.
CHOICE_LINE_UNITS = 6
CHOICE_HINT_UNITS = 160


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def measure(reply: Reply) -> int:
    """The longest rendering of ``reply`` in any language, in UTF-16 code units."""
    catalog = default_catalog()
    return max(units(catalog.format(lang, reply.key, reply.params)) for lang in LANGUAGES)


def mark(n: int, of: int) -> Lines:
    return Lines((Reply("message.part", (("n", n), ("of", of))),))


@dataclass(frozen=True, slots=True)
class Block:
    """One line of a long message. ``long`` names its one parameter that may be cut across
    messages (a description, a note); a block without one is kept whole."""

    reply: Reply
    long: str | None = None


def paginate(
    head: Build,
    more: Build,
    blocks: Sequence[Block],
    choices: tuple[ChoiceOption, ...] = (),
    limit: int = MAX_MESSAGE_UNITS,
) -> tuple[Reply, ...]:
    """``head`` with every block, or, when that is too long, ``head`` and as many ``more`` as
    needed; the buttons go with the last part, after everything they act on."""
    reserve = _choices_units(choices)
    whole = head(Lines(tuple(b.reply for b in blocks)), NO_MARK)
    if measure(whole) + reserve <= limit:
        return (replace(whole, choices=choices),)
    widest = mark(9999, 9999)  # room for any part number
    rooms = (
        limit - reserve - measure(head(NO_MARK, widest)),
        limit - reserve - measure(more(NO_MARK, widest)),
    )
    parts = _Parts(rooms)
    for block in blocks:
        size = measure(block.reply)
        text, first = str(block.reply.param(block.long) or "") if block.long else "", True
        if size <= parts.left() or not text:
            # A block that fits, or has nothing to cut (a history line without a note), goes
            # whole: to the next part when this one is full, never dropped.
            parts.add(block.reply, size)
            continue
        while text:  # the long text in turns: "start…", "…middle…", "…end"
            if parts.left() < MIN_TURN_UNITS:
                parts.next()
            overhead = measure(_turn(block, "", first, last=False))
            start, text = _cut(text, parts.left() - overhead)
            piece = _turn(block, start, first, last=not text)
            parts.add(piece, measure(piece))
            first = False
    total = len(parts.lines)
    replies = [
        (head if n == 1 else more)(Lines(tuple(lines)), mark(n, total))
        for n, lines in enumerate(parts.lines, start=1)
    ]
    replies[-1] = replace(replies[-1], choices=choices)
    return tuple(replies)


#: A long text is started in the current part only if this much room is left there.
MIN_TURN_UNITS = 200


class _Parts:
    """The parts being filled: lines joined by newlines, within each part's room."""

    def __init__(self, rooms: tuple[int, int]) -> None:
        self.rooms = rooms  # the first part's, and every next one's
        self.lines: list[list[Reply]] = [[]]
        self.used = 0

    def left(self) -> int:
        room = self.rooms[0 if len(self.lines) == 1 else 1]
        return room - self.used - (1 if self.lines[-1] else 0)

    def next(self) -> None:
        self.lines.append([])
        self.used = 0

    def add(self, line: Reply, size: int) -> None:
        if self.lines[-1] and size > self.left():
            self.next()
        self.used += size + (1 if self.lines[-1] else 0)
        self.lines[-1].append(line)


def _choices_units(choices: tuple[ChoiceOption, ...]) -> int:
    if not choices:
        return 0
    catalog = default_catalog()
    labels = sum(
        max(units(catalog.format(lang, c.label, c.params)) for lang in LANGUAGES) for c in choices
    )
    return labels + CHOICE_LINE_UNITS * len(choices) + CHOICE_HINT_UNITS


def _turn(block: Block, chunk: str, first: bool, last: bool) -> Reply:
    """One turn of a cut text: "start…" in the block's own line, then "…middle…", "…end"."""
    shown: Lines | str = chunk if last else Lines((Reply("message.cut", (("text", chunk),)),))
    if first:
        params = tuple((k, shown if k == block.long else v) for k, v in block.reply.params)
        return replace(block.reply, params=params)
    return Reply("message.continued", (("text", shown),))


def _cut(text: str, room: int) -> tuple[str, str]:
    """The longest start of ``text`` within ``room`` UTF-16 units, ended at a space when there
    is one in its second half, never inside a character and its combining marks."""
    used = 0
    end = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > room:
            break
        used += width
        end += 1
    else:
        return text, ""
    while 0 < end < len(text) and _joins(text[end - 1], text[end]):
        end -= 1
    space = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end))
    if space > end // 2:
        end = space + 1
    end = max(end, 1)  # a room of less than one character still moves on
    return text[:end].rstrip(), text[end:].lstrip()


def _joins(before: str, after: str) -> bool:
    """True when ``after`` belongs to the same visible character as ``before``: a combining
    mark (Vietnamese written decomposed), a variation selector, a skin tone, a joined emoji."""
    return (
        unicodedata.combining(after) != 0
        or after in "\u200d\ufe0e\ufe0f"
        or before == "\u200d"
        or 0x1F3FB <= ord(after) <= 0x1F3FF
    )
