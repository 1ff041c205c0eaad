"""The one small interface every channel adapter implements (STYLE rules 11 and 24).

Parsing is channel-shaped (an Update, a Zalo event, a typed line) and lives in each adapter as
a pure function; what the runtime relies on is only this: a name, what the channel can carry,
and how to send one typed message to one chat, raising the errors of ``bot.errors``.
"""

from __future__ import annotations

from typing import Protocol

from storage.outbound import Outbound

from ..runtime.replies import Capabilities

__all__ = ["Capabilities", "Channel"]


class Channel(Protocol):
    @property
    def name(self) -> str:
        """The channel's name in the database (``contacts.channel``, ``outbox.channel``)."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Sends one message; raises ChatBlocked, RateLimited, TransientSendError, …"""
        ...
