"""Receipts, survey responses and their answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import answers, contacts, conversations, receipts, survey_responses


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    id: int
    token: str
    procedure: str
    field: str | None
    valid_until: date | None
    response_status: str | None


_RECEIPT_COLUMNS = (
    receipts.c.id,
    receipts.c.token,
    receipts.c.procedure,
    receipts.c.field,
    receipts.c.valid_until,
    receipts.c.survey_status,
)

# The survey's status is kept on the receipt: no response row points at a receipt.
_RECEIPTS = select(*_RECEIPT_COLUMNS)


async def receipts_by_token(conn: AsyncConnection, tokens: Sequence[str]) -> dict[str, ReceiptRow]:
    if not tokens:
        return {}
    rows = await conn.execute(_RECEIPTS.where(receipts.c.token.in_(list(set(tokens)))))
    return {r[1]: ReceiptRow(*r) for r in rows}


async def receipts_by_short_code(
    conn: AsyncConnection, codes: Sequence[str]
) -> dict[str, ReceiptRow]:
    """Receipts by the 10-digit code typed on Zalo (digits only, no separators)."""
    if not codes:
        return {}
    stmt = _RECEIPTS.add_columns(receipts.c.short_code).where(
        receipts.c.short_code.in_(list(set(codes)))
    )
    return {str(r[-1]): ReceiptRow(*r[:-1]) for r in await conn.execute(stmt)}


async def receipts_by_id(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, ReceiptRow]:
    if not ids:
        return {}
    rows = await conn.execute(_RECEIPTS.where(receipts.c.id.in_(list(set(ids)))))
    return {int(r[0]): ReceiptRow(*r) for r in rows}


async def create_receipt(
    conn: AsyncConnection,
    token: str,
    procedure: str,
    now: datetime,
    *,
    field: str | None = None,
    handed_over_on: date | None = None,
    valid_until: date | None = None,
) -> int:
    result = await conn.execute(
        receipts.insert()
        .values(
            token=token,
            procedure=procedure,
            field=field,
            handed_over_on=handed_over_on,
            valid_until=valid_until,
            created_at=now,
        )
        .returning(receipts.c.id)
    )
    return int(result.scalar_one())


@dataclass(frozen=True, slots=True)
class DueExpiry:
    channel: str
    external_id: str
    expires_at: datetime


async def due_expiries(conn: AsyncConnection, now: datetime, limit: int = 500) -> list[DueExpiry]:
    """Surveys left untouched past their deadline, oldest first, for the expiry job."""
    rows = await conn.execute(
        select(contacts.c.channel, contacts.c.external_id, conversations.c.expires_at)
        .join(conversations, conversations.c.contact_id == contacts.c.id)
        .where(conversations.c.expires_at.is_not(None), conversations.c.expires_at <= now)
        .order_by(conversations.c.expires_at)
        .limit(limit)
    )
    return [DueExpiry(r[0], r[1], r[2]) for r in rows]


async def due_reminders(conn: AsyncConnection, now: datetime, limit: int = 500) -> list[DueExpiry]:
    """Stalled surveys whose one reminder is due (the job decides whether it is daytime)."""
    rows = await conn.execute(
        select(contacts.c.channel, contacts.c.external_id, conversations.c.remind_at)
        .join(conversations, conversations.c.contact_id == contacts.c.id)
        .where(
            conversations.c.remind_at.is_not(None),
            conversations.c.remind_at <= now,
            contacts.c.stopped.is_(False),
        )
        .order_by(conversations.c.remind_at)
        .limit(limit)
    )
    return [DueExpiry(r[0], r[1], r[2]) for r in rows]


async def response_answers(conn: AsyncConnection, response_id: int) -> dict[str, int | str]:
    rows = await conn.execute(
        select(answers.c.item, answers.c.value_int, answers.c.value_text).where(
            answers.c.response_id == response_id
        )
    )
    return {r[0]: (r[1] if r[1] is not None else r[2]) for r in rows}


async def response_status(conn: AsyncConnection, response_id: int) -> str | None:
    result = await conn.execute(
        select(survey_responses.c.status).where(survey_responses.c.id == response_id)
    )
    return result.scalar_one_or_none()


async def count_responses(conn: AsyncConnection) -> dict[str, int]:
    """Responses per status."""
    rows = await conn.execute(
        select(survey_responses.c.status, func.count()).group_by(survey_responses.c.status)
    )
    return {r[0]: int(r[1]) for r in rows}
