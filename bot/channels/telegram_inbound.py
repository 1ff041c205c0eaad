"""Takes Telegram updates in (long polling or webhook) and hands them to the dispatcher.

An update counts as received only once its event is committed: polling confirms an offset
after that, and the webhook answers 200 after that, so Telegram redelivers anything a crash
interrupted, and the dispatcher drops what it has already seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Sequence

from telegram import Bot, Update
from telegram.error import NetworkError, TelegramError

from bot.channels.telegram import (
    ALLOWED_UPDATES,
    CHANNEL,
    TelegramSender,
    parse_update,
    refused_admin,
)
from bot.logs import chat_hash
from bot.runtime.dispatch import Dispatcher

log = logging.getLogger("bot.telegram")

POLL_TIMEOUT_S = 25
MAX_POLL_BACKOFF_S = 30.0


class TelegramInbound:
    def __init__(
        self, bot: Bot, dispatcher: Dispatcher, admins: Collection[int], sender: TelegramSender
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.admins = frozenset(admins)
        self.sender = sender
        self._acks: set[asyncio.Task[None]] = set()

    async def accept(self, update: Update) -> None:
        """Records one update durably (raises if it could not be recorded)."""
        if update.callback_query is not None:
            # Answered at once, outside the outbox: the spinner on the button stops
            # while the answer is still being stored.
            task = asyncio.create_task(self.sender.answer_callback(update.callback_query))
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)
        event = parse_update(update, self.admins)
        if event is None:
            return
        if refused_admin(event):
            log.warning(
                "event=admin_refused channel=%s chat=%s",
                CHANNEL,
                chat_hash(CHANNEL, event.external_id),
            )
        await self.dispatcher.submit(event)

    async def accept_all(self, updates: Sequence[Update]) -> int:
        """Handles a getUpdates batch; returns the offset that confirms what was stored."""
        results = await asyncio.gather(*(self.accept(u) for u in updates), return_exceptions=True)
        failed = [u.update_id for u, r in zip(updates, results, strict=True) if r is not None]
        for update, result in zip(updates, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "event=update_failed update=%d error=%s",
                    update.update_id,
                    type(result).__name__,
                )
        if failed:
            return min(failed)  # not confirmed: Telegram hands them out again
        return max(u.update_id for u in updates) + 1

    async def poll(self, stop: asyncio.Event) -> None:
        offset = 0
        backoff = 1.0
        while not stop.is_set():
            fetch = asyncio.create_task(
                self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=list(ALLOWED_UPDATES)
                )
            )
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
            except (NetworkError, TelegramError) as exc:
                log.warning("event=poll_failed error=%s backoff=%.0f", type(exc).__name__, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(MAX_POLL_BACKOFF_S, backoff * 2)
                continue
            backoff = 1.0
            if updates:
                next_offset = await self.accept_all(updates)
                if next_offset <= updates[-1].update_id:
                    await _sleep_or_stop(stop, 1.0)  # the database is unwell; retry shortly
                offset = next_offset

    async def close(self) -> None:
        if self._acks:
            await asyncio.gather(*self._acks, return_exceptions=True)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
