"""Telegram adapter: updates into engine events, outbox rows into Bot API calls. Nothing else.

``parse_update`` and ``keyboard`` are pure (tested on recorded JSON); ``TelegramSender.send``
is the only part that touches the network.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace as dataclass_replace

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.channels.telegram_files import TelegramFiles, channel_error
from bot.channels.telegram_raw import NAMED
from bot.channels.zalo_codes import typed_code
from bot.errors import (
    ChatBlocked,
    ChatMoved,
    PermanentSendError,
    RateLimited,
    TransientSendError,
)
from bot.limits import TelegramLimit
from bot.logs import chat_hash
from bot.runtime.replies import Capabilities, utf16_length
from bot.runtime.rooms import StaffRooms, is_group, officer_key, split_key
from conversations import (
    MAX_COMMAND_ARG_CHARS,
    MAX_INBOUND_CHARS,
    Attachment,
    Catalog,
    Choice,
    Command,
    Inbound,
    InboundEvent,
    Origin,
    Text,
    clean_text,
)
from conversations.commands import COMMANDS, canonical, is_admin_command
from storage.outbound import (
    DocumentMessage,
    EditMessage,
    FileMessage,
    ImageMessage,
    Outbound,
    TextMessage,
)
from storage.queries.complaint_files import StoredFile

CHANNEL = "telegram"
GROUP_TYPES = frozenset({"group", "supergroup"})
#: Telegram's longest input field hint (ForceReply.input_field_placeholder).
MAX_PLACEHOLDER = 64
#: How much of the bot's message a reply answers is passed on: enough for the case code a
#: staff prompt (or a case card) starts with.
MAX_REPLY_TO = 200
#: ``edited_message`` is delivered only when asked for: an edit of a description still
#: pending replaces it, any other edit gets a short note (never silence).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
#: Commands shown in Telegram's menu, in this order (their descriptions are in the catalogs).
MENU_COMMANDS = (
    "start",
    "khaosat",
    "phananh",
    "tracuu",
    "ketqua",
    "huy",
    "ngonngu",
    "trogiup",
    "xoadulieu",
    "hosocuatoi",
    "huytheodoi",
)

log = logging.getLogger("bot.telegram")


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
        if chat.type in GROUP_TYPES:
            if room is None or user not in admins:
                return None
            chat_key = officer_key(room, user)
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
    """A message in a group: an administrator's command or answer to the bot, else None."""
    user = message.from_user
    if room is None or user is None or user.id not in admins:
        return None
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
        officer_key(room, user.id),
        payload,
        admin=True,
        sender_id=str(user.id),
        sender_name=_name(user),
        room=True,
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
    found = raw.get("update_id") if isinstance(raw, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


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
        chat_id = chat.get("id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
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


def keyboard(choices: list[list[str]] | list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """Buttons in rows that fit a phone: long labels alone, short ones in pairs, and the
    survey's back/skip buttons together on the last row."""
    if not choices:
        return None
    body: list[tuple[str, str]] = []
    nav: list[tuple[str, str]] = []
    for choice_id, label in ((str(c[0]), str(c[1])) for c in choices):
        (nav if choice_id.endswith((":back", ":skip")) else body).append((choice_id, label))
    short = all(len(label) <= TelegramLimit.SHORT_BUTTON for _, label in body)
    width = 2 if short else 1
    rows = [
        [InlineKeyboardButton(label, callback_data=cid) for cid, label in body[i : i + width]]
        for i in range(0, len(body), width)
    ]
    if nav:
        rows.append([InlineKeyboardButton(label, callback_data=cid) for cid, label in nav])
    return InlineKeyboardMarkup(rows)


def bot_commands(catalog: Catalog, language: str) -> list[BotCommand]:
    return [
        BotCommand(name, catalog.text(language, f"commands.{name}")[:256])
        for name in MENU_COMMANDS
        if name in COMMANDS
    ]


def card_code(message: Outbound) -> str | None:
    """The case whose card ``message`` is (it carries that case's action buttons), or None:
    the card shown in a staff room is remembered, to be redrawn when the case changes."""
    if not isinstance(message, TextMessage):
        return None
    codes = {
        cid.split(":")[1]
        for cid, _ in message.choices
        if cid.startswith("case:") and cid.count(":") == 2 and not cid.endswith(":view")
    }
    return codes.pop() if len(codes) == 1 else None


def _retry_after(exc: RetryAfter) -> float:
    wait = exc.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


#: Telegram takes every kind; texts up to 4096 UTF-16 code units.
CAPABILITIES = Capabilities(
    kinds=frozenset({"text", "edit", "file", "image", "document"}),
    max_text=TelegramLimit.MAX_TEXT,
    length=utf16_length,
)


class TelegramSender:
    """Sends typed messages through the Bot API and maps failures to our error types.

    ``load_file`` fetches a complaint's stored file (staff viewing a case).
    """

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(
        self,
        bot: Bot,
        load_file: Callable[[int], Awaitable[StoredFile | None]] | None = None,
        rooms: StaffRooms | None = None,
    ) -> None:
        self.bot = bot
        self.load_file = load_file
        self.files = TelegramFiles(bot)
        self.rooms = rooms

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Sends to a chat, or to the staff room of an officer's conversation ("<room>:<user>")
        wherever that room is now. A group that became a supergroup on the way is moved, and
        the message goes to its new id at once."""
        chat, officer = split_key(chat_id)
        target = self.rooms.current(chat) if self.rooms is not None else chat
        group = officer is not None or is_group(chat)
        try:
            sent = await self._deliver(target, message, group)
        except ChatMoved as moved:
            new = str(moved.new_id)
            if self.rooms is not None:
                await self.rooms.move(target, new)
            sent = await self._deliver(new, message, group)
        code = card_code(message) if group else None
        if code is not None and sent is not None and self.rooms is not None:
            await self.rooms.card_shown(chat, sent, code)

    async def _deliver(self, chat_id: str, message: Outbound, group: bool) -> str | None:
        """Sends ``message``; the id of the new message it made, if it made one."""
        match message:
            case FileMessage(file_id, caption):
                stored = await self.load_file(file_id) if self.load_file else None
                if stored is None:
                    raise PermanentSendError("file not stored")
                await self.files.send_stored(chat_id, stored, caption)
            case ImageMessage() | DocumentMessage():
                await self._send_made(chat_id, message)
            case TextMessage(text, choices, placeholder=hint) if group and hint:
                # In a group the bot sees only replies to it: the answer is asked as one.
                ask = ForceReply(input_field_placeholder=hint[:MAX_PLACEHOLDER])
                return await self._send_text(chat_id, message, text or "…", ask)
            case TextMessage(text, choices) | EditMessage(_, text, choices):
                return await self._send_text(chat_id, message, text or "…", keyboard(list(choices)))
        return None

    async def _send_text(
        self,
        chat_id: str,
        message: TextMessage | EditMessage,
        text: str,
        markup: InlineKeyboardMarkup | ForceReply | None,
    ) -> str | None:
        try:
            if isinstance(message, EditMessage):
                inline = markup if isinstance(markup, InlineKeyboardMarkup) else None
                await self._edit(chat_id, message.message_id, text, inline)
                return None
            sent = await self.bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
            return str(sent.message_id)
        except ChatMigrated as exc:
            raise ChatMoved(exc.new_chat_id) from exc
        except RetryAfter as exc:
            raise RateLimited(_retry_after(exc)) from exc
        except Forbidden as exc:
            raise ChatBlocked(str(exc)) from exc
        except BadRequest as exc:
            raise PermanentSendError(str(exc)) from exc
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            raise TransientSendError(str(exc)) from exc
        except TelegramError as exc:
            raise PermanentSendError(str(exc)) from exc

    async def _send_made(self, chat_id: str, message: ImageMessage | DocumentMessage) -> None:
        """A chart or a spreadsheet the jobs made."""
        caption = message.caption[: TelegramLimit.MAX_CAPTION] or None
        upload = InputFile(message.data, filename=message.name)
        try:
            if isinstance(message, ImageMessage):
                await self.bot.send_photo(chat_id, upload, caption=caption)
            else:
                await self.bot.send_document(chat_id, upload, caption=caption)
        except TelegramError as exc:
            raise channel_error(exc, to_chat=True) from exc

    async def _edit(
        self, chat_id: str, message_id: str, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id, message_id=int(message_id), text=text, reply_markup=markup
            )
        except BadRequest as exc:
            reason = str(exc).lower()
            # A double tap edits twice to the same content; the message already shows it.
            # A message too old or deleted cannot be edited; the next question still goes.
            if "not modified" in reason or "message to edit not found" in reason:
                return
            if "can't be edited" in reason:
                return
            raise

    async def answer_callback(self, query: CallbackQuery) -> None:
        """Stops the button's spinner at once; failures here never block the answer itself."""
        try:
            await query.answer()
        except TelegramError as exc:
            log.info(
                "event=callback_answer_failed chat=%s error=%s",
                chat_hash(CHANNEL, str(query.from_user.id)),
                type(exc).__name__,
            )
