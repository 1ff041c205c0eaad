"""Telegram updates into engine events: what an update means, for whom, in which room.

Pure (tested on recorded JSON): nothing here touches the network. ``bot.channels.telegram``
sends; ``bot.channels.telegram_inbound`` runs the update loop with these.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace as dataclass_replace

from telegram import (
    CallbackQuery,
    Message,
    Update,
)

from bot.channels.telegram_models import bounded_id
from bot.channels.telegram_raw import NAMED
from bot.channels.zalo_codes import typed_code
from bot.limits import TelegramLimit
from bot.runtime.rooms import officer_key
from conversations import (
    MAX_COMMAND_ARG_CHARS,
    MAX_INBOUND_CHARS,
    Attachment,
    Choice,
    Command,
    Inbound,
    InboundEvent,
    Origin,
    Text,
    clean_text,
)
from conversations.commands import canonical, is_admin_command

CHANNEL = "telegram"
GROUP_TYPES = frozenset({"group", "supergroup"})
#: How much of the bot's message a reply answers is passed on: enough for the case code a
#: staff prompt (or a case card) starts with.
MAX_REPLY_TO = 200
#: ``edited_message`` is delivered only when asked for: an edit of a description still
#: pending replaces it, any other edit gets a short note (never silence).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")


def _command(text: str) -> Command:
    """``/name@bot arg``: the text is already cleaned, the argument cut after that."""
    head, _, arg = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return Command(name[:32], arg.strip()[:MAX_COMMAND_ARG_CHARS])


def _label(query: CallbackQuery) -> str | None:
    """The text of the button that was pressed, read from the message's own keyboard."""
    message = query.message
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return clean_text(str(button.text))
    return None


def parse_update(
    update: Update,
    admins: Collection[int] = (),
    room: str | None = None,
    *,
    bot_id: int | None = None,
    username: str = "",
    stray: str = "",
) -> InboundEvent | None:
    """The engine event an update means, or None for updates the bot does not handle.

    ``room``: the staff room a group update comes from (its configured id), None when the
    group is no staff room. In a room the bot acts only for administrators, each in their
    own conversation ("<room>:<user>"), and only on what is meant for it: a command (with or
    without "@botname"), a reply to one of its messages, a message naming it. Everything else
    said in the group, and anything from a member who is not an administrator, is None.
    ``stray``: the kind of message taken out of the update's JSON before it was parsed
    (:func:`telegram_raw.readable`), for the hint.
    """
    event_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        if query.message is None or not query.data:
            return None
        chat = query.message.chat
        user = query.from_user.id
        chat_key = str(chat.id)
        in_room = False
        stray = ""
        if chat.type in GROUP_TYPES:
            if user not in admins:
                return None
            stray = str(chat.id) if room is None else ""
            chat_key = officer_key(room or stray, user)
            in_room = True
        origin = Origin(
            message_id=str(query.message.message_id),
            text=clean_text(getattr(query.message, "text", None) or "")[: TelegramLimit.MAX_TEXT],
            label=_label(query),
        )
        choice = Choice(clean_text(query.data)[: TelegramLimit.MAX_CALLBACK_DATA])
        return InboundEvent(
            event_id,
            CHANNEL,
            chat_key,
            choice,
            origin=origin,
            admin=user in admins,
            # Only staff are named (on the cases they handle); a citizen's name is not kept.
            sender_id=str(user) if user in admins else "",
            sender_name=_name(query.from_user) if user in admins else "",
            room=in_room,
            stray_room=stray,
        )
    message = update.message or update.edited_message
    if message is None:
        return None
    if message.chat.type in GROUP_TYPES:
        if update.message is None:
            return None  # an edit in a staff group is not read
        return _in_room(message, event_id, admins, room, bot_id, username)
    if message.chat.type != "private":
        return None  # channels and the like: nothing for the bot
    sender = message.from_user.id if message.from_user else 0
    payload = _message_payload(message, edited=update.edited_message is not None, stray=stray)
    if payload is None:
        return None
    if isinstance(payload, Text) and not payload.edited:
        payload = dataclass_replace(payload, reply_to=_replied_text(message, bot_id))
    if sender not in admins:
        return InboundEvent(event_id, CHANNEL, str(message.chat.id), payload)
    return InboundEvent(
        event_id,
        CHANNEL,
        str(message.chat.id),
        payload,
        admin=True,
        sender_id=str(sender),
        sender_name=_name(message.from_user),
    )


