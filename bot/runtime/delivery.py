"""Sends one outbox message through its channel: adapted to what the channel can show, in
words when it refuses the content, within a timeout and a cap on sends in flight.

Split from ``bot.runtime.sender`` (which decides what to send and when). Every failure comes
back as a value, never raised, so the caller records it (``bot.runtime.send_record``).
"""

from __future__ import annotations

import asyncio
import logging

from bot.errors import (
    ChatBlocked,
    Deferred,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unsupported,
)
from storage.outbound import Outbound
from storage.queries.outbox import OutboxRow

from ..channels.base import Channel
from .replies import adapt, in_words

log = logging.getLogger("bot.sender")


class Delivery:
    """``in_flight`` sends at once over all chats, each at most ``timeout_s`` seconds."""

    def __init__(self, channel: Channel, in_flight: int, timeout_s: float) -> None:
        self.channel = channel
        self.timeout_s = timeout_s
        self._gate = asyncio.Semaphore(in_flight)

    async def attempt(self, row: OutboxRow) -> BaseException | None:
        """Sends ``row``; None once the channel accepted every part, else the failure: a
        ``ChatBlocked``, ``Deferred``, ``RateLimited``, ``PermanentSendError`` or
        ``TransientSendError``
        (a timeout or an unexpected crash counts as transient, so it is retried)."""
        try:
            async with self._gate:
                try:
                    await self._send(row.chat_id, row.message)
                except Unsupported:
                    # The channel refused the content itself (a chart over Zalo's limit, a
                    # file type it does not take): say it in words rather than lose it.
                    await self._send(row.chat_id, in_words(row.message))
        except (ChatBlocked, Deferred, RateLimited, TransientSendError, PermanentSendError) as exc:
            return exc
        except TimeoutError:
            return TransientSendError("send timed out")
        except Exception as exc:
            log.exception("event=send_crashed channel=%s", self.channel.name)
            return TransientSendError(type(exc).__name__)
        return None

    async def _send(self, chat_id: str, message: Outbound) -> None:
        for part in adapt(message, self.channel.capabilities):
            await asyncio.wait_for(self.channel.send(chat_id, part), timeout=self.timeout_s)
