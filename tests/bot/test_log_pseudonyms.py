"""Issue 10, anonymity in logs: the chat pseudonym of a log line (``chat=<hash>``) cannot be
recomputed from anything an attacker may hold besides the log: the database (it once kept the
salt, in ``local_secrets``), the settings (``RECEIPT_SECRET`` once salted it), or the code (a
public salt before that). Only lines of one process can be correlated by chat."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.support.bot_process import ROOT

CHATS = [("telegram", "5820417736"), ("zalo", "8412093307117"), ("web", "w3fa09c1")]
#: Salts an attacker can try: the public one of old, settings, what a database row may hold.
KNOWN_SALTS = [b"sipas-bot", b"receipt-salt-Vx81mQ", b"", b"receipt_secret"]


def _pseudonyms(env: dict[str, str] | None = None) -> list[str]:
    """The pseudonyms of ``CHATS`` as one fresh process (one bot start) writes them."""
    code = (
        "from bot.logs import chat_hash\n"
        f"for channel, chat in {CHATS!r}:\n"
        "    print(chat_hash(channel, chat))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_two_processes_give_one_chat_different_pseudonyms() -> None:
    first, second = _pseudonyms(), _pseudonyms({"RECEIPT_SECRET": "receipt-salt-Vx81mQ"})
    third = _pseudonyms({"RECEIPT_SECRET": "receipt-salt-Vx81mQ"})
    assert len(first) == len(CHATS)
    assert all(len(p) == 12 for p in first)
    for a, b, c in zip(first, second, third, strict=True):
        assert len({a, b, c}) == 3


@pytest.mark.parametrize("salt", KNOWN_SALTS, ids=lambda s: s.decode() or "empty")
def test_no_known_salt_recomputes_a_pseudonym(salt: bytes) -> None:
    seen = _pseudonyms({"RECEIPT_SECRET": "receipt-salt-Vx81mQ"})
    for (channel, chat), pseudonym in zip(CHATS, seen, strict=True):
        guesses = {
            hashlib.sha256(salt + f"{channel}:{chat}".encode()).hexdigest()[:12],
            hashlib.sha256(salt + chat.encode()).hexdigest()[:12],
        }
        assert pseudonym not in guesses


def test_one_process_keeps_a_chat_pseudonym() -> None:
    """Lines of one process still follow one chat (debugging a fault needs it)."""
    from bot.logs import chat_hash

    assert chat_hash(*CHATS[0]) == chat_hash(*CHATS[0])
    assert chat_hash(*CHATS[0]) != chat_hash(*CHATS[1])
