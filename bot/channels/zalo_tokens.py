"""Keeps the Zalo OA access token fresh: refreshes it before it expires, once at a time.

Zalo's refresh token is single-use. Two processes refreshing with the same one would leave
one of them locked out, so a refresh happens under a database lock, re-reads the stored pair
first (another process may have just refreshed), and stores the new pair before using it.

One refresh at a time (single flight): in a process, callers queue on one lock and find the
pair the first caller stored; a refresh that failed is not tried again for ``RETRY_AFTER``
(Zalo then needs a person to re-authorise, and posting the same rejected token again only
adds load). An access token Zalo refused (-216/-220) is never posted again: senders wait
(``Paused``, a few seconds at a time, so a pair stored meanwhile by ``python -m bot zalo
set-token`` or another process is found promptly) for a new one. A refreshed token that Zalo
refuses too counts as a failed refresh. ``keep_fresh`` refreshes on a schedule, so an OA that
sends nothing for weeks still keeps its 3-month refresh token alive (ZALO.md, "Tokens").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import Paused, PermanentSendError, TransientSendError
from storage import read_transaction, write_transaction
from storage.queries.zalo_tokens import (
    RefreshError,
    TokenRow,
    get_tokens,
    save_tokens,
    token_failed,
)

log = logging.getLogger("bot.zalo")
REFRESH_BEFORE = timedelta(hours=1)
#: A failed refresh is tried again at most this often.
RETRY_AFTER = timedelta(minutes=1)
#: How long a send waiting for a new token pauses at a time: it then reads the stored pair
#: again, so a pair stored by ``set-token`` (or another process) is used within this.
WAIT_POLL = timedelta(seconds=5)
#: How many refused access tokens a process remembers (one is refused at most per refresh).
REFUSED_KEPT = 16
#: The scheduled refresh renews the pair this long before the access token (25 h) expires,
#: so a process asleep or restarting for a few hours still finds a valid token.
SCHEDULE_AHEAD = timedelta(hours=6)
#: ... and at the latest when the refresh token is this old (it lives 3 months).
REFRESH_TOKEN_RENEW = timedelta(days=30)
#: How often the schedule looks (one database read when nothing is due).
SCHEDULE_EVERY = timedelta(minutes=15)
MAX_ERROR_PART = 60


def refresh_error(answer: Mapping[str, Any]) -> RefreshError:
    """What a refused refresh said, each part apart: Zalo's numeric ``error`` (None when it
    sent none or 0), ``error_name``, and ``error_reason`` or else ``error_description``.
    Zalo may answer HTTP 200 with a name and reason and no numeric code (ZALO.md, "Tokens")."""
    code = answer.get("error")
    name = answer.get("error_name")
    reason = answer.get("error_reason") or answer.get("error_description")
    return RefreshError(
        None if code in (None, "", 0, "0") else str(code),
        str(name) if name else None,
        str(reason) if reason else None,
    )


def refresh_failure(answer: Mapping[str, Any] | RefreshError) -> str:
    """A refused refresh in one line for logs: ``zalo <error> <error_name>: <reason>``; each
    part present is kept (clipped to 60 characters, the reason to 120), a missing one left
    out. At most 200 characters. The parts themselves are stored apart (``refresh_error``)."""
    error = answer if isinstance(answer, RefreshError) else refresh_error(answer)
    parts = ["zalo"]
    parts += [str(part)[:MAX_ERROR_PART] for part in (error.code, error.name) if part]
    head = " ".join(parts) if len(parts) > 1 else "zalo: no token in the answer"
    reason = error.reason
    return (f"{head}: {reason[: MAX_ERROR_PART * 2]}" if reason else head)[:200]


def error_parts(row: TokenRow) -> dict[str, str]:
    """A refused refresh's parts for /healthz: ``error`` (Zalo's number, "" when it sent
    none), ``error_name`` and ``error_reason``, each "" when absent."""
    error = row.error or RefreshError()
    return {
        "error": error.code or "",
        "error_name": error.name or "",
        "error_reason": error.reason or "",
    }


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
        #: Access tokens Zalo refused (-216/-220): never posted again.
        self._refused: deque[str] = deque(maxlen=REFUSED_KEPT)
        #: The access token this process's last refresh got, until a send with it succeeds:
        #: if Zalo refuses it too, refreshing again at once would only rotate the pair.
        self._unproven: str | None = None

    async def access_token(self) -> str:
        """The access token to send with: never one Zalo refused, nor an expired one. Such a
        token is replaced by a refresh (single flight); while none can be had (a refresh
        failed less than ``RETRY_AFTER`` ago, or fails now) raises Paused for at most
        ``WAIT_POLL`` seconds, after which the stored pair is read again. A token due for
        refresh (within ``REFRESH_BEFORE`` of expiry) whose refresh fails is still used."""
        row = self._cached
        now = self.clock()
        if row is None or row.access_token in self._refused or row.expires_at <= now:
            async with read_transaction(self.engine) as conn:
                row = await get_tokens(conn)
        if row is None:
            raise PermanentSendError("no Zalo token: run python -m bot zalo set-token")
        if row.access_token in self._refused or row.expires_at <= now:
            row = await self.refresh(force_if=row.access_token)
        elif row.expires_at - now < REFRESH_BEFORE:
            # Still valid for up to REFRESH_BEFORE: sent with it if the refresh fails (tried
            # again after RETRY_AFTER).
            with contextlib.suppress(TransientSendError):
                row = await self.refresh(force_if=None)
        if row.access_token in self._refused:
            # Refused for a send beside this one while the refresh was under way.
            raise Paused(WAIT_POLL.total_seconds(), "zalo: the new access token was refused")
        self._cached = row
        return row.access_token

    def unproven(self, token: str) -> bool:
        """Whether ``token`` is the one this process's last refresh got and no send with it
        has succeeded yet. A sender asks before posting and tells ``refused``: a send beside
        it may succeed (``worked``) before its own refusal is answered."""
        return token == self._unproven

    def worked(self, token: str) -> None:
        """A send with ``token`` succeeded: a refusal of it posted later is a new fact, worth
        one refresh, not the refreshed token refused too."""
        if token == self._unproven:
            self._unproven = None

    async def refused(self, token: str, code: int, *, unproven: bool) -> None:
        """Zalo refused ``token`` with ``code`` (-216 or -220): it is not posted again. Returns
        once another token is stored (by another caller's refresh, ``set-token``, or a refresh
        made now: single flight), for one retry with it.

        Raises Paused (at most ``WAIT_POLL`` seconds; no attempt of the message is spent)
        when no new token can be had now, and when ``token`` is the one this process's last
        refresh got and no send with it had succeeded when the refused one was posted
        (``unproven``, asked of ``unproven()`` before posting), even if one beside it has
        succeeded since: that is recorded as a failed refresh (digest, /healthz), so the next
        refresh waits ``RETRY_AFTER``; refreshing at once would only rotate the pair.
        PermanentSendError with no stored pair."""
        if token not in self._refused:
            self._refused.append(token)
        self._cached = None
        if not unproven and token != self._unproven:
            await self.refresh(force_if=token)
            return
        failure = f"zalo {code}: the refreshed access token was refused too"
        async with self._lock, write_transaction(self.engine) as conn:
            row = await get_tokens(conn, lock=True)
            if row is None:
                raise PermanentSendError("no Zalo token: run python -m bot zalo set-token")
            if row.access_token != token:
                return  # replaced meanwhile: retried with the new one
            parts = RefreshError(str(code), None, "the refreshed access token was refused too")
            await token_failed(conn, self.clock(), failure, parts)
        log.error("event=zalo_refresh_failed error=%s", failure)
        raise Paused(WAIT_POLL.total_seconds(), failure)

    async def refresh(
        self, force_if: str | None, ahead: timedelta = REFRESH_BEFORE, *, scheduled: bool = False
    ) -> TokenRow:
        """Refreshes the pair unless it is fresh (valid for ``ahead`` more) or, with
        ``force_if`` (an access token that cannot be used: refused by Zalo, or expired),
        unless that token has been replaced already. Returns the pair in use afterwards.

        Raises TransientSendError when Zalo refuses (its ``error``, ``error_name`` and
        ``error_reason`` are stored for the digest and /healthz) and, without asking Zalo,
        within ``RETRY_AFTER`` of such a refusal; PermanentSendError with no stored pair.
        With ``force_if`` (not ``scheduled``), both are Paused instead, for at most
        ``WAIT_POLL`` seconds: the send waits, spending no attempt, for a new token."""
        waiting = force_if is not None and not scheduled
        async with self._lock:
            failure: str | None = None
            parts: RefreshError | None = None
            async with write_transaction(self.engine) as conn:
                row = await get_tokens(conn, lock=True)
                if row is None:
                    raise PermanentSendError("no Zalo token: run python -m bot zalo set-token")
                now = self.clock()
                replaced = force_if is not None and row.access_token != force_if
                fresh = force_if is None and row.expires_at - now >= ahead
                if replaced or fresh:
                    self._cached = row
                    return row
                if failing(row, now):
                    _pause_if_failing(row, now, waiting)
                    raise TransientSendError(f"zalo token refresh failed ({row.last_error})")
                answer = await self._ask(row.refresh_token)
                if isinstance(answer, RefreshError):
                    failure, parts = refresh_failure(answer), answer
                elif isinstance(answer, str):
                    failure = answer
                else:
                    access, refresh, seconds = answer
                    expires = now + timedelta(seconds=seconds)
                    # Unproven before it is stored: a send may read the stored pair, post it
                    # and be refused before this returns.
                    self._unproven = access
                    # Stored (committed) before anything uses the new access token.
                    await save_tokens(conn, access, refresh, expires, now)
                    new = TokenRow(access, refresh, expires, now, None, None)
            if failure is not None:
                async with write_transaction(self.engine) as conn:
                    await token_failed(conn, self.clock(), failure, parts)
                self._cached = None
                log.error("event=zalo_refresh_failed error=%s", failure)
                if waiting:
                    raise Paused(
                        min(WAIT_POLL, RETRY_AFTER).total_seconds(),
                        f"zalo token refresh failed ({failure})",
                    )
                raise TransientSendError(f"zalo token refresh failed ({failure})")
            self._cached = new
            log.info("event=zalo_token_refreshed")
            return new

    async def refresh_if_due(self) -> bool:
        """The scheduled refresh: renews the pair when the access token expires within
        ``SCHEDULE_AHEAD`` or the refresh token is older than ``REFRESH_TOKEN_RENEW``; True
        when it refreshed. No traffic is needed (ZALO.md: the refresh token lives 3 months)."""
        async with read_transaction(self.engine) as conn:
            row = await get_tokens(conn)
        if row is None:
            return False
        now = self.clock()
        old = now - row.refreshed_at >= REFRESH_TOKEN_RENEW
        if row.expires_at - now >= SCHEDULE_AHEAD and not old:
            return False
        if failing(row, now):
            return False
        # ``force_if`` the stored token: refreshes even when it is not about to expire (an
        # old refresh token), unless another process has just replaced it.
        done = await self.refresh(force_if=row.access_token, scheduled=True)
        return done.access_token != row.access_token

    async def keep_fresh(
        self,
        stop: asyncio.Event,
        sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> None:
        """Runs ``refresh_if_due`` every ``SCHEDULE_EVERY`` until ``stop``; a failure is
        logged (and stored by ``refresh``), never fatal."""
        while not stop.is_set():
            try:
                await self.refresh_if_due()
            except Exception as exc:
                log.warning("event=zalo_scheduled_refresh_failed error=%s", type(exc).__name__)
            if sleep is not None:
                await sleep(SCHEDULE_EVERY.total_seconds())
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SCHEDULE_EVERY.total_seconds())

    async def _ask(self, refresh_token: str) -> tuple[str, str, int] | RefreshError | str:
        """The new (access, refresh, seconds) from Zalo, or what Zalo said instead
        (RefreshError), or why there was no answer (str)."""
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
        if not isinstance(answer, Mapping):
            return "zalo: the answer is not a JSON object"
        if not answer.get("access_token") or not answer.get("refresh_token"):
            return refresh_error(answer)
        seconds = str(answer.get("expires_in", "90000"))
        return (
            str(answer["access_token"]),
            str(answer["refresh_token"]),
            int(seconds) if seconds.isascii() and seconds.isdigit() else 90000,
        )


def _pause_if_failing(row: TokenRow, now: datetime, waiting: bool) -> None:
    """Raises Paused when ``waiting`` (the send needs a new token) and the stored pair's
    refresh failed within ``RETRY_AFTER``: for what is left of it, at most ``WAIT_POLL``
    seconds (then the stored pair is read again: ``set-token`` may have replaced it)."""
    if waiting and failing(row, now) and row.failed_at is not None:
        left = min(RETRY_AFTER - (now - row.failed_at), WAIT_POLL)
        raise Paused(
            max(1.0, left.total_seconds()), f"zalo token refresh failed ({row.last_error})"
        )


def failing(row: TokenRow, now: datetime) -> bool:
    """Whether the stored pair's last refresh failed less than ``RETRY_AFTER`` ago (and no
    refresh or ``set-token`` has succeeded since)."""
    return (
        row.failed_at is not None
        and row.failed_at >= row.refreshed_at
        and now - row.failed_at < RETRY_AFTER
    )
