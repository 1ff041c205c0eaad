"""The bounds of what the bot reads from a Telegram update, as pydantic models (``check``).

The Telegram library parses an update without bounds: a forged update (a webhook with the
secret, a proxy) may carry a chat id of a hundred digits, which SQLite stores and
PostgreSQL refuses, so the same update would be answered on one and fail on the other, and
over polling fail again on every poll. Before the library parses it, each id and string the
bot reads or keeps is checked here against what Telegram sends and what storage takes; an
update outside them is a ``MalformedUpdate``, recorded as a failed event (id and error class
only) like any update that cannot be read. Text and captions are not bounded here: a text
too long is the engine's to tell the citizen (the webhook body itself is bounded).
Fields the bot does not read may be anything (the Bot API adds fields over time).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from conversations.limits import MAX_EXTERNAL_ID_CHARS, MAX_FILE_ID_CHARS

from .bounds import at_most

#: Telegram's ids (updates, chats, users, messages) are signed 64-bit integers: at most 20
#: characters written, well within ``MAX_EXTERNAL_ID_CHARS`` even as "<room>:<user>".
MIN_ID = -(2**63)
MAX_ID = 2**63 - 1
#: Longest name part, username or chat type read (Telegram's names are at most 64).
MAX_NAME_CHARS = 256
#: A ``file_unique_id`` or ``media_group_id`` (Telegram's are under 40 characters).
MAX_SHORT_ID_CHARS = MAX_EXTERNAL_ID_CHARS
#: Callback data: Telegram takes 1-64 bytes on a button, so more is no button of ours.
MAX_CALLBACK_DATA = 64

TelegramId = Annotated[StrictInt, Field(ge=MIN_ID, le=MAX_ID)]


_Name = Annotated[StrictStr, at_most(MAX_NAME_CHARS)]
_ShortId = Annotated[StrictStr, at_most(MAX_SHORT_ID_CHARS)]
_FileId = Annotated[StrictStr, at_most(MAX_FILE_ID_CHARS)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class User(_Part):
    id: TelegramId
    first_name: _Name | None = None
    last_name: _Name | None = None
    username: _Name | None = None


class Chat(_Part):
    id: TelegramId
    type: _Name | None = None
    title: _Name | None = None


class _File(_Part):
    file_id: _FileId | None = None
    file_unique_id: _ShortId | None = None
    file_size: TelegramId | None = None


class Document(_File):
    file_name: _Name | None = None
    mime_type: _Name | None = None


class Message(_Part):
    message_id: TelegramId | None = None
    message_thread_id: TelegramId | None = None
    from_: Annotated[User | None, Field(alias="from")] = None
    sender_chat: Chat | None = None
    chat: Chat | None = None
    media_group_id: _ShortId | None = None
    photo: list[_File] | None = None
    document: Document | None = None
    reply_to_message: Message | None = None
    migrate_to_chat_id: TelegramId | None = None
    migrate_from_chat_id: TelegramId | None = None


class CallbackQuery(_Part):
    id: _Name | None = None
    from_: Annotated[User | None, Field(alias="from")] = None
    message: Message | None = None
    data: Annotated[StrictStr, at_most(MAX_CALLBACK_DATA)] | None = None


class Update(_Part):
    update_id: TelegramId
    message: Message | None = None
    edited_message: Message | None = None
    callback_query: CallbackQuery | None = None


class MalformedUpdate(ValueError):
    """An update with an id or a string outside what Telegram sends and storage keeps. The
    message names the fields, never what they held."""


def check(update: dict[str, Any]) -> None:
    """Raises ``MalformedUpdate`` when ``update`` (its JSON) breaks a bound above."""
    try:
        Update.model_validate(update)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise MalformedUpdate(", ".join(fields)[:200]) from None


def bounded_id(value: object) -> int | None:
    """``value`` when it is an id Telegram could send (an integer of 64 bits), else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if MIN_ID <= value <= MAX_ID else None
