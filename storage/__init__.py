"""Storage: schema, queries and migrations (SQLAlchemy Core, async; SQLite or PostgreSQL)."""

from .db import can_write, is_sqlite, open_engine, read_transaction, scrub_log, write_transaction
from .errors import database_unavailable
from .migrate import upgrade as migrate
from .write_flush import flush
from .writes import ConcurrentUpdate, WriteSet

__all__ = [
    "ConcurrentUpdate",
    "WriteSet",
    "can_write",
    "database_unavailable",
    "flush",
    "is_sqlite",
    "migrate",
    "open_engine",
    "read_transaction",
    "scrub_log",
    "write_transaction",
]
