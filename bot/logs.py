"""Structured one-line logs (key=value) with chat ids hashed and no message text.

Secrets and personal data never reach a log line (STYLE rule 25), whatever LOG_LEVEL says:
libraries that print request URLs, request parameters, answers or SQL parameters speak only
at the level given in ``LIBRARY_LEVELS``; what they do say keeps its wording but not its
values (``Redact.withhold``: a body they could not parse, printed at ERROR, holds a citizen's
id, name and message); and every handler redacts what looks like a secret (the Telegram
token in a URL, ``access_token=…``-like pairs, the configured secrets).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Mapping

#: Salts the chat pseudonyms of log lines. Made at random when the process starts and never
#: stored, logged or configured: lines of one process can be told apart by chat (to follow a
#: fault), but nothing in the database, the settings or another process's logs recomputes a
#: pseudonym from a chat id, so a log cannot be joined to contacts (issue 10, anonymity).
_SALT = secrets.token_bytes(32)

#: The least a library logger may say, whatever LOG_LEVEL is, and why.
LIBRARY_LEVELS: dict[str, int] = {
    # Every request URL (the bot token is part of each Telegram URL; Zalo file URLs point at
    # a citizen's pictures), at INFO: hundreds of lines per survey.
    "httpx": logging.WARNING,
    # Response headers and connection details; nothing an operator of the bot needs.
    "httpcore": logging.WARNING,
    # PTB at DEBUG prints each call's parameters and answer: message texts, names, chat ids,
    # the webhook secret.
    "telegram": logging.INFO,
    # At DEBUG, every statement with its parameters (answers, complaint texts, phones).
    "aiosqlite": logging.INFO,
    "sqlalchemy": logging.WARNING,
}

#: Shown instead of a secret.
REDACTED = "[redacted]"
#: Shown instead of a value a library put in its line (see ``Redact.withhold``).
WITHHELD = "[withheld]"
#: Below this length a configured "secret" is too short to be told from ordinary text.
MIN_SECRET_CHARS = 6
#: Names whose values are secrets, in a query string, a form, JSON, a dict or a header.
SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "secret_key",
    "app_secret",
    "oa_secret",
    "secret_token",
    "client_secret",
    "api_key",
    "password",
)
_PATTERNS = (
    # The token in a Bot API URL: /bot<token>/getMe and /file/bot<token>/photos/…
    (re.compile(r"(/(?:file/)?bot)\d+:[A-Za-z0-9_-]+"), rf"\1{REDACTED}"),
    # A token of Telegram's shape anywhere else: bot id, colon, 35 characters.
    (re.compile(r"(?<![\w-])\d{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),
    # name=value, name: value, "name": "value", 'name': 'value', ('name', 'value')
    (
        re.compile(
            r"(\b(?:" + "|".join(SECRET_NAMES) + r")\b['\"]?\s*[:=,]\s*b?['\"]?)"
            r"([^'\"&\s,;)}\]]+)",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
)


#: The loggers ``Redact.withhold`` applies to: those of ``LIBRARY_LEVELS`` and their children.
LIBRARY_PREFIXES = tuple(name + "." for name in LIBRARY_LEVELS)
#: Values of a library's line that are printed as they are: they name no one.
_SHOWN = (int, float, bool, type(None))


class _Withheld:
    """Prints as ``WITHHELD`` through ``%s`` and ``%r`` alike."""

    def __repr__(self) -> str:
        return WITHHELD

    __str__ = __repr__


_WITHHELD = _Withheld()


def _withheld(value: object) -> object:
    return value if isinstance(value, _SHOWN) else _WITHHELD


class Redact(logging.Filter):
    """Rewrites a record so that no secret it carries is printed; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        known = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted(known, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    @staticmethod
    def withhold(record: logging.LogRecord) -> None:
        """A library's record keeps its wording and its numbers, not its other values: the
        Telegram library, for one, prints at ERROR a whole answer it could not parse
        (``Can not load invalid JSON data: "%s"``) and at CRITICAL a batch of updates it could
        not read, with each sender's id, name and message. Which strings or objects of a
        library's line are harmless cannot be known for every version, so none is printed."""
        if not record.args or not (record.name + ".").startswith(LIBRARY_PREFIXES):
            return
        if isinstance(record.args, Mapping):
            record.args = {k: _withheld(v) for k, v in record.args.items()}
        else:
            record.args = tuple(_withheld(v) for v in record.args)

    def filter(self, record: logging.LogRecord) -> bool:
        self.withhold(record)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: left for the handler to report
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Once, at start: the format, the level, the library levels, the redacting filter on
    every handler of the root logger (everything else propagates to it)."""
    logging.basicConfig(
        level=level.upper(),
        format="time=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    for name, least in LIBRARY_LEVELS.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(least, logging.getLogger().getEffectiveLevel()))
    logging.captureWarnings(True)  # warnings are printed through the same handlers
    redact = Redact(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, Redact)]:
            handler.removeFilter(old)
        handler.addFilter(redact)


def chat_hash(channel: str, external_id: str) -> str:
    """The chat's pseudonym in this process's log lines (see ``_SALT``).

    Only for lines said at most once or twice in a chat's life (blocked, refused): never on a
    line per event or per message, at any level. One chat's such lines in a row, even within
    one process, are its survey's route (steps and messages counted), and the exact time of
    a complaint among them names its person (issue 10, anonymity)."""
    return hashlib.sha256(_SALT + channel.encode() + b":" + external_id.encode()).hexdigest()[:12]
