"""Collects the writes of a batch of events and flushes them in a few statements.

Writes are coalesced (the last value of an answer wins) and issued one statement per kind,
so a batch of N events costs about the same round trips as one. Their order across kinds is
fixed so foreign keys always point at rows already written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import versions
from .outbound import Outbound, encode
from .queries.aggregates import Explode
from .queries.complaints import NewFile


class ConcurrentUpdate(RuntimeError):
    """A conversation changed under us (another process); the batch must be retried."""


def to_the_hour(at: datetime) -> datetime:
    """Response times are kept to the hour: enough for reports, too coarse to match a chat."""
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass(slots=True)
class WriteSet:
    new_responses: dict[int, dict[str, Any]] = field(default_factory=dict)
    answers: dict[tuple[int, str], int | str | None] = field(default_factory=dict)
    ended: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    consents: list[dict[str, Any]] = field(default_factory=list)
    languages: dict[int, str | None] = field(default_factory=dict)
    forgotten_contacts: set[int] = field(default_factory=set)
    unstopped: set[int] = field(default_factory=set)
    forgotten_responses: set[int] = field(default_factory=set)
    #: Receipt id -> the status of the survey it started (the last wins).
    receipt_statuses: dict[int, str | None] = field(default_factory=dict)
    #: Contacts whose survey ended: their survey consents lose the contact and the minutes.
    consents_to_empty: set[tuple[int, str]] = field(default_factory=set)
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    #: Complaint writes, in the order the events made them (rare; one statement each).
    complaint_ops: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: How to count ended surveys into the aggregates: the local time zone (reports are by
    #: local day) and the function exploding a survey's answers into counts.
    aggregate: tuple[ZoneInfo, Explode] | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    #: (dossier id, contact id) -> when followed, or None to stop following (the last wins).
    follows: dict[tuple[int, int], datetime | None] = field(default_factory=dict)
    #: Invitations whose survey started (in_progress), and ended ("ended", however it ended).
    invitations_taken: list[int] = field(default_factory=list)
    invitations_closed: set[int] = field(default_factory=set)
    #: Surveys of invitations started: (when, whole days after the hand-over, capped).
    answer_days: list[tuple[datetime, int]] = field(default_factory=list)
    #: Chats (channel, chat id) whose survey this batch ended: the survey's messages to
    #: them leave the outbox in this transaction whatever their status, and the replies of
    #: this batch once sent (``queries.outbox.scrub_once_sent``).
    ended_chats: set[tuple[str, str]] = field(default_factory=set)
    #: Chats that submitted a survey: mark -> period (``queries.survey_marks``).
    survey_marks: dict[str, str] = field(default_factory=dict)
    #: Contact id -> the question a notice queued for it asks (``conversations.notice_question``;
    #: the last wins), written after the conversations, so a chat's own event of this batch,
    #: handled before the notice was known, does not clear it.
    notice_questions: dict[int, str] = field(default_factory=dict)

    def start_response(
        self,
        response_id: int,
        questionnaire: str,
        started_at: datetime,
        receipt_id: int | None,
        procedure: str | None,
        field_name: str | None,
        handed_over_month: date | None = None,
    ) -> None:
        if receipt_id is not None:
            self.receipt_statuses[receipt_id] = "in_progress"
        self.new_responses[response_id] = {
            "id": response_id,
            "questionnaire": questionnaire,
            "status": "in_progress",
            "with_receipt": receipt_id is not None,
            "procedure": procedure,
            "field": field_name,
            "started_at": to_the_hour(started_at),
            "handed_over_month": handed_over_month,
        }

    def save_answer(self, response_id: int, item: str, value: int | str) -> None:
        self.answers[(response_id, item)] = value

    def clear_answer(self, response_id: int, item: str) -> None:
        self.answers[(response_id, item)] = None

    @property
    def ends_surveys(self) -> bool:
        """Whether this batch ends or deletes a survey (then the log is scrubbed after it)."""
        return bool(
            self.ended
            or self.forgotten_responses
            or self.consents_to_empty
            or self.forgotten_contacts
        )

    def end_response(
        self,
        response_id: int,
        status: str,
        at: datetime,
        *,
        receipt_id: int | None = None,
        consent: tuple[int, str] | None = None,
    ) -> None:
        """Ends a response; the receipt ``receipt_id`` is marked ``used`` (not with the
        status: a completed receipt and a completed response would pair up), and the consents
        ``consent`` = (contact id, purpose) are emptied of the contact and cut to the hour."""
        self.ended[response_id] = (status, to_the_hour(at))
        if receipt_id is not None:
            self.receipt_statuses[receipt_id] = "used"
        if consent is not None:
            self.consents_to_empty.add(consent)

    def end_survey_chat(self, channel: str, chat_id: str) -> None:
        """The survey of this chat ended in this batch: the survey's messages still queued
        to it leave the outbox in the same transaction, those of this batch before they are
        written (those queued after this call, the ending's own replies, stay). While sends
        fail they would keep the chat next to its answers (the chosen answer shown on each
        question, the summary's averages) and its route (the questions asked)."""
        self.ended_chats.add((channel, chat_id))
        self.outbox = [
            row
            for row in self.outbox
            if not (row["in_survey"] and (row["channel"], row["chat_id"]) == (channel, chat_id))
        ]

    def consent(
        self,
        contact_id: int,
        purpose: str,
        given: bool,
        at: datetime,
        wording: str | None = None,
    ) -> None:
        self.consents.append(
            {
                "contact_id": contact_id,
                "purpose": purpose,
                "given": given,
                "decided_at": at,
                "wording": wording,
            }
        )

    def set_language(self, contact_id: int, language: str | None) -> None:
        self.languages[contact_id] = language

    def unstop(self, contact_id: int) -> None:
        self.unstopped.add(contact_id)

    def forget(
        self, contact_id: int, response_id: int | None, receipt_id: int | None = None
    ) -> None:
        """Deletes what links this contact to anything: writes queued earlier in the batch
        are dropped, rows already stored are deleted before the batch's later inserts. The
        receipt of a survey deleted in progress may start a survey again."""
        if receipt_id is not None:
            self.receipt_statuses[receipt_id] = None
        self.consents = [c for c in self.consents if c["contact_id"] != contact_id]
        self.follows = {k: v for k, v in self.follows.items() if k[1] != contact_id}
        self.forgotten_contacts.add(contact_id)
        self.languages[contact_id] = None
        if response_id is None:
            return
        self.ended.pop(response_id, None)
        for key in [k for k in self.answers if k[0] == response_id]:
            del self.answers[key]
        if self.new_responses.pop(response_id, None) is None:
            self.forgotten_responses.add(response_id)

    def save_conversation(
        self,
        contact_id: int,
        expected_version: int,
        flow: str | None,
        step: str | None,
        state: dict[str, Any],
        expires_at: datetime | None,
        now: datetime,
        remind_at: datetime | None = None,
    ) -> None:
        previous = self.conversations.get(contact_id)
        self.conversations[contact_id] = {
            "b_contact_id": contact_id,
            "b_version": previous["b_version"] if previous else expected_version,
            "b_new_version": versions.next_version(expected_version),
            "b_flow": flow,
            "b_step": step,
            "b_state": state,
            "b_expires_at": expires_at,
            "b_remind_at": remind_at,
            # To the hour for every chat, as ended surveys' times are: the same shape for all.
            "b_updated_at": to_the_hour(now),
        }

    def note_question(self, contact_id: int, question: str) -> None:
        """A notice queued for ``contact_id`` asks ``question`` (``"rate:PA-…"``): its
        conversation reads it at the chat's next event (``load_conversations``)."""
        self.notice_questions[contact_id] = question

    def open_complaint(
        self,
        values: dict[str, Any],
        files: list[NewFile],
        channel: str,
        actor: str,
    ) -> None:
        self.complaint_ops.append(
            ("open", {"values": values, "files": files, "channel": channel, "actor": actor})
        )

    def change_complaint(self, code: str, **changes: Any) -> None:
        self.complaint_ops.append(("change", {"code": code, **changes}))

    def rate_complaint(self, code: str, rating: int, at: datetime) -> None:
        self.complaint_ops.append(("rate", {"code": code, "rating": rating, "at": at}))

    def request_job(
        self,
        kind: str,
        channel: str,
        chat_id: str,
        language: str,
        args: dict[str, Any],
        now: datetime,
    ) -> None:
        self.jobs.append(
            {
                "kind": kind,
                "channel": channel,
                "chat_id": chat_id,
                "language": language,
                "args": args,
                "status": "pending",
                "created_at": now,
            }
        )

    def follow(self, dossier_id: int, contact_id: int, at: datetime) -> None:
        self.follows[(dossier_id, contact_id)] = at

    def unfollow(self, dossier_id: int, contact_id: int) -> None:
        self.follows[(dossier_id, contact_id)] = None

    def take_invitation(self, dossier_id: int, answered: tuple[datetime, int] | None) -> None:
        """A survey starts from the invitation; ``answered``: when and how many whole days
        after the hand-over (counted apart, by local day, never with the dossier), or None when
        the hand-over time is unknown. Counted now, not at the end, so that no write of the
        ending depends on how the survey ended."""
        self.invitations_taken.append(dossier_id)
        if answered is not None:
            self.answer_days.append(answered)

    def close_invitation(self, dossier_id: int) -> None:
        """The survey of an invitation ended: the dossier keeps only that, not how (issue 10,
        as receipts keep "used")."""
        self.invitations_closed.add(dossier_id)

    def enqueue(
        self,
        channel: str,
        chat_id: str,
        message: Outbound,
        now: datetime,
        *,
        bulk: bool = False,
        in_survey: bool = False,
    ) -> None:
        """Queues one typed message; its bytes (an image, a document) go to ``outbox_blobs``.
        ``bulk``: nobody is waiting for it (a digest, a reminder, a notice to someone else),
        so it leaves with what the answers to people waiting leave of the send budget.
        ``in_survey``: said within a survey (a question, the summary, the chosen answer shown
        on a question): gone, whatever its status, when the chat's survey ends
        (:meth:`end_survey_chat`)."""
        body, blob = encode(message)
        self.outbox.append(
            {
                "channel": channel,
                "chat_id": chat_id,
                "payload": body,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "priority": 1 if bulk else 0,
                "in_survey": in_survey,
                "blob": blob,
                "message": message,
            }
        )
