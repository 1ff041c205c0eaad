"""Looks up, once per batch, the complaints the batch's events refer to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from conversations import Choice, Command, ComplaintFacts, InboundEvent, Text
from conversations.commands import canonical
from conversations.context import CaseNote
from conversations.effects import OpenComplaint, RateComplaint, UpdateComplaint
from conversations.flows.tracking import CODE_PATTERN
from storage.queries.complaints import (
    ComplaintRow,
    complaints_by_code,
    filed_since,
    open_complaints,
)
from storage.queries.dialogue import ConversationRow

#: Conversation flows whose state names a complaint (``case`` or ``code`` in their data).
_CASE_FLOWS = ("lookup", "supplement", "staff")


def _codes(event: InboundEvent, row: ConversationRow) -> set[str]:
    found: set[str] = set()
    payload = event.payload
    if isinstance(payload, Command):
        found.update(m.upper() for m in CODE_PATTERN.findall(payload.arg))
    elif isinstance(payload, Choice):
        prefix, _, rest = payload.id.partition(":")
        if prefix in ("case", "rate", "supp"):
            found.add(rest.split(":", 1)[0].upper())
    elif isinstance(payload, Text) and row.flow in _CASE_FLOWS:
        found.update(m.upper() for m in CODE_PATTERN.findall(payload.text[:2000]))
    if row.flow in _CASE_FLOWS:
        for key in ("case", "code"):
            value = row.state.get(key)
            if isinstance(value, str):
                found.add(value)
    return found


def _wants_list(event: InboundEvent) -> bool:
    payload = event.payload
    return (
        event.admin
        and isinstance(payload, Command)
        and canonical(payload.name) == "hoso"
        and not payload.arg.strip()
    )


def _facts(row: ComplaintRow, contact_id: int) -> ComplaintFacts:
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


class CaseCache:
    """Complaints by code, the staff list and daily counts, kept current through the batch."""

    def __init__(
        self,
        rows: dict[str, ComplaintRow],
        open_cases: list[ComplaintRow] | None,
        today_counts: dict[int, int],
    ) -> None:
        self.rows = rows
        self.open_cases = open_cases
        self.today_counts = today_counts

    @classmethod
    async def load(
        cls,
        conn: AsyncConnection,
        events: Sequence[InboundEvent],
        rows: Mapping[tuple[str, str], ConversationRow],
        now: datetime,
        tz: ZoneInfo,
    ) -> CaseCache:
        codes: set[str] = set()
        drafting: list[int] = []
        wants_list = False
        for event in events:
            row = rows[(event.channel, event.external_id)]
            codes |= _codes(event, row)
            wants_list = wants_list or _wants_list(event)
            if row.flow == "complaint":
                drafting.append(row.contact_id)
        found = await complaints_by_code(conn, codes) if codes else {}
        listed = await open_complaints(conn) if wants_list else None
        counts: dict[int, int] = {}
        if drafting:
            local_midnight = datetime.combine(now.astimezone(tz).date(), time(0), tz)
            counts = await filed_since(conn, drafting, local_midnight)
        return cls(found, listed, counts)

    def complaints(self, contact_id: int) -> dict[str, ComplaintFacts]:
        return {code: _facts(row, contact_id) for code, row in self.rows.items()}

    def open_list(self, contact_id: int) -> tuple[ComplaintFacts, ...] | None:
        if self.open_cases is None:
            return None
        return tuple(_facts(r, contact_id) for r in self.open_cases)

    def filed_today(self, contact_id: int) -> int:
        return self.today_counts.get(contact_id, 0)

    def reporter(self, code: str) -> ComplaintRow | None:
        return self.rows.get(code)

    def note(self, change: object, contact_id: int) -> None:
        """Keeps the cache true for later events of the same batch."""
        if isinstance(change, UpdateComplaint) and change.code in self.rows:
            self.rows[change.code] = replace(self.rows[change.code], status=change.to_status)
        elif isinstance(change, RateComplaint) and change.code in self.rows:
            self.rows[change.code] = replace(self.rows[change.code], rating=change.rating)
        elif isinstance(change, OpenComplaint):
            self.today_counts[contact_id] = self.today_counts.get(contact_id, 0) + 1
