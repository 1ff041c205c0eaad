"""What the engine may know besides the state and the event: the clock, ids, and looked-up facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

ResponseStatus = Literal["in_progress", "completed", "abandoned", "expired"]


@dataclass(frozen=True, slots=True)
class Env:
    """The caller's world, passed in so the engine stays deterministic (goflow's environment).

    ``new_id`` makes survey response ids; tests pass a seeded generator.
    """

    now: datetime
    new_id: Callable[[], int]
    agency: str = "Sở Xây dựng"
    survey_ttl: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """A receipt as found in storage, with the status of the survey it started (if any)."""

    id: int
    token: str
    procedure: str
    field: str | None = None
    valid_until: date | None = None
    response_status: ResponseStatus | None = None

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and today > self.valid_until


@dataclass(frozen=True, slots=True)
class Facts:
    """What the runtime looked up for this event before calling the engine."""

    receipt: ReceiptFacts | None = None
    admin: bool = False
