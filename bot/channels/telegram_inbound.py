"""Takes Telegram updates in (long polling or webhook) and hands them to the dispatcher.

An update counts as received only once its event is committed: polling confirms an offset
after that, and the webhook answers 200 after that, so Telegram redelivers anything a crash
interrupted, and the dispatcher drops what it has already seen.

Updates arrive as raw JSON and each is parsed on its own: one that PTB cannot parse (a new
Bot API field it requires, a malformed object) is recorded as failed, its chat is told
politely when it can be read, and it is confirmed like any other, so it neither stops
polling nor holds back the updates behind it. Only an unavailable database leaves an update
unconfirmed.

A token Telegram refuses while polling (401 or 403 to getUpdates: revoked) is logged once at
ERROR and marked in ``ChannelHealth`` (``/healthz`` answers 503); polling keeps asking, and
clears both when the token works again. Refused for ``refused_exit_s`` on end, polling ends
with ``TokenRefused`` (the process exits non-zero) unless it was told to stay up (None: other
channels are served).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from telegram import Bot, Update
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError

from bot.channels.telegram import TelegramSender
from bot.channels.telegram_models import check as check_bounds
from bot.channels.telegram_raw import readable
from bot.channels.telegram_updates import (
    ALLOWED_UPDATES,
    CHANNEL,
    GROUP_TYPES,
    album_part,
    migration,
    parse_update,
    raw_chat_id,
    raw_update_id,
    refused_admin,
)
from bot.errors import TokenRefused
from bot.logs import chat_hash
from bot.runtime.dispatch import Dispatcher
from bot.runtime.failures import Failures
from bot.runtime.health import ChannelHealth
from bot.runtime.rooms import StaffRooms
from conversations import InboundEvent
from jobs.event_keys import account_mark

log = logging.getLogger("bot.telegram")

POLL_TIMEOUT_S = 25
MAX_POLL_BACKOFF_S = 30.0
#: Seconds to wait past the long poll's own timeout before calling the connection dead.
POLL_READ_MARGIN_S = 10


class PollingBot(Bot):
    """PTB's Bot, whose getUpdates answer stays JSON: ``Bot.get_updates`` parses the whole
    batch at once, so one update it cannot parse fails them all (and is logged raw, at
    CRITICAL, content included)."""

    async def get_update_data(self, offset: int, wait_s: int = POLL_TIMEOUT_S) -> list[Any]:
        """The updates from ``offset`` on, waiting up to ``wait_s`` for one (long polling)."""
        result = await self._post(
            "getUpdates",
            {"offset": offset, "timeout": wait_s, "allowed_updates": list(ALLOWED_UPDATES)},
            read_timeout=wait_s + POLL_READ_MARGIN_S,
        )
        if not isinstance(result, list):
            raise TelegramError("getUpdates did not answer a list")
        return result


class TelegramInbound:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        admins: Collection[int],
        sender: TelegramSender,
        failures: Failures | None = None,
        rooms: StaffRooms | None = None,
        *,
        health: ChannelHealth | None = None,
        refused_exit_s: float | None = None,
    ) -> None:
        """``health``: where a refused token is marked for /healthz; ``refused_exit_s``:
        seconds of a token refused on every poll before ``poll`` raises ``TokenRefused``
        (None: it never does, the process stays up for its other channels)."""
        self.bot = bot
        self.dispatcher = dispatcher
        self.admins = frozenset(admins)
        self.sender = sender
        self.rooms = rooms
        self.failures = failures or Failures(
            dispatcher.engine,
            dispatcher.catalog,
            dispatcher.settings.default_language,
            dispatcher.clock,
        )
        self._acks: set[asyncio.Task[None]] = set()
        self.health = health or ChannelHealth()
        self.refused_exit_s = refused_exit_s
        #: time.monotonic() of the first refusal in the current run of them; None: accepted.
        self._refused_since: float | None = None

    async def _read(self, raw: object) -> InboundEvent | None:
        """The engine event a raw update means; raises when it cannot be read.

        A group's update is read as its staff room's (None when the group is none), and a
        group that became a supergroup moves its room, whichever of the two service
        messages comes first."""
        if not isinstance(raw, dict):
            raise TypeError("an update is a JSON object")
        trimmed, stray = readable(raw)
        # Its ids and strings within what Telegram sends and storage keeps, before the
        # library reads it: a forged 100-digit chat id is a failed update on either database.
        check_bounds(trimmed)
        update = Update.de_json(trimmed, self.bot)
        moved = migration(update)
        if moved is not None:
            if self.rooms is not None:
                await self.rooms.move(*moved)
            return None
        chat = update.effective_chat
        room: str | None = None
        if chat is not None and chat.type in GROUP_TYPES and self.rooms is not None:
            room = await self.rooms.find(str(chat.id))
        if update.callback_query is not None:
            # Answered at once, outside the outbox: the spinner on the button stops
            # while the answer is still being stored.
            task = asyncio.create_task(self.sender.answer_callback(update.callback_query))
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)
        event = parse_update(
            update,
            self.admins,
            room,
            bot_id=self.bot.id,
            username=self.bot.username or "",
            stray=stray,
        )
        if event is not None:
            # Update ids are unique per bot only: the key that recognises a redelivery
            # names the bot, so two bots on one database never drop each other's updates.
            event = replace(event, via=self._via())
        if event is not None and refused_admin(event):
            log.warning(
                "event=admin_refused channel=%s chat=%s",
                CHANNEL,
                chat_hash(CHANNEL, event.external_id),
            )
        return event

    def _via(self) -> str:
        """This bot, as its events' keys name it (its id is the token's part before ":")."""
        return account_mark(str(self.bot.id))

    async def accept(self, raw: object) -> None:
        """Records one update, as Telegram sent it, durably; raises only when the database
        could not take it (then it must be delivered again)."""
        try:
            event = await self._read(raw)
        except Exception as exc:
            update_id = raw_update_id(raw)
            # Raises only when the database is unavailable: any other failure to record
            # the update is logged and the update confirmed all the same.
            await self.failures.settle_unread(
                CHANNEL,
                None if update_id is None else str(update_id),
                exc,
                chat_id=raw_chat_id(raw),
                via=self._via(),
            )
            return
        if event is not None:
            await self.dispatcher.submit(event)

    async def accept_all(self, updates: Sequence[object]) -> int | None:
        """Handles a getUpdates batch; returns the offset that confirms what was stored
        (None when no update in it had a readable id)."""
        results = await asyncio.gather(*(self.accept(u) for u in updates), return_exceptions=True)
        ids = [raw_update_id(u) for u in updates]
        failed: list[int] = []
        for update_id, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                # No update id: ids are sequential per bot, so the gap between two failed
                # ones would count a lone citizen's events (failed_events keeps the id).
                log.error("event=update_failed error=%s", type(result).__name__)
                if update_id is not None:
                    failed.append(update_id)
        if failed:
            return min(failed)  # not confirmed: Telegram hands them out again
        known = [i for i in ids if i is not None]
        return max(known) + 1 if known else None

    async def poll(self, stop: asyncio.Event) -> None:
        if not isinstance(self.bot, PollingBot):
            raise TypeError("polling needs a PollingBot")
        bot = self.bot
        offset = 0
        backoff = 1.0
        while not stop.is_set():
            fetch = asyncio.create_task(bot.get_update_data(offset, POLL_TIMEOUT_S))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if stop.is_set():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetch
                return
            try:
                updates = fetch.result()
            except (InvalidToken, Forbidden) as exc:  # 401 (404: no such bot) and 403
                await _sleep_or_stop(stop, self._token_refused(exc, backoff))
                backoff = min(MAX_POLL_BACKOFF_S, backoff * 2)
                continue
            except (NetworkError, TelegramError) as exc:
                log.warning("event=poll_failed error=%s backoff=%.0f", type(exc).__name__, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(MAX_POLL_BACKOFF_S, backoff * 2)
                continue
            backoff = 1.0
            self._token_accepted()
            if updates:
                updates = await self._whole_albums(bot, offset, updates, stop)
                next_offset = await self.accept_all(updates)
                ids = [i for i in map(raw_update_id, updates) if i is not None]
                if next_offset is None or not ids or next_offset <= max(ids):
                    await _sleep_or_stop(stop, 1.0)  # not all stored: the database is unwell
                if next_offset is not None:
                    offset = next_offset

    def _token_refused(self, error: TelegramError, backoff: float) -> float:
        """Notes a poll Telegram refused for the token; returns the seconds to wait before
        the next (``backoff``, or less to end on time). Raises ``TokenRefused`` once the
        token has been refused for ``refused_exit_s``. Logs the first refusal only, at
        ERROR, with the error's class (its text is Telegram's, never the token)."""
        now = time.monotonic()
        if self._refused_since is None:
            self._refused_since = now
            self.health.refused(CHANNEL, self.dispatcher.clock())
            log.error(
                "event=token_refused channel=%s method=getUpdates error=%s exit_after_s=%s",
                CHANNEL,
                type(error).__name__,
                "never" if self.refused_exit_s is None else f"{self.refused_exit_s:g}",
            )
        if self.refused_exit_s is None:
            return backoff
        left = self.refused_exit_s - (now - self._refused_since)
        if left <= 0:
            raise TokenRefused(CHANNEL)
        return min(backoff, left)

    def _token_accepted(self) -> None:
        if self._refused_since is None:
            return
        self._refused_since = None
        self.health.accepted(CHANNEL)
        log.warning("event=token_accepted channel=%s", CHANNEL)

    async def _whole_albums(
        self, bot: PollingBot, offset: int, updates: list[Any], stop: asyncio.Event
    ) -> list[Any]:
        """``updates``, with the rest of the albums they began: Telegram answers a long poll
        with what it has, so an album's first photo may come alone and the others in the
        next poll (then answered twice, "Đã nhận 1 tệp" and "Đã nhận 3 tệp"). When the
        batch holds a photo of an album, the bot waits ``album_hold`` seconds and asks again
        from the same offset, which confirms nothing and hands out the same updates and
        those that came since; on any error, the batch as it was."""
        hold = self.dispatcher.settings.album_hold
        if hold <= 0 or not any(album_part(u) for u in updates):
            return updates
        await _sleep_or_stop(stop, hold)
        if stop.is_set():
            return updates
        try:
            again = await bot.get_update_data(offset, 0)
        except (NetworkError, TelegramError) as exc:
            log.warning("event=album_poll_failed error=%s", type(exc).__name__)
            return updates
        ids = [raw_update_id(u) for u in updates]
        same = [raw_update_id(u) for u in again[: len(updates)]] == ids
        return again if same else updates

    async def close(self) -> None:
        if self._acks:
            await asyncio.gather(*self._acks, return_exceptions=True)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
