"""Keeps the Zalo OA access token fresh: refreshes it before it expires, once at a time.

Zalo's refresh token is single-use. Two processes refreshing with the same one would leave
one of them locked out, so a refresh happens under a database lock, re-reads the stored pair
first (another process may have just refreshed), and stores the new pair before using it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import PermanentSendError, TransientSendError
from storage import read_transaction, write_transaction
from storage.queries.zalo_tokens import TokenRow, get_tokens, save_tokens, token_failed

log = logging.getLogger("bot.zalo")
REFRESH_BEFORE = timedelta(hours=1)


class TokenStore:
    def __init__(
        self,
        engine: AsyncEngine,
        client: httpx.AsyncClient,
        oauth_url: str,
        app_id: str,
        app_secret: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.client = client
        self.url = oauth_url.rstrip("/") + "/v4/oa/access_token"
        self.app_id = app_id
        self.app_secret = app_secret
        self.clock = clock
        self._lock = asyncio.Lock()
        self._cached: TokenRow | None = None

    async def access_token(self) -> str:
        row = self._cached
        if row is None:
            async with read_transaction(self.engine) as conn:
                row = await get_tokens(conn)
        if row is None:
            raise PermanentSendError("no Zalo token: run python -m bot zalo set-token")
        if row.expires_at - self.clock() < REFRESH_BEFORE:
            row = await self.refresh(force_if=None)
        self._cached = row
        return row.access_token

    async def refresh(self, force_if: str | None) -> TokenRow:
        """Refreshes the pair unless it is fresh (or, with ``force_if``, unless the token that
        failed has already been replaced). Returns the pair in use afterwards."""
        async with self._lock:
            failure: str | None = None
            async with write_transaction(self.engine) as conn:
                row = await get_tokens(conn, lock=True)
                if row is None:
                    raise PermanentSendError("no Zalo token: run python -m bot zalo set-token")
                now = self.clock()
                replaced = force_if is not None and row.access_token != force_if
                fresh = force_if is None and row.expires_at - now >= REFRESH_BEFORE
                if replaced or fresh:
                    self._cached = row
                    return row
                answer = await self._ask(row.refresh_token)
                if isinstance(answer, str):
                    failure = answer
                else:
                    access, refresh, seconds = answer
                    expires = now + timedelta(seconds=seconds)
                    # Stored (committed) before anything uses the new access token.
                    await save_tokens(conn, access, refresh, expires, now)
                    new = TokenRow(access, refresh, expires, now, None, None)
            if failure is not None:
                async with write_transaction(self.engine) as conn:
                    await token_failed(conn, self.clock(), failure)
                log.error("event=zalo_refresh_failed error=%s", failure)
                raise TransientSendError(f"zalo token refresh failed ({failure})")
            self._cached = new
            log.info("event=zalo_token_refreshed")
            return new

    async def _ask(self, refresh_token: str) -> tuple[str, str, int] | str:
        """The new (access, refresh, seconds) from Zalo, or why there is none."""
        try:
            response = await self.client.post(
                self.url,
                headers={"secret_key": self.app_secret},
                data={
                    "refresh_token": refresh_token,
                    "app_id": self.app_id,
                    "grant_type": "refresh_token",
                },
                timeout=15,
            )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return type(exc).__name__
        if "access_token" not in answer or "refresh_token" not in answer:
            return f"zalo {answer.get('error', '?')}"
        seconds = str(answer.get("expires_in", "90000"))
        return (
            str(answer["access_token"]),
            str(answer["refresh_token"]),
            int(seconds) if seconds.isascii() and seconds.isdigit() else 90000,
        )
