"""When a ZNS message may go: Zalo's sending hours and the OA's daily quota (issue 15).

ZNS is billed per message and ruled by Zalo, not by us: messages go only within the sending
hours (``ZALO_ZNS_HOURS``, local time, Asia/Ho_Chi_Minh by default) and at most
``ZALO_ZNS_DAILY_QUOTA`` a local day. Sources disagree on the exact rules (a third-party
summary of Zalo's ZBS rules gives 07:00-22:00 for customer-care templates, round the clock
for transaction ones, and OA quotas in levels of 1,000 to 50,000 a day; Zalo's own text was
not read): both are settings, defaulting to 06:00-22:00 and 1,000 (the lowest level), for the
agency to set from its ZNS contract. A notice outside the hours waits for the next opening; a
notice over the day's quota waits for the next day's opening and is counted ("zns_quota")
for the digest. Waiting spends none of the message's attempts and holds back no other message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction
from storage.queries.zalo_chats import zns_sent_since

HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def parse_hours(text: str) -> tuple[time, time] | None:
    """``"06:00-22:00"`` as (opening, closing), local times; None for "" (any hour).
    Raises ValueError for another shape, or a closing not after the opening."""
    if not text:
        return None
    found = HOURS.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not HH:MM-HH:MM: {text!r}")
    start = time(int(found.group(1)), int(found.group(2)))
    end_h, end_m = int(found.group(3)), int(found.group(4))
    end = time.max if (end_h, end_m) == (24, 0) else time(end_h % 24, end_m)
    if end <= start or (end_h == 24 and end_m):
        raise ValueError(f"the closing is not after the opening: {text!r}")
    return start, end


@dataclass(frozen=True, slots=True)
class ZnsSchedule:
    """``hours``: (opening, closing) in ``tz``, None for any hour; ``daily_quota``: ZNS
    messages a local day, 0 for no limit."""

    tz: ZoneInfo
    hours: tuple[time, time] | None = None
    daily_quota: int = 0

    def next_opening(self, now: datetime) -> datetime | None:
        """When the hours next open (aware, in ``tz``) if ``now`` is outside them; None
        inside them (or with no hours)."""
        if self.hours is None:
            return None
        start, end = self.hours
        local = now.astimezone(self.tz)
        if start <= local.time() < end:
            return None
        day = local.date() if local.time() < start else local.date() + timedelta(days=1)
        return datetime.combine(day, start, self.tz)

    def tomorrow(self, now: datetime) -> datetime:
        """The next local day's opening (its midnight with no hours): a new day's quota."""
        day = now.astimezone(self.tz).date() + timedelta(days=1)
        return datetime.combine(day, self.hours[0] if self.hours else time(0), self.tz)

    async def wait_until(self, engine: AsyncEngine, now: datetime) -> tuple[datetime, str] | None:
        """(until when, why: "hours" or "quota") a ZNS message must wait at ``now``; None when
        it may go. The quota counts the ZNS messages sent since local midnight."""
        opening = self.next_opening(now)
        if opening is not None:
            return opening, "hours"
        if self.daily_quota <= 0:
            return None
        midnight = datetime.combine(now.astimezone(self.tz).date(), time(0), self.tz)
        async with read_transaction(engine) as conn:
            sent = await zns_sent_since(conn, midnight)
        if sent >= self.daily_quota:
            return self.tomorrow(now), "quota"
        return None
