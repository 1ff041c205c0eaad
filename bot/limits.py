"""Named limits of the channels we speak to."""

from __future__ import annotations

from enum import IntEnum

from telegram import constants

from conversations.limits import MAX_INBOUND_CHARS


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


class WebLimit(IntEnum):
    """What the web chat accepts from a browser, and how much it sends back at once."""

    #: A chat post: the longest text the engine answers (one character over its limit, so it
    #: can say "too long") in the worst JSON escaping, 12 bytes (two ``\\uXXXX``) for each
    #: character outside the BMP such as an emoji, plus the envelope.
    MAX_JSON_BODY = 12 * (MAX_INBOUND_CHARS + 1) + 1024
    #: An attached file (the complaint flow's own limit is the same, 10 MB).
    MAX_UPLOAD = 10 * 1024 * 1024
    MAX_FILE_NAME = 200
    #: Messages a page is sent when it (re)connects with nothing shown yet.
    HISTORY = 100
    #: Event streams open at once for one visitor (tabs), and from one address.
    STREAMS_PER_VISITOR = 4
    STREAMS_PER_ADDRESS = 200
    #: Wrong kiosk PINs from one address before it must wait (a quarter of an hour).
    PIN_TRIES = 5
