"""Dialect-specific statement builders (upserts), so queries stay database-neutral."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_ignore(conn: AsyncConnection, table: Table, keys: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING; without keys, on any conflict."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=list(keys) or None)


def upsert(conn: AsyncConnection, table: Table, keys: Sequence[str], update: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET each of ``update`` to the new value."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in update}
    )


def add_upsert(conn: AsyncConnection, table: Table, keys: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET count = count + the new count."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={"count": table.c.count + stmt.excluded["count"]}
    )
