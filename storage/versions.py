"""The version of a conversation row: what the optimistic check compares (issue 10, point 4).

Callers call ``versions.next_version`` through the module, so a test can count writes by
replacing it."""

from __future__ import annotations

import secrets

#: Random conversation versions stay far below the column's 32-bit limit.
VERSION_SPAN = 2**30


def next_version(previous: int) -> int:
    """The version a conversation row gets on each write (and on creation, ``previous`` 0):
    a random number in 1 … 2**30, never a count of the chat's events. Every row looks alike
    whatever the chat did (a count, or a random restart only when a survey ended, marked
    exactly the chats that ended a survey). The optimistic check only compares the version
    read with the one stored, so any fresh value serves; two writes drawing the same value
    from the same start happens once in 2**30. ``previous`` is unused here; tests replace
    this function to count writes."""
    del previous
    return secrets.randbelow(VERSION_SPAN) + 1
