"""Loads what the engine declared it needs (``conversations.needs``), once per batch.

The cache knows nothing of flows, buttons or state keys: it fetches receipts by token or id,
complaints by code, the open-case list and daily counts, as :class:`Lookups` name them, and
keeps them current while the batch's later events change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels.zalo_window import reach, standing
from conversations import (
    ComplaintFacts,
    DossierFacts,
    Facts,
    InviteStatus,
    ReceiptFacts,
    ReceiptStatus,
)
from conversations.context import CaseNote
from conversations.needs import Lookups, facts_for
from storage.queries.complaints import (
    ComplaintRow,
    complaints_by_code,
    filed_since,
    open_complaints,
)
from storage.queries.dossiers import (
    DossierRow,
    dossiers_by_id,
    dossiers_by_short_code,
    dossiers_by_token,
    followed_by,
)
from storage.queries.staff_cards import cards_of
from storage.queries.surveys import (
    ReceiptRow,
    receipts_by_id,
    receipts_by_short_code,
    receipts_by_token,
)
from storage.queries.zalo_chats import last_wrote_many, template_refused_at


def dossier_facts(row: DossierRow, followed: bool = False) -> DossierFacts:
    """A stored dossier as the engine sees it (also the dossier desk's, for its events)."""
    return DossierFacts(
        id=row.id,
        code=row.code,
        token=row.token,
        procedure=row.procedure,
        received_on=row.received_on,
        due_on=row.due_on,
        status=row.status,
        procedure_name=row.procedure_name,
        field=row.field,
        rescheduled_on=row.rescheduled_on,
        completed_on=row.completed_on,
        handed_over_at=row.handed_over_at,
        invite=invite_status(row.invite_status),
        invite_expires_at=row.invite_expires_at,
        followed=followed,
    )


def _receipt(row: ReceiptRow) -> ReceiptFacts:
    return ReceiptFacts(
        id=row.id,
        token=row.token,
        procedure=row.procedure,
        field=row.field,
        valid_until=row.valid_until,
        response_status=receipt_status(row.response_status),
    )


def invite_status(stored: str | None) -> InviteStatus | None:
    """A dossier's invitation as the engine reads it: ``invited``, ``in_progress``, or
    ``ended`` for any other stored value (rows written before migration 0029 said how the
    survey ended: completed, abandoned, expired)."""
    if stored is None:
        return None
    if stored == "invited":
        return "invited"
    return "in_progress" if stored == "in_progress" else "ended"


def receipt_status(stored: str | None) -> ReceiptStatus | None:
    """A receipt's survey status as the engine reads it: ``in_progress``, or ``used`` for any
    ended one (rows written before receipts kept only "used" say how the survey ended)."""
    if stored is None:
        return None
    return "in_progress" if stored == "in_progress" else "used"


def _complaint(
    row: ComplaintRow,
    contact_id: int,
    reach: str = "direct",
    cards: tuple[tuple[str, str, str], ...] = (),
) -> ComplaintFacts:
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
        file_notes=row.file_notes,
        history=tuple(
            CaseNote(h.at, h.to_status, h.note, h.actor, h.public, h.action, h.actor_name)
            for h in row.history
        ),
        assignee=row.assignee,
        assignee_name=row.assignee_name,
        address=row.address,
        accept_due_on=row.accept_due_on,
        forward_due_on=row.forward_due_on,
        forwarded_to=row.forwarded_to,
        forwarded_on=row.forwarded_on,
        accepted_at=row.accepted_at,
        reach=reach,
        cards=cards,
    )


