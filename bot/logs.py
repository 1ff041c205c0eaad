"""Structured one-line logs (key=value) with chat ids hashed and no message text."""

from __future__ import annotations

import hashlib
import logging

_SALT = b"sipas-bot"


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="time=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )


def set_salt(secret: str) -> None:
    """Salts chat-id hashes with a deployment secret, so a log cannot be matched to ids."""
    global _SALT
    _SALT = secret.encode() or b"sipas-bot"


def chat_hash(channel: str, external_id: str) -> str:
    return hashlib.sha256(_SALT + channel.encode() + b":" + external_id.encode()).hexdigest()[:12]
