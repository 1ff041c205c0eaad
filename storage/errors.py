"""Tells a database that cannot serve right now from work that fails on its own."""

from __future__ import annotations

from sqlalchemy import exc as sa

from .writes import ConcurrentUpdate

#: PostgreSQL error classes that mean "not now" rather than "not this": connection
#: exception, transaction rollback (serialisation failure, deadlock), insufficient resources
#: (too many connections, disk full), operator intervention (shutdown, cannot connect now),
#: system error (I/O).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
UNAVAILABLE_SQLSTATES = frozenset({"55P03"})  # lock_not_available

_NOT_NOW = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    sa.TimeoutError,  # no connection free in the pool
    sa.DisconnectionError,
    sa.InterfaceError,  # the connection is closed
    sa.OperationalError,  # SQLite: locked, I/O error, cannot open; a lost connection
    ConcurrentUpdate,  # another process changed the conversation: a retry reloads it
)


def database_unavailable(error: BaseException) -> bool:
    """True when ``error`` says the database could not be reached or used just now, so the
    same work should be tried again later; False when the work itself is at fault (a value
    the database refuses, a bug), which trying again would only repeat."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _NOT_NOW):
            return True
        if isinstance(current, sa.DBAPIError):
            if current.connection_invalidated:
                return True
            state = getattr(current.orig, "sqlstate", None) or getattr(current.orig, "pgcode", None)
            if isinstance(state, str) and (
                state[:2] in UNAVAILABLE_SQLSTATE_CLASSES or state in UNAVAILABLE_SQLSTATES
            ):
                return True
        current = current.__cause__
    return False
