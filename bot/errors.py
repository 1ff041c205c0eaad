"""The errors a channel's send can end in; the outbox sender reacts to these, not to PTB's.

BotError
 └── ChannelError
      ├── TokenRefused         the platform refuses the process's own credentials (Telegram
      │                        401/403): nothing goes through that channel until a person
      │                        sets a valid token
      ├── ChatBlocked          the user blocked the bot (Telegram 403): stop sending to them
      │    └── Unreachable     not now (Zalo's 7-day window): keep the message for staff
      ├── RateLimited          slow down for ``retry_after`` seconds (Telegram 429)
      │    └── Paused          nothing can be sent before ``retry_after`` (a refused Zalo
      │                        token refresh): waiting spends none of the message's attempts
      ├── Deferred             this message may go only at ``not_before`` (a ZNS notice
      │                        outside Zalo's sending hours or over the day's quota):
      │                        it waits, spending no attempt; other messages go on
      ├── TransientSendError   network trouble or a 5xx: try again later
      └── PermanentSendError   the request itself is wrong (400): retrying will not help
           ├── Unsupported     the channel cannot carry this content (its type or size):
           │                   send it another way (a text, a link), not again as it is
           └── ChatMoved       the group became a supergroup (Telegram's migrate_to_chat_id):
                               not again to this id, but to ``new_id``
"""

from __future__ import annotations

from datetime import datetime


class BotError(Exception):
    """Base of the project's runtime errors."""


class ChannelError(BotError):
    """A channel refused or failed a request."""


class TokenRefused(ChannelError):
    """The platform refuses this process's token (Telegram answers 401 Unauthorized or 403
    Forbidden to getMe, getUpdates, setWebhook): revoked or mistyped. ``channel`` names it;
    the message never holds the token."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"{channel}: token refused")
        self.channel = channel


class ApiUnreachable(ChannelError):
    """The platform's API could not be reached at the start (no connection, a timeout, a
    proxy refusing): a fault of the network, not of the settings. ``channel`` names it,
    ``place`` is the API's ``host:port`` and ``error`` the class of the innermost error;
    neither ever holds the token (Telegram's URLs do)."""

    def __init__(self, channel: str, place: str, error: str) -> None:
        super().__init__(f"{channel}: {place} unreachable ({error})")
        self.channel = channel
        self.place = place
        self.error = error


class ChatBlocked(ChannelError):
    pass


class Unreachable(ChatBlocked):
    """Not deliverable now; ``reason`` says why, for the digest (``storage.queries.outbox.
    HELD_REASONS``): "window" (outside the channel's window), "billed" (the agency chose not
    to pay for the message), "refused" (the platform refuses this person for now)."""

    def __init__(self, *args: object, reason: str = "window") -> None:
        super().__init__(*args)
        self.reason = reason

    #: The citizen already got the message's content another way (a Zalo template message):
    #: it is held only for what that way cannot carry (its buttons), and the digest counts
    #: it once, as sent that way, not also as held and re-sent.
    told = False


class RateLimited(ChannelError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g} s")
        self.retry_after = retry_after


class Paused(RateLimited):
    """The channel cannot send anything for ``retry_after`` seconds, through no fault of the
    message (Zalo's token refresh was refused and may be tried again only then): the message
    waits without spending an attempt, so it never goes dead for it."""

    def __init__(self, retry_after: float, reason: str) -> None:
        super().__init__(retry_after)
        self.args = (f"paused {retry_after:g} s: {reason}",)


class Deferred(ChannelError):
    """This one message may go only at ``not_before`` (aware): a ZNS notice outside Zalo's
    sending hours or over the OA's daily quota (``bot/channels/zns_schedule.py``). It waits
    without spending an attempt; unlike ``RateLimited``, nothing else waits for it."""

    def __init__(self, not_before: datetime, reason: str) -> None:
        super().__init__(f"deferred to {not_before.isoformat()}: {reason}")
        self.not_before = not_before


class TransientSendError(ChannelError):
    pass


class PermanentSendError(ChannelError):
    pass


class Unsupported(PermanentSendError):
    """The channel cannot carry this content: a file type it refuses, or bytes over its limit.

    Retrying will not help, but the runtime can fall back (say so in text, offer a link,
    send it on another channel). ``kind`` is what was refused ("image", "document").
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind} not sendable: {reason}")
        self.kind = kind
        self.reason = reason


class ChatMoved(PermanentSendError):
    """A Telegram group was upgraded to a supergroup: its id is now ``new_id``."""

    def __init__(self, new_id: int) -> None:
        super().__init__(f"group chat moved to {new_id}")
        self.new_id = new_id
