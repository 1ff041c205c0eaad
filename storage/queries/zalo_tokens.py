"""The Zalo OA token pair, stored so every process (and the next start) uses the same one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import upsert
from ..schema import zalo_tokens


@dataclass(frozen=True, slots=True)
class TokenRow:
    access_token: str
    refresh_token: str
    expires_at: datetime
    refreshed_at: datetime
    failed_at: datetime | None
    last_error: str | None


async def get_tokens(conn: AsyncConnection, *, lock: bool = False) -> TokenRow | None:
    stmt = select(
        zalo_tokens.c.access_token,
        zalo_tokens.c.refresh_token,
        zalo_tokens.c.expires_at,
        zalo_tokens.c.refreshed_at,
        zalo_tokens.c.failed_at,
        zalo_tokens.c.last_error,
    ).where(zalo_tokens.c.id == 1)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return None if row is None else TokenRow(*row)


async def save_tokens(
    conn: AsyncConnection, access: str, refresh: str, expires_at: datetime, now: datetime
) -> None:
    stmt = upsert(
        conn,
        zalo_tokens,
        ("id",),
        ("access_token", "refresh_token", "expires_at", "refreshed_at", "failed_at", "last_error"),
    )
    await conn.execute(
        stmt,
        [
            {
                "id": 1,
                "access_token": access,
                "refresh_token": refresh,
                "expires_at": expires_at,
                "refreshed_at": now,
                "failed_at": None,
                "last_error": None,
            }
        ],
    )


async def token_failed(conn: AsyncConnection, now: datetime, error: str) -> None:
    await conn.execute(
        update(zalo_tokens)
        .where(zalo_tokens.c.id == 1)
        .values(failed_at=now, last_error=error[:200])
    )
