"""What the engine asks its caller to do: replies to send and changes to persist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from .daily_counts import DailyCounts

ParamValue = str | int | float


@dataclass(frozen=True, slots=True)
class Ref:
    """A parameter that is itself a catalog key, rendered in the reader's language."""

    key: str


@dataclass(frozen=True, slots=True)
class Number:
    """A figure shown in the reader's convention: 84,12% in Vietnamese, 84.12% in English.
    ``signed`` shows the direction of a change: ▲ 1,20 / ▼ 0,35 / = 0,00."""

    value: float
    places: int = 2
    suffix: str = ""
    signed: bool = False


Params = tuple[tuple[str, "ParamValue | Ref | Lines | Number"], ...]


@dataclass(frozen=True, slots=True)
class Lines:
    """A parameter made of several rendered sentences, one per line (a summary's rows)."""

    items: tuple[Reply, ...]


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    """One button: a short ASCII id and the catalog key of its label."""

    id: str
    label: str
    params: Params = ()
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to the citizen, by catalog key; text is rendered later in their language."""

    key: str
    params: Params = ()
    choices: tuple[ChoiceOption, ...] = ()
    kind: Literal["reply"] = "reply"
    #: The answer is awaited as a reply to this message (in a group, where the bot only sees
    #: replies to it): the input field's hint, by catalog key. Shown instead of the buttons
    #: where a channel asks for replies.
    placeholder: Reply | None = None

    def param(self, name: str) -> ParamValue | Ref | Lines | Number | None:
        return dict(self.params).get(name)


@dataclass(frozen=True, slots=True)
class StartResponse:
    response_id: int
    questionnaire: str
    started_at: datetime
    receipt_id: int | None = None
    procedure: str | None = None
    field: str | None = None
    #: Opened from a dossier's invitation: the month its result was handed over (the 1st).
    handed_over_month: date | None = None
    kind: Literal["start_response"] = "start_response"


@dataclass(frozen=True, slots=True)
class SaveAnswer:
    response_id: int
    item: str
    value: int | str
    kind: Literal["save_answer"] = "save_answer"


@dataclass(frozen=True, slots=True)
class ClearAnswer:
    """A question was skipped after having been answered: its answer leaves the base."""

    response_id: int
    item: str
    kind: Literal["clear_answer"] = "clear_answer"


@dataclass(frozen=True, slots=True)
class EndResponse:
    response_id: int
    status: Literal["completed", "abandoned", "expired"]
    at: datetime
    #: The receipt the survey was opened with, whose one survey this ends.
    receipt_id: int | None = None
    kind: Literal["end_response"] = "end_response"


@dataclass(frozen=True, slots=True)
class MarkSurveyed:
    """This chat submitted a survey in ``period`` (``survey.period_key``): the one-survey-per-
    period rule's record, kept outside the conversation state (``storage.queries.survey_marks``
    says why it ties no response to the chat). Made for every submitted survey, with a receipt
    or without, so the record does not tell which kind it was. ``unasked``: it had neither a
    receipt nor a dossier, so it counts against the web address's share as well (the
    address's marks are apart, ``bot.web.survey_limit``)."""

    period: str
    unasked: bool = False
    kind: Literal["mark_surveyed"] = "mark_surveyed"


@dataclass(frozen=True, slots=True)
class RecordConsent:
    purpose: str
    given: bool
    at: datetime
    #: Which wording was shown (``consent_wording``): the method and a hash of the exact text
    #: and buttons, so the agency can prove what was agreed to. Not personal: the same for
    #: everyone shown the same screen, and kept when the consent loses its chat.
    wording: str | None = None
    kind: Literal["record_consent"] = "record_consent"


@dataclass(frozen=True, slots=True)
class SetLanguage:
    language: str
    kind: Literal["set_language"] = "set_language"


@dataclass(frozen=True, slots=True)
class ForgetContact:
    """The citizen asked for deletion: their consents, chosen language and the survey they
    have in progress (if any) go. Completed surveys are anonymous and cannot be found."""

    response_id: int | None
    #: The receipt of that survey, usable again since its survey is gone.
    receipt_id: int | None = None
    kind: Literal["forget_contact"] = "forget_contact"


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file a citizen sent, by the channel's id; storage copies the bytes later."""

    media: str
    size: int
    file_id: str
    name: str = ""
    mime: str = ""
    #: The caption sent with the file at the files step.
    note: str = ""


@dataclass(frozen=True, slots=True)
class OpenComplaint:
    draft_id: int
    code: str
    category: str
    description: str
    anonymous: bool
    name: str | None
    phone: str | None
    source: Literal["chat", "hotline"]
    due_on: date
    at: datetime
    language: str
    actor: str
    files: tuple[FileRef, ...] = ()
    #: NĐ 20/2008, Điều 7(1): a named submission's address (None when anonymous).
    address: str | None = None
    #: Luật Tiếp công dân, Điều 28(1): the day by which the person is told it is accepted.
    accept_due_on: date | None = None
    #: NĐ 20/2008, Điều 9(1)(d): the day by which an out-of-remit case must be forwarded.
    forward_due_on: date | None = None
    #: The sender agreed to progress notices by ZNS to ``phone`` (Zalo, issue 15).
    zns_consent: bool = False
    kind: Literal["open_complaint"] = "open_complaint"


