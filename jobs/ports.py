"""What the jobs need from the runtime, as small protocols: the runtime hands them in.

``jobs/`` never imports ``bot/`` (a test checks it): the reminder and expiry jobs feed events
to whatever implements :class:`EventSink` (the bot's dispatcher), and the request worker is
woken by whoever commits requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import InboundEvent


class Processed(Protocol):
    """What became of one event: a duplicate, or handled with these messages."""

    @property
    def duplicate(self) -> bool: ...

    @property
    def messages(self) -> Sequence[object]: ...


class EventSink(Protocol):
    """Handles engine events durably, one transaction per batch (the bot's dispatcher)."""

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    async def process(self, events: Sequence[InboundEvent]) -> Sequence[Processed | Exception]:
        """Handles ``events``; a failed event's place holds its exception."""
        ...

    def on_jobs(self, listener: Callable[[], None]) -> None:
        """Calls ``listener`` after each commit that queued a request for the jobs."""
        ...

    def on_surveys_ended(self, listener: Callable[[], None]) -> None:
        """Calls ``listener`` after each commit that ended (or deleted) a survey."""
        ...