def _message_payload(message: Message, *, edited: bool, stray: str = "") -> Inbound | None:
    """What a private message says: a command, text, a file with its caption and album, or
    a stray kind of message (sticker, voice, location …) named for the hint."""
    text = clean_text(message.text or "")
    caption = clean_text(message.caption or "")[:MAX_INBOUND_CHARS]
    group = clean_text(message.media_group_id or "")[:64]
    if edited:
        # Only an edited text is read (as the edit of message_id); an edited caption is not.
        return Text(text[: MAX_INBOUND_CHARS + 1], str(message.message_id), edited=True)
    if text.startswith("/"):
        return _command(text)
    if message.text is not None and (code := typed_code(text)) is not None:
        return code  # the short code printed large on the slip, however typed
    if message.text is not None:
        # One character more than the engine reads, so it can say the text is too long; a
        # text that cleans to nothing still reaches the engine, which says so.
        typed = Text.typed(text, MAX_INBOUND_CHARS + 1)
        return dataclass_replace(typed, message_id=str(message.message_id))
    if message.photo:
        photo = message.photo[-1]  # the largest size Telegram made
        return Attachment(
            "photo", photo.file_size or 0, photo.file_id, "", "image/jpeg", caption, group
        )
    if message.document:
        doc = message.document
        return Attachment(
            "document",
            doc.file_size or 0,
            doc.file_id,
            clean_text(doc.file_name or "")[:200],
            clean_text(doc.mime_type or "")[:100],
            caption,
            group,
        )
    what = stray or next((kind for kind in NAMED if getattr(message, kind, None)), "")
    if what or message.effective_attachment is not None:
        return Attachment("other", caption=caption, group=group, what=what or "other")
    return None


def _name(user: object) -> str:
    """An officer's name as Telegram shows it (kept on the cases they take), bounded."""
    full = clean_text(str(getattr(user, "full_name", "") or ""))
    return full[:64]


def _in_room(
    message: Message,
    event_id: str,
    admins: Collection[int],
    room: str | None,
    bot_id: int | None,
    username: str,
) -> InboundEvent | None:
    """A message in a group: an administrator's command or answer to the bot, else None.
    In a group that is no staff room (``room`` None) it is read all the same, marked as
    such, so that the administrator is told what to configure rather than met by silence."""
    user = message.from_user
    if user is None or user.id not in admins:
        return None
    stray = str(message.chat.id) if room is None else ""
    text = clean_text(message.text or "")
    mention = f"@{username}".lower() if username else ""
    payload: Inbound
    if text.startswith("/"):
        head = text.split(maxsplit=1)[0]
        _, at, addressed = head.partition("@")
        if at and addressed.lower() != username.lower():
            return None  # a command for another bot in the same group
        payload = _command(text)
    elif text and _replies_to_bot(message, bot_id):
        payload = Text(text[: MAX_INBOUND_CHARS + 1], reply_to=_replied_text(message, bot_id))
    elif text and mention and mention in text.lower():
        start = text.lower().index(mention)
        said = (text[:start] + text[start + len(mention) :]).strip()
        if not said:
            return None
        payload = Text(said[: MAX_INBOUND_CHARS + 1])
    else:
        return None  # the team talking among themselves (seen when privacy mode is off)
    return InboundEvent(
        event_id,
        CHANNEL,
        officer_key(room or stray, user.id),
        payload,
        admin=True,
        sender_id=str(user.id),
        sender_name=_name(user),
        room=True,
        stray_room=stray,
    )


def _replied_text(message: Message, bot_id: int | None) -> str:
    """The start of the bot's message ``message`` replies to ("" when it replies to none):
    a staff prompt names its case there, so the engine knows which prompt is answered."""
    if not _replies_to_bot(message, bot_id):
        return ""
    replied = message.reply_to_message
    said = (replied.text or replied.caption or "") if replied is not None else ""
    return clean_text(said)[:MAX_REPLY_TO]


def _replies_to_bot(message: Message, bot_id: int | None) -> bool:
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    return author is not None and bot_id is not None and author.id == bot_id


def migration(update: Update) -> tuple[str, str] | None:
    """(old id, new id) when the update says a group became a supergroup: the service
    message in the old group (``migrate_to_chat_id``) or in the new one
    (``migrate_from_chat_id``)."""
    message = update.message
    if message is None:
        return None
    if message.migrate_to_chat_id:
        return str(message.chat.id), str(message.migrate_to_chat_id)
    if message.migrate_from_chat_id:
        return str(message.migrate_from_chat_id), str(message.chat.id)
    return None


def raw_update_id(raw: object) -> int | None:
    """An update's id, read from its JSON without PTB (for updates PTB cannot parse)."""
    return bounded_id(raw.get("update_id")) if isinstance(raw, dict) else None


def album_part(raw: object) -> bool:
    """Whether an update, read from its JSON, is a message that belongs to an album
    (``media_group_id``): the rest of its album may still be on its way."""
    message = raw.get("message") if isinstance(raw, dict) else None
    return isinstance(message, dict) and bool(message.get("media_group_id"))


def raw_chat_id(raw: object) -> str | None:
    """The private chat an update came from, read from its JSON without PTB, so a chat
    whose update cannot be parsed can still be told; None when it is not readable."""
    if not isinstance(raw, dict):
        return None
    for kind in ALLOWED_UPDATES:
        body = raw.get(kind)
        if kind == "callback_query" and isinstance(body, dict):
            body = body.get("message")
        chat = body.get("chat") if isinstance(body, dict) else None
        if not isinstance(chat, dict) or chat.get("type") != "private":
            continue
        # An id no Telegram chat has (past 64 bits) is no one to answer.
        chat_id = bounded_id(chat.get("id"))
        if chat_id is not None:
            return str(chat_id)
    return None


def refused_admin(event: InboundEvent) -> bool:
    """An administrator's command from someone who is not one (logged, never acted on)."""
    payload = event.payload
    return (
        isinstance(payload, Command)
        and not event.admin
        and is_admin_command(canonical(payload.name))
    )
