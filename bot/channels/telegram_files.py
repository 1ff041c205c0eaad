"""Telegram files: downloading what citizens sent, and sending stored files to staff.

Like ``TelegramSender``, this maps python-telegram-bot's errors to ``bot.errors`` so the jobs
that call it never depend on PTB. Downloads hold the whole file in memory; that is fine
because the Bot API serves at most 20 MB per file and the attachments job refuses anything
over its own, smaller limit before storing it.
"""

from __future__ import annotations

import logging
import mimetypes

from telegram import Bot, InputFile, constants
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.errors import (
    ChannelError,
    ChatBlocked,
    ChatMoved,
    Paused,
    PermanentSendError,
    RateLimited,
    TransientSendError,
)
from storage.queries.complaint_files import StoredFile

log = logging.getLogger("bot.telegram.files")

MAX_CAPTION = constants.MessageLimit.CAPTION_LENGTH  # 1024
#: Seconds every send waits while Telegram refuses the token (revoked): the messages keep
#: their attempts and leave once a person has set it right, instead of going dead.
TOKEN_REFUSED_PAUSE_S = 30.0


def channel_error(exc: TelegramError, *, to_chat: bool) -> ChannelError:
    """Our error type for a PTB error (same mapping as ``TelegramSender.send``).

    ``to_chat`` says the request was addressed to a chat: only then does 403 mean the user
    blocked the bot. A download has no chat, so a 403 there is just a refusal.
    """
    if isinstance(exc, ChatMigrated):
        return ChatMoved(exc.new_chat_id)
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        # A timedelta with PTB_TIMEDELTA=true (the project's setting), an int otherwise.
        seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
        return RateLimited(seconds)
    if isinstance(exc, Forbidden):
        return ChatBlocked(str(exc)) if to_chat else PermanentSendError(str(exc))
    if isinstance(exc, InvalidToken) and to_chat:
        # 401 to a send: the token is refused (revoked), not the message.
        return Paused(TOKEN_REFUSED_PAUSE_S, "token refused")
    # BadRequest subclasses NetworkError in PTB, so it must be tested first: a 400 ("file is
    # too big", "invalid file_id", "chat not found") will fail the same way every time.
    if isinstance(exc, BadRequest):
        return PermanentSendError(str(exc))
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
        return TransientSendError(str(exc))
    # InvalidToken (PTB's reading of a 404 on the file route, i.e. an expired file path),
    # Conflict and the like: retrying the same request will not help.
    return PermanentSendError(str(exc))


def _file_name(stored: StoredFile) -> str:
    """The name staff see; the citizen's own name when there is one (photos have none)."""
    if stored.file_name:
        return stored.file_name
    extension = mimetypes.guess_extension(stored.mime or "") or (
        ".jpg" if stored.media == "photo" else ""
    )
    return f"{stored.media}-{stored.id}{extension}"


class TelegramFiles:
    """Downloads citizens' files and sends stored ones, through one PTB ``Bot``."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def download(self, file_id: str) -> bytes:
        """The file's bytes; raises ``bot.errors`` types only."""
        try:
            file = await self.bot.get_file(file_id)
            data = await file.download_as_bytearray()
        except TelegramError as exc:
            raise channel_error(exc, to_chat=False) from exc
        except RuntimeError as exc:
            # PTB raises this when getFile gave no file_path: Telegram will not serve the file.
            raise PermanentSendError(str(exc)) from exc
        return bytes(data)

    async def send_stored(
        self, chat_id: str, stored: StoredFile, caption: str | None = None
    ) -> None:
        """Sends the project's copy (not the channel's file id, which may have expired).

        Photos go as photos, so staff see them inline; anything else as a document. The
        caption is plain text (no parse mode), so a complaint code or note is shown as is.
        """
        text = caption[:MAX_CAPTION] if caption else None
        name = _file_name(stored)
        try:
            if stored.media == "photo" and await self._send_photo(chat_id, stored, name, text):
                return
            await self.bot.send_document(
                chat_id, document=InputFile(stored.data, filename=name), caption=text
            )
        except TelegramError as exc:
            raise channel_error(exc, to_chat=True) from exc

    async def _send_photo(
        self, chat_id: str, stored: StoredFile, name: str, caption: str | None
    ) -> bool:
        """True when sent; False when Telegram refused the image as a photo.

        Telegram rejects some valid images as photos (over 10 MB, extreme proportions, formats
        it cannot process). The same bytes are still accepted as a document, and staff must
        see the evidence either way.
        """
        try:
            await self.bot.send_photo(
                chat_id, photo=InputFile(stored.data, filename=name), caption=caption
            )
        except BadRequest as exc:
            reason = str(exc).lower()
            if "photo" not in reason and "image" not in reason:
                raise  # about the chat or the request, not the image: a document fails too
            log.info("event=photo_as_document file=%d", stored.id)
            return False
        return True
