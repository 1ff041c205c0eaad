"""Turns the engine's rendered replies into typed outbound messages, and adapts a message to
what a channel can carry (a chart where pictures can't go becomes its summary in words)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from conversations import Catalog, Message, Origin
from storage.outbound import (
    DocumentMessage,
    EditMessage,
    FileMessage,
    ImageMessage,
    Outbound,
    TextMessage,
)

#: How a message is marked when it had to be split: "(1/3)".
PART_MARK = "({n}/{total})"


def as_text(message: Message) -> TextMessage:
    return TextMessage(message.text, message.choices, message.key, placeholder=message.placeholder)


def for_event(
    messages: Sequence[Message],
    origin: Origin | None,
    ack: str | None,
    catalog: Catalog,
    language: str,
    closed: Message | None = None,
) -> list[Outbound]:
    """This chat's messages for one event: the replies, and what becomes of the message whose
    button was pressed (the chosen answer shown on it, ``closed`` in its place when given,
    or redrawn in place)."""
    out: list[Outbound] = [as_text(m) for m in messages]
    if origin is None or ack is None:
        return out
    if ack == "refresh" and messages:
        first = messages[0]
        out[0] = EditMessage(origin.message_id, first.text, first.choices, first.key)
        return out
    if ack == "close" and closed is not None:
        return [EditMessage(origin.message_id, closed.text, (), closed.key), *out]
    if ack == "close":
        text = origin.text
        if origin.label:
            params = (("text", origin.text), ("label", origin.label))
            text = catalog.format(language, "choice.answered", params)
        return [EditMessage(origin.message_id, text, (), "choice.answered"), *out]
    return out


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can send. ``max_text``: its longest text, counted by ``length`` (Telegram
    counts UTF-16 code units, Zalo characters); ``can_send``: extra per-message refusals (a
    file type the channel does not take); ``whole``: the texts the channel takes whole
    however long, and splits itself (``text_parts``) only when it sends them as normal
    messages (a Zalo notice, which outside Zalo's window goes as ONE template message)."""

    kinds: frozenset[str]
    max_text: int
    length: Callable[[str], int] = len
    can_send: Callable[[Outbound], bool] = lambda _message: True
    whole: Callable[[Outbound], bool] = lambda _message: False


def utf16_length(text: str) -> int:
    """Telegram's message length: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def in_words(message: Outbound) -> TextMessage:
    """What a message says in plain text: a chart or a file by its caption and summary, a
    redrawn list as a new message (for a channel that cannot show the real thing)."""
    match message:
        case TextMessage():
            return message
        case EditMessage(_, text, choices, key):
            return TextMessage(text, choices, key)
        case ImageMessage() | DocumentMessage():
            words = "\n".join(p for p in (message.caption, message.summary) if p)
            return TextMessage(words or message.name, (), message.kind)
        case FileMessage(_, caption):
            return TextMessage(caption or "…", (), "file")
    raise TypeError(f"not an outbound message: {message!r}")


def adapt(message: Outbound, caps: Capabilities) -> list[Outbound]:
    """The messages to send for ``message`` on a channel with ``caps``: itself when it fits;
    else a text standing in for it; a text over the limit split into marked parts."""
    supported = message.kind in caps.kinds and caps.can_send(message)
    if not supported:
        if isinstance(message, EditMessage) and not message.choices:
            return []  # an answered question: the next message says enough
        message = in_words(message)
        if message.kind not in caps.kinds:
            return []  # a channel without text: nothing it could show
    if isinstance(message, TextMessage | EditMessage) and caps.length(message.text) > caps.max_text:
        return [message] if caps.whole(message) else _split(message, caps)
    return [message]


def text_parts(message: TextMessage, caps: Capabilities) -> list[TextMessage]:
    """``message`` as the channel with ``caps`` shows it: itself when it fits, else marked
    parts (as ``adapt`` splits it), whatever ``caps.whole`` says."""
    if caps.length(message.text) <= caps.max_text:
        return [message]
    return [part for part in _split(message, caps) if isinstance(part, TextMessage)]


def _split(message: TextMessage | EditMessage, caps: Capabilities) -> list[Outbound]:
    """A long text as several, each marked "(k/n)"; buttons stay with the last part.
    Cut at a line break where there is one, never inside a character."""
    room = caps.max_text - caps.length(PART_MARK.format(n=99, total=99)) - 1
    parts: list[str] = []
    rest = message.text
    while caps.length(rest) > room:
        cut = _fit(rest, room, caps.length)
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    parts.append(rest)
    total = len(parts)
    out: list[Outbound] = []
    for n, part in enumerate(parts, start=1):
        text = f"{part}\n{PART_MARK.format(n=n, total=total)}"
        choices = message.choices if n == total else ()
        if n == 1 and isinstance(message, EditMessage):
            out.append(EditMessage(message.message_id, text, choices, message.key))
        else:
            out.append(TextMessage(text, choices, message.key))
    return out


def _fit(text: str, room: int, length: Callable[[str], int]) -> int:
    """The longest prefix of ``text`` (in characters) whose length is at most ``room``."""
    low, high = 1, min(len(text), room)
    while low < high:
        middle = (low + high + 1) // 2
        if length(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low
