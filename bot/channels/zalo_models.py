"""The shape of each Zalo webhook event the bot acts on, as pydantic models (``EVENT_MODELS``).

The webhook checks only the envelope (``bot.web.bodies.ZaloEnvelope``); the parts each kind
of event is read by are checked here, before anything is read from them: a text that is an
object, a message without its ``msg_id``, a sender without an id is a ``MalformedEvent``,
which the webhook records as a failed event (``bot.runtime.failures``) instead of guessing.
Fields the bot does not read may be anything (Zalo adds fields over time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from conversations import clean_text
from conversations.limits import MAX_EXTERNAL_ID_CHARS, MAX_FILE_ID_CHARS

from .bounds import at_most, digits_at_most

#: Longest id (a user's, the OA's, a message's) taken: Zalo's are 19 digits or 32 hex digits;
#: what the bot stores them in (``contacts.external_id``) takes 64 characters. A longer one
#: makes the event malformed (recorded as failed) on SQLite and PostgreSQL alike.
MAX_ID_CHARS = MAX_EXTERNAL_ID_CHARS
#: Longest file name and file type read; a longer one is no file Zalo sent.
MAX_FILE_NAME_CHARS = 1024


#: Longest size (bytes, as digits) read: a 64-bit integer's; more would overflow a column.
MAX_SIZE_CHARS = 20


#: An id as Zalo sends it: a string (user ids pass 2**53, so they come quoted) or a number,
#: either at most ``MAX_ID_CHARS`` characters as written.
ZaloId = (
    Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID_CHARS)]
    | Annotated[StrictInt, digits_at_most(MAX_ID_CHARS)]
)


#: A short optional string of an attachment: its name, its type.
_Short = Annotated[StrictStr, at_most(MAX_FILE_NAME_CHARS)]


class MalformedEvent(ValueError):
    """An event of a kind the bot acts on, without the parts that kind is read by. The
    message names the event kind and the fields, never what they held."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class Party(_Part):
    """``sender``, ``recipient``, ``follower``: who, by id."""

    id: ZaloId


class Message(_Part):
    """A user's message: its id (deduplication) and an optional text (a caption)."""

    msg_id: ZaloId
    text: StrictStr | None = None


class TextMessage(Message):
    text: StrictStr


class FilePayload(_Part):
    """Where an image or a file is, and what Zalo says it is (size in bytes, as text)."""

    url: Annotated[StrictStr, Field(min_length=1, max_length=MAX_FILE_ID_CHARS)]
    size: (
        Annotated[StrictStr, Field(max_length=MAX_SIZE_CHARS)]
        | Annotated[StrictInt, digits_at_most(MAX_SIZE_CHARS)]
        | None
    ) = None
    name: _Short | None = None
    type: _Short | None = None


class FileAttachment(_Part):
    type: _Short | None = None
    payload: FilePayload


class FileMessage(Message):
    attachments: Annotated[list[FileAttachment], Field(min_length=1)]


class UserEvent(_Part):
    """A ``user_send_*`` event the bot only names (a sticker, a location …)."""

    sender: Party
    #: Not read (the OA's own id), but bounded like every id of an event that is read.
    recipient: Party | None = None
    message: Message


class TextEvent(UserEvent):
    message: TextMessage


class FileEvent(UserEvent):
    message: FileMessage


class FollowEvent(_Part):
    follower: Party


#: The model each event kind the bot acts on must fit; other ``user_send_*`` kinds fit
#: ``UserEvent``; the rest (echoes, unfollow, seen and receipt events) are not read at all.
EVENT_MODELS: dict[str, type[_Part]] = {
    "user_send_text": TextEvent,
    "user_send_image": FileEvent,
    "user_send_file": FileEvent,
    "user_send_gif": FileEvent,
    "follow": FollowEvent,
}


def model_for(name: str) -> type[_Part] | None:
    """The model for an event named ``name``; None for a kind the bot does not read."""
    if name in EVENT_MODELS:
        return EVENT_MODELS[name]
    return UserEvent if name.startswith("user_send_") else None


def check(name: str, event: Mapping[str, Any]) -> None:
    """Raises ``MalformedEvent`` when ``event`` (named ``name``) lacks what it is read by."""
    model = model_for(name)
    if model is None:
        return
    try:
        model.model_validate(event)
    except ValidationError as exc:
        # Only where it failed: the pydantic message quotes the input, the citizen's words.
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise MalformedEvent(f"{name}: {', '.join(fields)[:200]}") from None


def zalo_id(value: object) -> str | None:
    """An id read as ``ZaloId`` allows and cleaned as the parser cleans it; None for an
    object, a list, a boolean, one longer than ``MAX_ID_CHARS`` (never cut: a cut id is
    someone else's, who must not be answered), or what cleaning leaves empty."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    written = str(value)
    if len(written) > MAX_ID_CHARS:
        return None
    return clean_text(written) or None
