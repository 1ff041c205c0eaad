"""Telegram adapter, sending side: outbox rows into Bot API calls. Nothing else.

``keyboard`` is pure; ``TelegramSender.send`` is the only part that touches the network.
What an update means is read in ``bot.channels.telegram_updates``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.channels.telegram_files import TOKEN_REFUSED_PAUSE_S, TelegramFiles, channel_error
from bot.channels.telegram_updates import CHANNEL
from bot.errors import (
    ChatBlocked,
    ChatMoved,
    Paused,
    PermanentSendError,
    RateLimited,
    TransientSendError,
)
from bot.limits import TelegramLimit
from bot.runtime.activity import ACTIVITY
from bot.runtime.replies import Capabilities, utf16_length
from bot.runtime.rooms import StaffRooms, is_group, split_key
from conversations import (
    Catalog,
)
from conversations.commands import COMMANDS
from conversations.flows.cards import card_case
from storage.outbound import (
    DocumentMessage,
    EditMessage,
    FileMessage,
    ImageMessage,
    Outbound,
    TextMessage,
)
from storage.queries.complaint_files import StoredFile

#: Telegram's longest input field hint (ForceReply.input_field_placeholder).
MAX_PLACEHOLDER = 64
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
    return card_case(cid for cid, _ in message.choices)


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
        except InvalidToken as exc:
            # 401: the token is refused (revoked), not the message: it waits for a valid one.
            raise Paused(TOKEN_REFUSED_PAUSE_S, "token refused") from exc
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
            # Tallied, not a line per press: the lines of a lone citizen, even with no chat,
            # would count their survey's steps (bot.runtime.activity).
            ACTIVITY.failed("callback_answer", type(exc).__name__)
