"""The errors a channel's send can end in; the outbox sender reacts to these, not to PTB's.

BotError
 └── ChannelError
      ├── ChatBlocked          the user blocked the bot (Telegram 403): stop sending to them
      │    └── Unreachable     not now (Zalo's 7-day window): keep the message for staff
      ├── RateLimited          slow down for ``retry_after`` seconds (Telegram 429)
      ├── TransientSendError   network trouble or a 5xx: try again later
      └── PermanentSendError   the request itself is wrong (400): retrying will not help
"""

from __future__ import annotations


class BotError(Exception):
    """Base of the project's runtime errors."""


class ChannelError(BotError):
    """A channel refused or failed a request."""


class ChatBlocked(ChannelError):
    pass


class Unreachable(ChatBlocked):
    pass


class RateLimited(ChannelError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g} s")
        self.retry_after = retry_after


class TransientSendError(ChannelError):
    pass


class PermanentSendError(ChannelError):
    pass