@dataclass(frozen=True, slots=True)
class UpdateComplaint:
    """A status change (or a note when ``to_status`` is unchanged), kept in the history."""

    code: str
    from_status: str
    to_status: str
    note: str | None
    public: bool
    actor: str
    at: datetime
    duplicate_of: str | None = None
    files: tuple[FileRef, ...] = ()
    #: Out of remit: the competent body it was forwarded to, and on which local day
    #: (NĐ 20/2008, Điều 9(1)(d)).
    forwarded_to: str | None = None
    forwarded_on: date | None = None
    #: What staff did beyond a status change: take, takeover, release or note.
    action: str | None = None
    #: The officer's name as their channel gives it (for the history and the card).
    actor_name: str = ""
    #: The case is the actor's from now on (take, takeover, or a first action on it).
    assign: bool = False
    #: Nobody has the case any more (handed back to the team).
    unassign: bool = False
    kind: Literal["update_complaint"] = "update_complaint"


@dataclass(frozen=True, slots=True)
class RateComplaint:
    code: str
    rating: int
    at: datetime
    kind: Literal["rate_complaint"] = "rate_complaint"


@dataclass(frozen=True, slots=True)
class SendFile:
    """Sends a stored file of a case to this chat (staff viewing a case)."""

    file_id: int
    caption: str
    kind: Literal["send_file"] = "send_file"


@dataclass(frozen=True, slots=True)
class RedrawCard:
    """A case card shown earlier in this chat (a shared one in a staff group) is redrawn with
    the case as it now stands, so its buttons keep matching what can be done."""

    message_id: str
    reply: Reply
    kind: Literal["redraw_card"] = "redraw_card"
    #: The card is in another chat, a staff room (channel, room): redrawn there, in the
    #: staff's language. None: in this chat.
    room: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RequestJob:
    """Work the jobs runner does and answers in this chat: a report, a digest, an export."""

    job: Literal["report", "digest", "export", "public"]
    args: tuple[tuple[str, str], ...] = ()
    kind: Literal["request_job"] = "request_job"


@dataclass(frozen=True, slots=True)
class Notify:
    """A message to someone else than the sender: the staff chats, or a case's reporter.

    Every message to a reporter is a notice of their case (a status change, a request for
    more, the answer with its rating request, a forward out of remit, a duplicate): a channel
    with a window (Zalo) sends each the same way outside it, whatever its catalog key.
    ``status``: the status the case moved to (for a reporter; "" keeps the case's own)."""

    audience: Literal["admins", "reporter"]
    reply: Reply
    code: str | None = None
    status: str = ""
    kind: Literal["notify"] = "notify"


@dataclass(frozen=True, slots=True)
class FollowDossier:
    """The chat agreed to be told about a dossier: the link is kept until it stops."""

    dossier_id: int
    at: datetime
    kind: Literal["follow_dossier"] = "follow_dossier"


@dataclass(frozen=True, slots=True)
class UnfollowDossier:
    dossier_id: int
    kind: Literal["unfollow_dossier"] = "unfollow_dossier"


@dataclass(frozen=True, slots=True)
class TakeInvitation:
    """A survey starts from a dossier's invitation: no other chat may start one for it.

    Kept apart from ``StartResponse`` on purpose: the response never learns the dossier."""

    dossier_id: int
    kind: Literal["take_invitation"] = "take_invitation"


@dataclass(frozen=True, slots=True)
class CloseInvitation:
    """The survey of a dossier's invitation ended (``status``, ``at``: how and when). The
    dossier keeps neither: only that its invitation is over (issue 10)."""

    dossier_id: int
    status: Literal["completed", "abandoned", "expired"]
    at: datetime
    kind: Literal["close_invitation"] = "close_invitation"


Change = (
    StartResponse
    | SaveAnswer
    | ClearAnswer
    | EndResponse
    | MarkSurveyed
    | RecordConsent
    | SetLanguage
    | ForgetContact
    | OpenComplaint
    | UpdateComplaint
    | RateComplaint
    | Notify
    | SendFile
    | RedrawCard
    | RequestJob
    | FollowDossier
    | UnfollowDossier
    | TakeInvitation
    | CloseInvitation
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The engine's whole answer to one event."""

    replies: tuple[Reply, ...]
    changes: tuple[Change, ...] = ()
    state: ConversationState | None = None
    #: What becomes of the message whose button was pressed: "close" (the question is
    #: answered: show the answer, drop the buttons), "refresh" (the first reply replaces it,
    #: as a multi-select's ticks change), "keep" (it stays usable: a list, a shared case
    #: card), or None (left as it is: the press was refused).
    ack: Literal["close", "refresh", "keep"] | None = None
    #: With ``ack`` "close": what the pressed message becomes instead of itself with the
    #: chosen answer under it (a submitted survey's summary: its averages must not stay
    #: queued under the chat once the survey ended).
    closed: Reply | None = None


@dataclass(frozen=True, slots=True)
class ConversationState:
    """Where a contact is in the dialogue; stored as one row, small JSON in ``data``.

    ``expires_at`` is the wait's deadline (the expiry job's column); ``data`` holds the active
    survey's response id, which is the only link between a chat and its answers and is dropped
    the moment the survey ends.
    """

    language: str
    flow: str | None = None
    step: str | None = None
    data: dict[str, object] = field(default_factory=dict)
    expires_at: datetime | None = None
    remind_at: datetime | None = None
    #: Per-chat counts for the local day that no task switch resets (``daily_counts``).
    daily: DailyCounts = field(default_factory=DailyCounts)
