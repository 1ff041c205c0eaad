"""The Zalo OA token pair, stored so every process (and the next start) uses the same one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..dialect import upsert
from ..schema import zalo_tokens


@dataclass(frozen=True, slots=True)
class RefreshError:
    """What Zalo's token endpoint said when it refused a refresh, each part as sent (None
    when absent): ``code`` its numeric ``error``, often missing (ZALO.md, "Tokens"),
    ``name`` its ``error_name``, ``reason`` its ``error_reason`` or ``error_description``.
    Clipped to 40 / 120 / 400 characters when stored."""

    code: str | None = None
    name: str | None = None
    reason: str | None = None

    def shown(self) -> str:
        """The parts under Zalo's own field names, for staff: ``error -14014, error_name
        "invalid_grant", error_reason "..."``; absent parts left out, "" when none."""
        named = (("error", self.code), ("error_name", self.name), ("error_reason", self.reason))
        return ", ".join(
            f"{field} {part}" if field == "error" else f'{field} "{part}"'
            for field, part in named
            if part
        )


@dataclass(frozen=True, slots=True)
class TokenRow:
    access_token: str
    refresh_token: str
    expires_at: datetime
    refreshed_at: datetime
    failed_at: datetime | None
    #: One line for logs and staff (at most 200 characters); the parts are in ``error``.
    last_error: str | None
    error: RefreshError | None = None


async def get_tokens(conn: AsyncConnection, *, lock: bool = False) -> TokenRow | None:
    stmt = select(
        zalo_tokens.c.access_token,
        zalo_tokens.c.refresh_token,
        zalo_tokens.c.expires_at,
        zalo_tokens.c.refreshed_at,
        zalo_tokens.c.failed_at,
        zalo_tokens.c.last_error,
        zalo_tokens.c.error_code,
        zalo_tokens.c.error_name,
        zalo_tokens.c.error_reason,
    ).where(zalo_tokens.c.id == 1)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    access, refresh, expires, refreshed, failed, last, code, name, reason = row
    parts = RefreshError(code, name, reason) if failed is not None else None
    return TokenRow(access, refresh, expires, refreshed, failed, last, parts)


async def save_tokens(
    conn: AsyncConnection, access: str, refresh: str, expires_at: datetime, now: datetime
) -> None:
    """Stores a new pair; clears any refused refresh on record."""
    cleared = ("failed_at", "last_error", "error_code", "error_name", "error_reason")
    stmt = upsert(
        conn,
        zalo_tokens,
        ("id",),
        ("access_token", "refresh_token", "expires_at", "refreshed_at", *cleared),
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
                **dict.fromkeys(cleared),
            }
        ],
    )


async def token_failed(
    conn: AsyncConnection, now: datetime, error: str, parts: RefreshError | None = None
) -> None:
    """Records a refused refresh at ``now``: ``error`` one line (clipped to 200 characters),
    ``parts`` what Zalo said, each part apart (None: a failure with no answer from Zalo)."""
    parts = parts or RefreshError()
    await conn.execute(
        update(zalo_tokens)
        .where(zalo_tokens.c.id == 1)
        .values(
            failed_at=now,
            last_error=error[:200],
            error_code=_clip(parts.code, 40),
            error_name=_clip(parts.name, 120),
            error_reason=_clip(parts.reason, 400),
        )
    )


def _clip(text: str | None, size: int) -> str | None:
    return text[:size] if text else None
