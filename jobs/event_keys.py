"""Event ids that name no chat: what ``processed_events`` and ``failed_events`` keep.

The dispatcher records every event's id (``<channel>:<id>``) with the exact time it was
handled, for weeks, to recognise an event delivered twice. An id that carried the chat
(``web:<chat>:<post>``, ``expire:<chat>:<deadline>``, ``follow:<user>:<time>``) let whoever
holds the database count one chat's events and so read which way its survey went ("late"
brings one more question) and, with a deadline, when it began (issue 10, anonymity). The
channels' own ids (Telegram's ``update_id``, Zalo's ``msg_id``) name no chat and are kept
as they are; every id we make from a chat goes through one of these two hashes:

- :func:`stable_event_id` when one of the parts is a secret the database never holds and
  nobody can guess (a web post's random client id): the same on every process and after a
  restart, so a post sent again is still recognised; without the secret part it cannot be
  recomputed from the contacts' chat ids.
- :func:`process_event_id` when every part could be guessed from the database (a chat id
  and a deadline, a Zalo user and a timestamp): keyed with a key made at random by this
  process and never stored, so nothing recomputes it. Within the process the same event
  gets the same id (a job run twice is recognised); across processes and restarts whatever
  the id guarded must be harmless twice, which these events are (the engine itself compares
  a survey's deadline with the clock and leaves a survey it has closed alone).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: Keys :func:`process_event_id`; made at start, never stored, logged or configured.
_PROCESS_KEY = secrets.token_bytes(32)
#: Hex characters kept of a hash: 128 bits, no collision in the life of a deployment.
HASH_CHARS = 32


def _joined(kind: str, parts: tuple[str, ...]) -> bytes:
    return "\0".join((kind, *parts)).encode()


def stable_event_id(kind: str, *parts: str) -> str:
    """``<kind>:<32 hex>``, the same wherever computed; one of ``parts`` must be a secret
    nobody holding the database knows (see the module's text)."""
    return f"{kind}:{hashlib.sha256(_joined(kind, parts)).hexdigest()[:HASH_CHARS]}"


def account_mark(account: str) -> str:
    """The account an event came through (a Telegram bot's id, the part of its token before
    ``:``; a Zalo OA's id), as event keys name it: 12 hex characters of its hash, so no part
    of a token is written to the database. Two accounts on one database then never share a
    key, though their own ids (Telegram's ``update_id``) may be equal."""
    return hashlib.sha256(_joined("account", (account,))).hexdigest()[:12]


def process_event_id(kind: str, *parts: str) -> str:
    """``<kind>:<32 hex>``, keyed by this process alone (see the module's text)."""
    digest = hmac.new(_PROCESS_KEY, _joined(kind, parts), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:HASH_CHARS]}"
