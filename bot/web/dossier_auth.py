"""How a client system signs its requests to the dossier API, and how they are checked.

Each client system has a name and a shared secret (``DOSSIER_API_KEYS=name:secret,…``). A
request carries three headers:

- ``X-Api-Key``: the client's name;
- ``X-Timestamp``: the time of sending, in Unix seconds;
- ``X-Signature``: hex HMAC-SHA256, keyed with the secret, of
  ``timestamp + "\\n" + METHOD + "\\n" + path + "\\n" + raw body``.

The path is in the signed text so that a signed event cannot be replayed onto another dossier;
a timestamp more than :data:`MAX_SKEW_S` away from ours is refused, and the same signature twice
is refused (the desk records each one it accepts). Pure functions; the server and the clients
(``dossiers demo``, ``bench/dossiers.py``, the tests) use the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

API_KEY_HEADER: Final = "X-Api-Key"
TIMESTAMP_HEADER: Final = "X-Timestamp"
SIGNATURE_HEADER: Final = "X-Signature"
#: How far a request's timestamp may be from our clock, either way.
MAX_SKEW_S: Final = 300


class Unauthorized(Exception):
    """A request that is not from a known client, or not signed right; the message says which
    check failed (never the secret)."""


def signing_input(timestamp: str, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}\n{method.upper()}\n{path}\n".encode() + body


def sign(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    material = signing_input(timestamp, method, path, body)
    return hmac.new(secret.encode(), material, hashlib.sha256).hexdigest()


def signed_headers(
    client: str, secret: str, method: str, path: str, body: bytes, now: float
) -> dict[str, str]:
    """The headers a client sends with ``body`` (for clients written in Python)."""
    timestamp = str(int(now))
    return {
        API_KEY_HEADER: client,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, method, path, body),
        "Content-Type": "application/json",
    }


def verify(
    keys: Mapping[str, str],
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    now: float,
) -> tuple[str, str]:
    """The client's name and the request's signature; raises :class:`Unauthorized`."""
    if not keys:
        raise Unauthorized("this server has no API keys (set DOSSIER_API_KEYS)")
    client = headers.get(API_KEY_HEADER, "")
    secret = keys.get(client)
    if secret is None:
        raise Unauthorized(f"unknown API key (header {API_KEY_HEADER})")
    stamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise Unauthorized(f"missing or malformed {TIMESTAMP_HEADER} (Unix seconds)")
    if abs(now - int(stamp)) > MAX_SKEW_S:
        raise Unauthorized(f"{TIMESTAMP_HEADER} is more than {MAX_SKEW_S} s from our clock")
    given = headers.get(SIGNATURE_HEADER, "").strip().lower().removeprefix("sha256=")
    expected = sign(secret, stamp, method, path, body)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(
            f"wrong {SIGNATURE_HEADER} (HMAC-SHA256 of timestamp, method, path, body)"
        )
    return client, expected
