"""The one recorder of changes: each engine effect type turns into its rows here, and only here.

A registry keyed by effect type (STYLE rule 22): adding an effect type means the engine that
returns it, one function below, and its tests. ``tests/bot/test_recorders.py`` fails when a
type in ``conversations.Change`` has no recorder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from conversations import (
    Catalog,
    ClearAnswer,
    CloseInvitation,
    EndResponse,
    FileRef,
    FollowDossier,
    ForgetContact,
    MarkSurveyed,
    Notify,
    OpenComplaint,
    RateComplaint,
    RecordConsent,
    RedrawCard,
    RequestJob,
    SaveAnswer,
    SendFile,
    SetLanguage,
    StartResponse,
    TakeInvitation,
    UnfollowDossier,
    UpdateComplaint,
)
from conversations.flows.survey import CONSENT_PURPOSE
from conversations.resent import question_of
from storage import WriteSet
from storage.outbound import EditMessage, FileMessage, Outbound
from storage.queries.complaints import NewFile
from storage.queries.survey_marks import survey_mark

from .facts import FactsCache
from .replies import as_text


@dataclass(slots=True)
class Recording:
    """Where one event's changes go, and what the recorders may need to know."""

    writes: WriteSet
    facts: FactsCache
    catalog: Catalog
    contact_id: int
    channel: str
    chat_id: str
    language: str
    now: datetime
    #: Staff chats for ``Notify(audience="admins")``, and the language they read.
    staff_chats: tuple[tuple[str, str], ...] = ()
    staff_language: str = "vi"
    #: Messages to other chats (channel, chat id, message), queued after this chat's replies.
    notices: list[tuple[str, str, Outbound]] = field(default_factory=list)
    #: Messages to this chat that follow its replies (the files of a case).
    after: list[Outbound] = field(default_factory=list)
    #: The key of the survey marks (``storage.queries.survey_marks``).
    mark_key: bytes = b""
    #: The web address's marks of this post (``bot.web.survey_limit``); empty: no such limit.
    address_marks: tuple[str, ...] = ()


Recorder = Callable[[Recording, Any], None]
RECORDERS: dict[type, Recorder] = {}
C = TypeVar("C")


def records(
    kind: type[C],
) -> Callable[[Callable[[Recording, C], None]], Callable[[Recording, C], None]]:
    def register(fn: Callable[[Recording, C], None]) -> Callable[[Recording, C], None]:
        RECORDERS[kind] = fn
        return fn

    return register


def record(ctx: Recording, change: object) -> None:
    """Turns one engine change into the rows it means (raises TypeError for an unknown one)."""
    recorder = RECORDERS.get(type(change))
    if recorder is None:
        raise TypeError(f"no recorder for {type(change).__name__}")
    recorder(ctx, change)


def _files(refs: tuple[FileRef, ...]) -> list[NewFile]:
    return [NewFile(f.media, f.size, f.file_id, f.name, f.mime, f.note) for f in refs]


@records(OpenComplaint)
def _open_complaint(ctx: Recording, change: OpenComplaint) -> None:
    hotline = change.source == "hotline"
    values = {
        "code": change.code,
        "draft_id": change.draft_id,
        "category": change.category,
        "description": change.description,
        "status": "new",
        "source": change.source,
        "contact_id": None if hotline else ctx.contact_id,
        "anonymous": change.anonymous,
        "reporter_name": change.name,
        "reporter_phone": change.phone,
        "language": change.language,
        "created_at": change.at,
        "updated_at": change.at,
        "due_on": change.due_on,
        "reporter_address": change.address,
        "accept_due_on": change.accept_due_on,
        "forward_due_on": change.forward_due_on,
        "zns_consent_at": change.at if change.zns_consent else None,
    }
    actor = f"staff:{ctx.contact_id}" if hotline else "citizen"
    ctx.writes.open_complaint(values, _files(change.files), ctx.channel, actor)
    ctx.facts.filed_one(ctx.contact_id)


