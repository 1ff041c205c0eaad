"""Loads what the engine declared it needs (``conversations.needs``), once per batch.

The cache knows nothing of flows, buttons or state keys: it fetches receipts by token or id,
complaints by code, the open-case list and daily counts, as :class:`Lookups` name them, and
keeps them current while the batch's later events change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from conversations import ComplaintFacts, Facts, ReceiptFacts
from conversations.context import CaseNote
from conversations.needs import Lookups, facts_for
from storage.queries.complaints import (
    ComplaintRow,
    complaints_by_code,
    filed_since,
    open_complaints,
)
from storage.queries.surveys import ReceiptRow, receipts_by_id, receipts_by_token


def _receipt(row: ReceiptRow) -> ReceiptFacts:
    return ReceiptFacts(
        id=row.id,
        token=row.token,
        procedure=row.procedure,
        field=row.field,
        valid_until=row.valid_until,
        response_status=row.response_status,  # type: ignore[arg-type]
    )


def _complaint(row: ComplaintRow, contact_id: int) -> ComplaintFacts:
    return ComplaintFacts(
        code=row.code,
        category=row.category,
        status=row.status,
        description=row.description,
        source=row.source,
        anonymous=row.anonymous,
        name=row.name,
        phone=row.phone,
        language=row.language,
        created_at=row.created_at,
        due_on=row.due_on,
        owned=row.contact_id is not None and row.contact_id == contact_id,
        reachable=row.channel is not None and not row.stopped,
        rating=row.rating,
        duplicate_of=row.duplicate_of,
        files=row.files,
        stored_files=row.stored_files,
        history=tuple(CaseNote(h.at, h.to_status, h.note, h.actor, h.public) for h in row.history),
    )


@dataclass(slots=True)
class FactsCache:
    """What a batch looked up, by what it was looked up with."""

    now: datetime
    tz: ZoneInfo
    by_token: dict[str, ReceiptFacts] = field(default_factory=dict)
    by_id: dict[int, ReceiptFacts] = field(default_factory=dict)
    cases: dict[str, ComplaintRow] = field(default_factory=dict)
    open_cases: list[ComplaintRow] | None = None
    today_counts: dict[int, int] = field(default_factory=dict)
    #: What was asked already (found or not), so nothing is looked up twice.
    _asked_tokens: set[str] = field(default_factory=set)
    _asked_ids: set[int] = field(default_factory=set)
    _asked_codes: set[str] = field(default_factory=set)
    _asked_counts: set[int] = field(default_factory=set)

    async def load(self, conn: AsyncConnection, wanted: Iterable[tuple[int, Lookups]]) -> None:
        """Fetches, in one query per kind, whatever these (contact id, lookups) still miss."""
        tokens: set[str] = set()
        ids: set[int] = set()
        codes: set[str] = set()
        counts: set[int] = set()
        wants_list = False
        for contact_id, lookups in wanted:
            if lookups.receipt_token is not None:
                tokens.add(lookups.receipt_token)
            if lookups.receipt_id is not None:
                ids.add(lookups.receipt_id)
            codes |= lookups.case_codes
            if lookups.complaints_today:
                counts.add(contact_id)
            wants_list = wants_list or lookups.open_cases
        tokens -= self._asked_tokens
        ids -= self._asked_ids
        codes -= self._asked_codes
        counts -= self._asked_counts
        if tokens:
            for row in (await receipts_by_token(conn, sorted(tokens))).values():
                self._add_receipt(_receipt(row))
        if ids:
            for row in (await receipts_by_id(conn, sorted(ids))).values():
                self._add_receipt(_receipt(row))
        if codes:
            self.cases.update(await complaints_by_code(conn, codes))
        if wants_list and self.open_cases is None:
            self.open_cases = await open_complaints(conn)
        if counts:
            midnight = datetime.combine(self.now.astimezone(self.tz).date(), time(0), self.tz)
            found = await filed_since(conn, sorted(counts), midnight)
            self.today_counts.update({c: found.get(c, 0) for c in counts})
        self._asked_tokens |= tokens
        self._asked_ids |= ids
        self._asked_codes |= codes
        self._asked_counts |= counts

    def facts(self, lookups: Lookups, contact_id: int, *, admin: bool, sender: str) -> Facts:
        listed = self.open_cases if lookups.open_cases else None
        return facts_for(
            lookups,
            admin=admin,
            sender=sender,
            receipts_by_token=self.by_token,
            receipts_by_id=self.by_id,
            complaints={
                c: _complaint(self.cases[c], contact_id)
                for c in lookups.case_codes
                if c in self.cases
            },
            open_cases=None if listed is None else tuple(_complaint(r, contact_id) for r in listed),
            complaints_today=self.today_counts.get(contact_id, 0),
        )

    def reporter(self, code: str) -> ComplaintRow | None:
        """Who filed a complaint (its chat), for notices to them."""
        return self.cases.get(code)

    def _add_receipt(self, receipt: ReceiptFacts) -> None:
        self.by_id[receipt.id] = receipt
        self.by_token[receipt.token] = receipt

    # Kept current for later events of the same batch (called by the recorders).
    def receipt_status(self, receipt_id: int, status: str) -> None:
        found = self.by_id.get(receipt_id)
        if found is not None:
            self._add_receipt(replace(found, response_status=status))  # type: ignore[arg-type]

    def case_status(self, code: str, status: str) -> None:
        if code in self.cases:
            self.cases[code] = replace(self.cases[code], status=status)

    def case_rating(self, code: str, rating: int) -> None:
        if code in self.cases:
            self.cases[code] = replace(self.cases[code], rating=rating)

    def filed_one(self, contact_id: int) -> None:
        self.today_counts[contact_id] = self.today_counts.get(contact_id, 0) + 1
