"""Telegram adapter: updates into engine events, outbox rows into Bot API calls. Nothing else.

``parse_update`` and ``keyboard`` are pure (tested on recorded JSON); ``TelegramSender.send``
is the only part that touches the network.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.telegram_files import TelegramFiles, channel_error
from bot.errors import ChatBlocked, PermanentSendError, RateLimited, TransientSendError
from bot.limits import TelegramLimit
from bot.logs import chat_hash
from bot.runtime.replies import Capabilities, utf16_length
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
ALLOWED_UPDATES = ("message", "callback_query")
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


def parse_update(update: Update, admins: Collection[int] = ()) -> InboundEvent | None:
    """The engine event an update means, or None for updates the bot does not handle."""
    event_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        if query.message is None or not query.data:
            return None
        chat_id = query.message.chat.id
        origin = Origin(
            message_id=str(query.message.message_id),
            text=clean_text(getattr(query.message, "text", None) or "")[: TelegramLimit.MAX_TEXT],
            label=_label(query),
        )
        choice = Choice(clean_text(query.data)[: TelegramLimit.MAX_CALLBACK_DATA])
        return InboundEvent(
            event_id,
            CHANNEL,
            str(chat_id),
            choice,
            origin=origin,
            admin=query.from_user.id in admins,
        )
    message = update.message
    if message is None or message.chat.type != "private":
        return None  # the bot serves private chats only; groups are ignored
    sender = message.from_user.id if message.from_user else 0
    payload: Inbound
    text = clean_text(message.text or "")
    if text.startswith("/"):
        payload = _command(text)
    elif text:
        # One character more than the engine reads, so it can say the text is too long.
        payload = Text.typed(text, MAX_INBOUND_CHARS + 1)
    elif message.photo:
        photo = message.photo[-1]  # the largest size Telegram made
        payload = Attachment("photo", photo.file_size or 0, photo.file_id, "", "image/jpeg")
    elif message.document:
        doc = message.document
        payload = Attachment(
            "document",
            doc.file_size or 0,
            doc.file_id,
            clean_text(doc.file_name or ""),
            clean_text(doc.mime_type or ""),
        )
    elif message.effective_attachment is not None:
        payload = Attachment("other")
    else:
        return None
    return InboundEvent(event_id, CHANNEL, str(message.chat.id), payload, admin=sender in admins)


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
        self, bot: Bot, load_file: Callable[[int], Awaitable[StoredFile | None]] | None = None
    ) -> None:
        self.bot = bot
        self.load_file = load_file
        self.files = TelegramFiles(bot)

    async def send(self, chat_id: str, message: Outbound) -> None:
        match message:
            case FileMessage(file_id, caption):
                stored = await self.load_file(file_id) if self.load_file else None
                if stored is None:
                    raise PermanentSendError("file not stored")
                await self.files.send_stored(chat_id, stored, caption)
            case ImageMessage() | DocumentMessage():
                await self._send_made(chat_id, message)
            case TextMessage(text, choices) | EditMessage(_, text, choices):
                await self._send_text(chat_id, message, text or "…", keyboard(list(choices)))

    async def _send_text(
        self,
        chat_id: str,
        message: TextMessage | EditMessage,
        text: str,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        try:
            if isinstance(message, EditMessage):
                await self._edit(chat_id, message.message_id, text, markup)
            else:
                await self.bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
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