@records(UpdateComplaint)
def _update_complaint(ctx: Recording, change: UpdateComplaint) -> None:
    ctx.writes.change_complaint(
        change.code,
        to_status=change.to_status,
        note=change.note,
        public=change.public,
        actor=change.actor,
        at=change.at,
        duplicate_of=change.duplicate_of,
        files=_files(change.files),
        channel=ctx.channel,
        forwarded_to=change.forwarded_to,
        forwarded_on=change.forwarded_on,
        action=change.action,
        actor_name=change.actor_name or None,
        assign=(change.actor, change.actor_name or change.actor) if change.assign else None,
        unassign=change.unassign,
    )
    ctx.facts.case_status(change.code, change.to_status)
    if change.assign:
        ctx.facts.case_assignee(change.code, change.actor, change.actor_name or change.actor)
    elif change.unassign:
        ctx.facts.case_assignee(change.code, None, None)


@records(RateComplaint)
def _rate_complaint(ctx: Recording, change: RateComplaint) -> None:
    ctx.writes.rate_complaint(change.code, change.rating, change.at)
    ctx.facts.case_rating(change.code, change.rating)


@records(StartResponse)
def _start_response(ctx: Recording, change: StartResponse) -> None:
    ctx.writes.start_response(
        change.response_id,
        change.questionnaire,
        change.started_at,
        change.receipt_id,
        change.procedure,
        change.field,
        change.handed_over_month,
    )
    if change.receipt_id is not None:
        ctx.facts.receipt_status(change.receipt_id, "in_progress")


@records(SaveAnswer)
def _save_answer(ctx: Recording, change: SaveAnswer) -> None:
    ctx.writes.save_answer(change.response_id, change.item, change.value)


@records(ClearAnswer)
def _clear_answer(ctx: Recording, change: ClearAnswer) -> None:
    ctx.writes.clear_answer(change.response_id, change.item)


@records(EndResponse)
def _end_response(ctx: Recording, change: EndResponse) -> None:
    ctx.writes.end_response(
        change.response_id,
        change.status,
        change.at,
        receipt_id=change.receipt_id,
        consent=(ctx.contact_id, CONSENT_PURPOSE),
    )
    ctx.writes.end_survey_chat(ctx.channel, ctx.chat_id)
    if change.receipt_id is not None:
        ctx.facts.receipt_status(change.receipt_id, change.status)


@records(MarkSurveyed)
def _mark_surveyed(ctx: Recording, change: MarkSurveyed) -> None:
    mark = survey_mark(ctx.mark_key, ctx.channel, ctx.chat_id, change.period)
    ctx.writes.survey_marks[mark] = change.period
    ctx.facts.surveyed.add(mark)  # a later event of the same batch sees it
    free = [m for m in ctx.address_marks if m not in ctx.facts.surveyed]
    if change.unasked and free:
        # One of the address's share of surveys without a receipt, used.
        ctx.writes.survey_marks[free[0]] = change.period
        ctx.facts.surveyed.add(free[0])


@records(RecordConsent)
def _consent(ctx: Recording, change: RecordConsent) -> None:
    ctx.writes.consent(ctx.contact_id, change.purpose, change.given, change.at, change.wording)


@records(SetLanguage)
def _set_language(ctx: Recording, change: SetLanguage) -> None:
    ctx.writes.set_language(ctx.contact_id, change.language)


@records(ForgetContact)
def _forget(ctx: Recording, change: ForgetContact) -> None:
    ctx.writes.forget(ctx.contact_id, change.response_id, change.receipt_id)
    if change.response_id is not None:
        # A survey deleted in progress: its messages still queued (its answers shown on
        # them, its summary) are its data too.
        ctx.writes.end_survey_chat(ctx.channel, ctx.chat_id)
    if change.receipt_id is not None:
        ctx.facts.receipt_status(change.receipt_id, None)
    ctx.facts.forget_follows(ctx.contact_id)


@records(FollowDossier)
def _follow(ctx: Recording, change: FollowDossier) -> None:
    ctx.writes.follow(change.dossier_id, ctx.contact_id, change.at)
    ctx.facts.followed(change.dossier_id, ctx.contact_id, True)


