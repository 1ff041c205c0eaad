"""Typed outbound messages: what the outbox holds and what a channel is asked to send.

A closed list of frozen dataclasses (STYLE rule 24). The runtime and the jobs build them, the
outbox stores them (this module's codec is the only place that knows their stored form), and
each channel sends the kinds it can carry; the runtime adapts the others. The bytes of an
image or a document are stored apart from the row (``outbox_blobs``), never as base64 text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Choices = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A text, with buttons (choice id, label) when ``choices`` is not empty.

    ``key`` is the catalog key it was rendered from (for tests and logs; never shown).
    """

    text: str
    choices: Choices = ()
    key: str = ""
    kind: Literal["text"] = "text"
    #: Its answer is awaited as a reply (in a group the bot sees only replies to it): the
    #: input field's hint; a channel that asks for replies shows that instead of ``choices``.
    placeholder: str = ""
    #: A case's notice to its sender: (channel, chat id) of the officer who acted, how they
    #: were told it goes ("direct", "template", "held"; "…48" in the billed stretch) and the
    #: tracking code; the channel corrects them when the send turns out otherwise. () else.
    told: tuple[str, ...] = ()
    #: A case's notice to its sender (a status change, the rating request, a forward out of
    #: remit...): the status the case moved to ("resolved", "out_of_scope"...); "" for any
    #: other message. A channel with a window (Zalo) sends these otherwise outside it (an
    #: approved template, ZNS, or held for the citizen's next message), whatever their key.
    notice: str = ""


@dataclass(frozen=True, slots=True)
class EditMessage:
    """Replaces an earlier message of the bot (an answered question, a redrawn list)."""

    message_id: str
    text: str
    choices: Choices = ()
    key: str = ""
    kind: Literal["edit"] = "edit"


@dataclass(frozen=True, slots=True)
class FileMessage:
    """A complaint's stored file (``complaint_files.id``), sent to staff viewing a case."""

    file_id: int
    caption: str = ""
    kind: Literal["file"] = "file"


@dataclass(frozen=True, slots=True)
class ImageMessage:
    """A picture the bot made (a chart). ``summary``: the same in words, for a channel that
    cannot show pictures."""

    data: bytes
    name: str
    caption: str = ""
    summary: str = ""
    kind: Literal["image"] = "image"


@dataclass(frozen=True, slots=True)
class DocumentMessage:
    """A file the bot made (a spreadsheet). ``summary``: what to say where it can't go."""

    data: bytes
    name: str
    caption: str = ""
    summary: str = ""
    kind: Literal["document"] = "document"


Outbound = TextMessage | EditMessage | FileMessage | ImageMessage | DocumentMessage
#: Every kind, by its stored name.
KINDS: dict[str, type[Outbound]] = {
    "text": TextMessage,
    "edit": EditMessage,
    "file": FileMessage,
    "image": ImageMessage,
    "document": DocumentMessage,
}


def encode(message: Outbound) -> tuple[dict[str, Any], tuple[bytes, str] | None]:
    """A message as (the row's JSON body, the blob to store apart as (bytes, name) or None)."""
    match message:
        case TextMessage(text, choices, key):
            body: dict[str, Any] = {
                "kind": "text",
                "text": text,
                "choices": [list(c) for c in choices],
                "key": key,
            }
            if message.placeholder:
                body["placeholder"] = message.placeholder
            if message.told:
                body["told"] = list(message.told)
            if message.notice:
                body["notice"] = message.notice
            return body, None
        case EditMessage(message_id, text, choices, key):
            body = {"text": text, "choices": [list(c) for c in choices], "key": key}
            return {"kind": "edit", "message_id": message_id, **body}, None
        case FileMessage(file_id, caption):
            return {"kind": "file", "file_id": file_id, "caption": caption}, None
        case ImageMessage(data, name, caption, summary) | DocumentMessage(
            data, name, caption, summary
        ):
            body = {"kind": message.kind, "caption": caption, "summary": summary}
            return body, (data, name)
    raise TypeError(f"not an outbound message: {message!r}")


def _queued_before_notice(body: dict[str, Any]) -> str:
    """The status of a case's notice queued before ``TextMessage.notice`` was stored (a row
    held or waiting for ZNS across the upgrade): then such notices were exactly the texts
    rendered from the catalog's "notice.<status>" keys; "" for any other row."""
    key = str(body.get("key", ""))
    return key.removeprefix("notice.") if key.startswith("notice.") else ""


def decode(body: dict[str, Any], blob: tuple[bytes, str] | None) -> Outbound:
    """The message a stored row holds (raises ValueError for a row this code did not write)."""
    kind = body.get("kind")
    choices = tuple((str(c[0]), str(c[1])) for c in body.get("choices") or ())
    if kind == "text":
        return TextMessage(
            str(body["text"]),
            choices,
            str(body.get("key", "")),
            placeholder=str(body.get("placeholder", "")),
            told=tuple(str(t) for t in body.get("told") or ()),
            notice=str(body.get("notice") or _queued_before_notice(body)),
        )
    if kind == "edit":
        return EditMessage(
            str(body["message_id"]), str(body["text"]), choices, str(body.get("key", ""))
        )
    if kind == "file":
        return FileMessage(int(body["file_id"]), str(body.get("caption", "")))
    if kind in ("image", "document"):
        if blob is None:
            raise ValueError(f"{kind} row without its bytes")
        data, name = blob
        cls = ImageMessage if kind == "image" else DocumentMessage
        return cls(data, name, str(body.get("caption", "")), str(body.get("summary", "")))
    raise ValueError(f"unknown outbound kind {kind!r}")
