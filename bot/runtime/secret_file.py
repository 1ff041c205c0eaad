"""A secret kept in a file of its own, outside the database (``RECEIPT_SECRET_FILE``).

The survey marks' key (``storage.queries.survey_marks``) must not sit next to the marks: whoever
holds a database dump could recompute every chat's mark. When ``RECEIPT_SECRET`` is unset the
key lives in a file, made once at random; every process that reads the same file shares it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

#: Owner read/write only: the key is as sensitive as ``RECEIPT_SECRET``.
MODE = 0o600


def new_key() -> str:
    """A fresh key: 64 hex characters (256 random bits), the form older versions stored."""
    return secrets.token_hex(32)


def read_secret(path: Path) -> str | None:
    """The secret in ``path`` (surrounding whitespace removed); None when there is no file.

    Raises ``ValueError`` for an empty file (a key cannot be empty, and silently making a new
    one would break the marks of the period), ``OSError`` when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    secret = text.strip()
    if not secret:
        raise ValueError(f"{path}: empty secret file")
    return secret


def secret_from_file(path: Path, make: Callable[[], str] = new_key) -> str:
    """The secret in ``path``, made with ``make()`` and written there (mode 0600) when the file
    does not exist yet; every caller, in any process, gets the first one written.

    Race-free: the new secret is written to a temporary file in the same folder, fsynced, then
    ``os.link``-ed to ``path``; the link fails with ``FileExistsError`` if another process
    won (O_EXCL semantics), and the loser reads the winner's file. A reader never sees a
    half-written file, since the final name only appears once the content is complete.
    Creates the folder when needed. Raises ``OSError`` (folder not writable, …) and
    ``ValueError`` (an existing empty file)."""
    found = read_secret(path)
    if found is not None:
        return found
    # Owner only, like the key (and the SQLite file, often in the same folder).
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(make() + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, MODE)  # the umask may have taken bits away, never added any
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    won = read_secret(path)
    if won is None:  # removed between our link and our read: nothing sensible to share
        raise FileNotFoundError(path)
    return won