@records(UnfollowDossier)
def _unfollow(ctx: Recording, change: UnfollowDossier) -> None:
    ctx.writes.unfollow(change.dossier_id, ctx.contact_id)
    ctx.facts.followed(change.dossier_id, ctx.contact_id, False)


#: Answer delays are counted in whole days up to this (a week or more counts as 7).
MAX_ANSWER_DAYS = 7


@records(TakeInvitation)
def _take_invitation(ctx: Recording, change: TakeInvitation) -> None:
    # The answer delay is counted when the survey starts, whatever becomes of it: counted at a
    # completed end, the count's row shared that transaction (its PostgreSQL xmin) with the
    # dossier's row, and so told which dossier's survey was completed.
    answered: tuple[datetime, int] | None = None
    dossier = ctx.facts.dossier(change.dossier_id)
    if dossier is not None and dossier.handed_over_at:
        days = max(0, (ctx.now - dossier.handed_over_at).days)
        answered = (ctx.now, min(days, MAX_ANSWER_DAYS))
    ctx.writes.take_invitation(change.dossier_id, answered)
    ctx.facts.invite_status(change.dossier_id, "in_progress")


@records(CloseInvitation)
def _close_invitation(ctx: Recording, change: CloseInvitation) -> None:
    # The dossier keeps only that its invitation is over: ``change.status`` goes no further.
    ctx.writes.close_invitation(change.dossier_id)
    ctx.facts.invite_status(change.dossier_id, "ended")


@records(RequestJob)
def _request_job(ctx: Recording, change: RequestJob) -> None:
    args = dict(change.args)
    ctx.writes.request_job(change.job, ctx.channel, ctx.chat_id, ctx.language, args, ctx.now)


@records(SendFile)
def _send_file(ctx: Recording, change: SendFile) -> None:
    ctx.after.append(FileMessage(change.file_id, change.caption))


@records(RedrawCard)
def _redraw_card(ctx: Recording, change: RedrawCard) -> None:
    """After this chat's replies: the card is edited in place (Telegram), or, on a channel
    that cannot edit, shown again as a new message (the sender adapts it)."""
    if change.room is not None:
        # A staff room's card, changed from another chat: edited there, in the room's language.
        staff = ctx.catalog.render(change.reply, ctx.staff_language)
        edit = EditMessage(change.message_id, staff.text, staff.choices, staff.key)
        ctx.notices.append((change.room[0], change.room[1], edit))
        return
    shown = ctx.catalog.render(change.reply, ctx.language)
    ctx.after.append(EditMessage(change.message_id, shown.text, shown.choices, shown.key))


@records(Notify)
def _notify(ctx: Recording, change: Notify) -> None:
    """To the staff chats, or to a case's reporter, each in their own language."""
    if change.audience == "admins":
        message = as_text(ctx.catalog.render(change.reply, ctx.staff_language))
        ctx.notices.extend((channel, chat, message) for channel, chat in ctx.staff_chats)
        return
    reporter = ctx.facts.reporter(change.code or "")
    if reporter is None or reporter.channel is None or reporter.external_id is None:
        return
    if reporter.stopped:
        return
    message = as_text(ctx.catalog.render(change.reply, reporter.language))
    # A notice of their case, by what it is rather than by its key: a channel with a window
    # sends every one of them the same way outside it (a template, ZNS, or held).
    message = replace(message, notice=change.status or reporter.status)
    if reporter.channel == "zalo" and change.code:
        # What the officer was just told of how it goes: the channel corrects them if not.
        told = (ctx.channel, ctx.chat_id, ctx.facts.reach_of(reporter), change.code)
        message = replace(message, told=told)
    ctx.notices.append((reporter.channel, reporter.external_id, message))
    question = question_of(change.reply)
    if question is not None and reporter.contact_id is not None:
        # Its buttons' question is the chat's when it next writes (typed, not pressed).
        ctx.writes.note_question(reporter.contact_id, question)
