"""Named limits of the channels we speak to."""

from __future__ import annotations

from enum import IntEnum

from telegram import constants


class TelegramLimit(IntEnum):
    MAX_TEXT = constants.MessageLimit.MAX_TEXT_LENGTH  # 4096
    MAX_CAPTION = constants.MessageLimit.CAPTION_LENGTH  # 1024
    MAX_CALLBACK_DATA = constants.InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64
    MAX_DEEP_LINK_PAYLOAD = 64
    #: Sustained sends per second across all chats, and per chat (Telegram's guidance).
    MESSAGES_PER_SECOND = 30
    MESSAGES_PER_CHAT_PER_SECOND = 1
    #: A short burst per chat is allowed (an edit and the next question leave together).
    CHAT_BURST = 3
    #: Longest webhook body we accept; a real update is a few kilobytes.
    MAX_WEBHOOK_BODY = 1_000_000
    #: Longest label that still shares a keyboard row with another.
    SHORT_BUTTON = 14
