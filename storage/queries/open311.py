"""Complaints as published by the Open311 GeoReport v2 API (read-only, public).

Anonymity by construction: every query here selects only the tracking code, the category, the
status and three dates. The citizen's name, phone, chat, description, the staff's notes and the
attached files are never read, so no later change to the web layer can leak them by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import OPEN_COMPLAINT_STATUSES, complaints

#: GeoReport v2 suggests returning at most 1000 requests per call.
MAX_LIMIT = 1000
#: GeoReport v2: "When not specified, the range defaults to most recent 90 days."
DEFAULT_WINDOW = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class PublicRequest:
    """What may be published about a complaint; nothing here can name or quote the citizen."""

    code: str
    category: str
    status: str  # our status (new, in_progress, ...); the API collapses it to open/closed
    created_at: datetime
    updated_at: datetime
    due_on: date


# The only columns ever read: the dataclass is built positionally from them.
_PUBLIC = select(
    complaints.c.code,
    complaints.c.category,
    complaints.c.status,
    complaints.c.created_at,
    complaints.c.updated_at,
    complaints.c.due_on,
)


_PublicSelect = Select[tuple[str, str, str, datetime, datetime, date]]


def _newest_first(stmt: _PublicSelect) -> _PublicSelect:
    # The id breaks ties between complaints created in the same instant, so pages are stable.
    return stmt.order_by(complaints.c.created_at.desc(), complaints.c.id.desc())


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name}: naive datetime, give an aware one")
    return value


async def public_requests(
    conn: AsyncConnection,
    *,
    status: Literal["open", "closed"] | None,
    service_code: str | Sequence[str] | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    now: datetime | None = None,
    offset: int = 0,
) -> list[PublicRequest]:
    """Complaints matching the filters, newest first, at most ``min(limit, MAX_LIMIT)``,
    after skipping the first ``offset`` (a page).

    ``status`` "open" is new/in_progress/waiting_citizen; "closed" is every other status, so a
    status added later counts as closed rather than vanishing. ``service_code`` is one category
    code or several. ``start`` and ``end`` bound ``created_at``, both inclusive. With neither,
    only complaints created in the ``DEFAULT_WINDOW`` (90 days) before ``now`` are returned, as
    GeoReport v2 specifies; ``now`` defaults to the current time.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if offset < 0:
        raise ValueError("offset must not be negative")
    stmt = _PUBLIC
    if status == "open":
        stmt = stmt.where(complaints.c.status.in_(OPEN_COMPLAINT_STATUSES))
    elif status == "closed":
        stmt = stmt.where(complaints.c.status.not_in(OPEN_COMPLAINT_STATUSES))
    if service_code is not None:
        codes = [service_code] if isinstance(service_code, str) else list(service_code)
        stmt = stmt.where(complaints.c.category.in_(codes))
    if start is None and end is None:
        since = (now or datetime.now(UTC)) - DEFAULT_WINDOW
        stmt = stmt.where(complaints.c.created_at >= _aware(since, "now"))
    if start is not None:
        stmt = stmt.where(complaints.c.created_at >= _aware(start, "start"))
    if end is not None:
        stmt = stmt.where(complaints.c.created_at <= _aware(end, "end"))
    rows = await conn.execute(_newest_first(stmt).limit(min(limit, MAX_LIMIT)).offset(offset))
    return [PublicRequest(*row) for row in rows]


async def public_requests_by_code(
    conn: AsyncConnection, codes: Sequence[str]
) -> list[PublicRequest]:
    """The complaints with these tracking codes, newest first; unknown codes are left out."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    if len(wanted) > MAX_LIMIT:
        raise ValueError(f"at most {MAX_LIMIT} codes at once")
    rows = await conn.execute(_newest_first(_PUBLIC.where(complaints.c.code.in_(wanted))))
    return [PublicRequest(*row) for row in rows]


async def public_request(conn: AsyncConnection, code: str) -> PublicRequest | None:
    """The complaint with this tracking code, or None."""
    row = (await conn.execute(_PUBLIC.where(complaints.c.code == code))).one_or_none()
    return None if row is None else PublicRequest(*row)
