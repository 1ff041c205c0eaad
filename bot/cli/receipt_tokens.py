"""Receipt tokens and the links printed for them: a fresh unguessable token, the Telegram
deep link and the web chat link, and the last day a receipt opens a survey (moved from
receipts.py)."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Final

from conversations.limits import MAX_COMMAND_ARG_CHARS

#: Telegram's deep-link ``start`` parameter: at most 64 characters of ``[A-Za-z0-9_-]``.
MAX_TOKEN_CHARS: Final = MAX_COMMAND_ARG_CHARS
TOKEN_PATTERN: Final = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_TOKEN_CHARS}}}$")
#: Same rule as the TELEGRAM_BOT_USERNAME setting; the "@" is optional and dropped.
USERNAME_PATTERN: Final = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
#: 18 random bytes = 144 bits, 24 characters: unguessable, and short enough that the QR code
#: stays small (version 4) with room to spare under the 64-character limit.
TOKEN_BYTES: Final = 18


def new_token() -> str:
    """A fresh unguessable token of ``[A-Za-z0-9_-]``, usable as a Telegram ``start`` value."""
    while True:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        # A leading "-" makes a spreadsheet read the pasted line as a formula, and a command
        # line read the token as an option; redrawing costs under 1/64 of a bit of entropy.
        if not token.startswith("-"):
            return token


def bot_username(username: str) -> str:
    """``username`` without its "@"; raises ValueError when it is not a Telegram username."""
    match = USERNAME_PATTERN.fullmatch(username.strip())
    if match is None:
        raise ValueError(f"not a Telegram bot username: {username!r}")
    return match.group(1)


def deep_link(username: str, token: str) -> str:
    """``https://t.me/<username>?start=<token>``; raises ValueError on a bad username or token."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise ValueError(f"not a receipt token (1–64 of A-Z a-z 0-9 _ -): {token!r}")
    return f"https://t.me/{bot_username(username)}?start={token}"


def web_link(base: str, token: str) -> str:
    """``BASE/?r=<token>``: the web chat opens that receipt's survey (and takes the code out
    of the address bar at once)."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise ValueError(f"not a receipt token (1–64 of A-Z a-z 0-9 _ -): {token!r}")
    return f"{base.rstrip('/')}/?r={token}"


def valid_until(handed_over_on: date | None, today: date, valid_days: int) -> date:
    """Last day the receipt opens a survey: the hand-over date (or today) plus the period."""
    return (handed_over_on or today) + timedelta(days=valid_days)
