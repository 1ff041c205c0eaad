"""Issuing receipts: the rows behind the QR codes printed on result slips.

A receipt only ties a token to a procedure, a field and dates. Nothing that names the
citizen or the dossier is stored, so a survey started from it stays anonymous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..schema import dossiers, receipts


@dataclass(frozen=True, slots=True)
class NewReceipt:
    """A receipt to create; ``token`` must be unique (the table enforces it)."""

    token: str
    procedure: str
    field: str | None = None
    handed_over_on: date | None = None
    valid_until: date | None = None
    #: 10 digits with a check digit, typed on Zalo; unique too (None: the token only).
    short_code: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedReceipt:
    """A receipt as created, with its database id."""

    id: int
    token: str
    procedure: str
    field: str | None
    handed_over_on: date | None
    valid_until: date | None


async def short_codes_taken(conn: AsyncConnection, codes: Sequence[str | None]) -> set[str]:
    """Which of ``codes`` earlier receipts or dossiers hold already (asked 1,000 at a time):
    one code space, so a code typed on Zalo names one slip."""
    wanted = sorted({c for c in codes if c})
    taken: set[str] = set()
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        found = await conn.execute(
            select(receipts.c.short_code).where(receipts.c.short_code.in_(chunk))
        )
        taken |= {str(c) for c in found.scalars()}
        found = await conn.execute(
            select(dossiers.c.short_code).where(dossiers.c.short_code.in_(chunk))
        )
        taken |= {str(c) for c in found.scalars()}
    return taken


async def issue_receipts(
    conn: AsyncConnection, new: Sequence[NewReceipt], now: datetime
) -> list[IssuedReceipt]:
    """Creates ``new`` in one executemany INSERT and returns them, in the same order, with ids.

    A token already in use raises the driver's IntegrityError; the caller's transaction then
    rolls back and none of the batch is created.
    """
    if not new:
        return []
    params = [
        {
            "token": r.token,
            "procedure": r.procedure,
            "field": r.field,
            "handed_over_on": r.handed_over_on,
            "valid_until": r.valid_until,
            "created_at": now,
            "short_code": r.short_code,
        }
        for r in new
    ]
    # With a parameter list and RETURNING, SQLAlchemy batches the rows into multi-row INSERTs
    # ("insertmanyvalues") on both SQLite and asyncpg. The rows come back in no promised
    # order, so ids are matched to receipts by their (unique) token rather than by position.
    result = await conn.execute(
        receipts.insert().returning(receipts.c.token, receipts.c.id), params
    )
    ids = {str(row[0]): int(row[1]) for row in result}
    return [
        IssuedReceipt(ids[r.token], r.token, r.procedure, r.field, r.handed_over_on, r.valid_until)
        for r in new
    ]