@dataclass(slots=True)
class FactsCache:
    """What a batch looked up, by what it was looked up with."""

    now: datetime
    tz: ZoneInfo
    #: ``ZALO_TEMPLATE_NOTICE`` and ``ZALO_SEND_BILLED``: how a notice to a Zalo chat goes.
    zalo: tuple[str, bool] = ("", True)
    #: ZNS by phone is used outside the window (``ZALO_ZNS_TEMPLATE_NOTICE``, no OA template).
    zns: bool = False
    #: When the Zalo chats of the complaints looked up last wrote (unrecorded: left out).
    zalo_last: dict[str, datetime] = field(default_factory=dict)
    by_token: dict[str, ReceiptFacts] = field(default_factory=dict)
    by_id: dict[int, ReceiptFacts] = field(default_factory=dict)
    cases: dict[str, ComplaintRow] = field(default_factory=dict)
    #: Case code -> its cards in staff rooms (channel, room, message id).
    cards: dict[str, tuple[tuple[str, str, str], ...]] = field(default_factory=dict)
    open_cases: list[ComplaintRow] | None = None
    today_counts: dict[int, int] = field(default_factory=dict)
    dossier_tokens: dict[str, int] = field(default_factory=dict)
    dossiers: dict[int, DossierRow] = field(default_factory=dict)
    #: Per contact (whose dossiers were asked about): the ids it follows, newest first.
    follows: dict[int, list[int]] = field(default_factory=dict)
    #: Survey marks found recorded or recorded by this batch (``queries.survey_marks``).
    surveyed: set[str] = field(default_factory=set)
    #: What was asked already (found or not), so nothing is looked up twice.
    _asked_tokens: set[str] = field(default_factory=set)
    _asked_ids: set[int] = field(default_factory=set)
    _asked_codes: set[str] = field(default_factory=set)
    _asked_counts: set[int] = field(default_factory=set)
    _asked_dossier_tokens: set[str] = field(default_factory=set)
    _asked_dossier_ids: set[int] = field(default_factory=set)

    async def load(self, conn: AsyncConnection, wanted: Iterable[tuple[int, Lookups]]) -> None:
        """Fetches, in one query per kind, whatever these (contact id, lookups) still miss."""
        tokens: set[str] = set()
        ids: set[int] = set()
        codes: set[str] = set()
        counts: set[int] = set()
        wants_list = False
        dossier_tokens: set[str] = set()
        dossier_ids: set[int] = set()
        following: set[int] = set()
        for contact_id, lookups in wanted:
            if lookups.dossier_token is not None:
                dossier_tokens.add(lookups.dossier_token)
            dossier_ids |= lookups.dossier_ids
            if lookups.dossiers:
                following.add(contact_id)
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
            # A short code typed on Zalo (10 digits) is looked up as well, and known by it.
            for code, row in (await receipts_by_short_code(conn, sorted(tokens))).items():
                self._add_receipt(_receipt(row))
                self.by_token[code] = self.by_token[row.token]
        if ids:
            for row in (await receipts_by_id(conn, sorted(ids))).values():
                self._add_receipt(_receipt(row))
        if codes:
            cases = await complaints_by_code(conn, codes)
            self.cases.update(cases)
            self.cards.update(await cards_of(conn, cases))
            chats = [r.external_id for r in cases.values() if r.channel == "zalo"]
            self.zalo_last.update(await last_wrote_many(conn, (c for c in chats if c)))
            if chats and self.zalo[0] and await template_refused_at(conn) is not None:
                # Zalo refuses the agency's template: notices are held, and staff told so.
                self.zalo = ("", self.zalo[1])
        if wants_list and self.open_cases is None:
            self.open_cases = await open_complaints(conn)
            # A case chosen from the list, or by a number typed against a card sent to every
            # staff chat, is acted on with these facts: its room cards are redrawn and its
            # sender told as any other case's (the cards and the Zalo window are needed).
            listed = [r for r in self.open_cases if r.code not in self.cards]
            self.cards.update(await cards_of(conn, [r.code for r in listed]))
            zalo_chats = [r.external_id for r in listed if r.channel == "zalo" and r.external_id]
            self.zalo_last.update(await last_wrote_many(conn, (c for c in zalo_chats if c)))
        if counts:
            midnight = datetime.combine(self.now.astimezone(self.tz).date(), time(0), self.tz)
            found = await filed_since(conn, sorted(counts), midnight)
            self.today_counts.update({c: found.get(c, 0) for c in counts})
        self._asked_tokens |= tokens
        self._asked_ids |= ids
        self._asked_codes |= codes
        self._asked_counts |= counts
        await self._load_dossiers(conn, dossier_tokens, dossier_ids, following)

    async def _load_dossiers(
        self, conn: AsyncConnection, tokens: set[str], ids: set[int], contacts: set[int]
    ) -> None:
        tokens -= self._asked_dossier_tokens
        ids -= self._asked_dossier_ids
        contacts -= set(self.follows)
        if tokens:
            for row in await dossiers_by_token(conn, tokens):
                self.dossiers[row.id] = row
                self.dossier_tokens[row.token] = row.id
            # A slip's short code (10 digits, typed on Zalo) is looked up as well.
            for row in await dossiers_by_short_code(conn, (t for t in tokens if t.isdigit())):
                self.dossiers[row.id] = row
                self.dossier_tokens[row.short_code or row.token] = row.id
        if ids:
            for row in await dossiers_by_id(conn, ids):
                self.dossiers[row.id] = row
        if contacts:
            for contact_id, rows in (await followed_by(conn, contacts)).items():
                self.follows[contact_id] = [r.id for r in rows]
                self.dossiers.update((r.id, r) for r in rows)
        self._asked_dossier_tokens |= tokens
        self._asked_dossier_ids |= ids

    def facts(self, lookups: Lookups, contact_id: int, *, admin: bool, sender: str) -> Facts:
        listed = self.open_cases if lookups.open_cases else None
        return facts_for(
            lookups,
            admin=admin,
            sender=sender,
            receipts_by_token=self.by_token,
            receipts_by_id=self.by_id,
            complaints={
                c: _complaint(
                    self.cases[c], contact_id, self._reach(self.cases[c]), self.cards.get(c, ())
                )
                for c in lookups.case_codes
                if c in self.cases
            },
            open_cases=None
            if listed is None
            else tuple(self._listed(r, contact_id) for r in listed),
            complaints_today=self.today_counts.get(contact_id, 0),
            **self._dossier_facts(lookups, contact_id),
        )

    def _listed(self, row: ComplaintRow, contact_id: int) -> ComplaintFacts:
        return _complaint(row, contact_id, self._reach(row), self.cards.get(row.code, ()))

    def reach_of(self, row: ComplaintRow) -> str:
        """How a notice to this complaint's sender goes out now, as staff are told it."""
        return self._reach(row)

    def _reach(self, row: ComplaintRow) -> str:
        """How a notice to this complaint's sender goes out now (Zalo's window)."""
        if row.channel != "zalo" or not row.external_id:
            return "direct"
        last = self.zalo_last.get(row.external_id)
        how = reach(last, self.now, *self.zalo)
        if how == "held" and self.zns and row.zns_consent and row.phone:
            how = "template"  # by ZNS to the phone its sender agreed to (zalo_zns.py)
        if how != "direct" and standing(last, self.now) == "billed":
            return how + "48"  # within 7 days, but held by ZALO_SEND_BILLED off: say so
        return how

    def _dossier_facts(self, lookups: Lookups, contact_id: int) -> dict[str, Any]:
        if not lookups.dossiers:
            return {}
        followed = set(self.follows.get(contact_id, ()))

        def known(dossier_id: int) -> DossierFacts:
            return dossier_facts(self.dossiers[dossier_id], dossier_id in followed)

        by_token = {t: known(i) for t, i in self.dossier_tokens.items() if i in self.dossiers}
        by_id = {i: known(i) for i in lookups.dossier_ids if i in self.dossiers}
        listed = tuple(known(i) for i in self.follows.get(contact_id, ()) if i in self.dossiers)
        return {
            "dossiers_by_token": by_token,
            "dossiers_by_id": by_id,
            "followed_dossiers": listed,
        }

    def dossier(self, dossier_id: int) -> DossierRow | None:
        return self.dossiers.get(dossier_id)

    def reporter(self, code: str) -> ComplaintRow | None:
        """Who filed a complaint (its chat), for notices to them."""
        return self.cases.get(code)

    def _add_receipt(self, receipt: ReceiptFacts) -> None:
        self.by_id[receipt.id] = receipt
        self.by_token[receipt.token] = receipt

    # Kept current for later events of the same batch (called by the recorders).
    def receipt_status(self, receipt_id: int, status: str | None) -> None:
        found = self.by_id.get(receipt_id)
        if found is not None:
            self._add_receipt(replace(found, response_status=receipt_status(status)))

    def case_status(self, code: str, status: str) -> None:
        if code in self.cases:
            case = self.cases[code]
            # Leaving "new" tells the sender (as change_complaint records it).
            accepted = case.accepted_at or (self.now if status != "new" else None)
            self.cases[code] = replace(case, status=status, accepted_at=accepted)

    def case_assignee(self, code: str, assignee: str | None, name: str | None) -> None:
        """Who has a case, for the batch's later events (another officer's press)."""
        if code in self.cases:
            self.cases[code] = replace(self.cases[code], assignee=assignee, assignee_name=name)

    def case_rating(self, code: str, rating: int) -> None:
        if code in self.cases:
            self.cases[code] = replace(self.cases[code], rating=rating)

    def filed_one(self, contact_id: int) -> None:
        self.today_counts[contact_id] = self.today_counts.get(contact_id, 0) + 1

    def followed(self, dossier_id: int, contact_id: int, following: bool) -> None:
        listed = [i for i in self.follows.get(contact_id, []) if i != dossier_id]
        self.follows[contact_id] = [dossier_id, *listed] if following else listed

    def invite_status(self, dossier_id: int, status: InviteStatus) -> None:
        if dossier_id in self.dossiers:
            self.dossiers[dossier_id] = replace(self.dossiers[dossier_id], invite_status=status)

    def forget_follows(self, contact_id: int) -> None:
        self.follows[contact_id] = []
