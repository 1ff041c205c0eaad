"""What a dossier's status event means: its new state, and what the chats following it are told.

Pure, like the engine: the runtime (the API and the command line) loads the dossier, calls
:func:`apply`, writes what comes back and queues the notices, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

from .context import DossierFacts
from .effects import ChoiceOption, Lines, Reply

EventKind = Literal[
    "received",
    "needs_documents",
    "processing",
    "result_ready",
    "late",
    "handed_over",
    "withdrawn",
]
#: Every kind, in the order a dossier usually goes through them.
EVENT_KINDS: Final[tuple[EventKind, ...]] = (
    "received",
    "needs_documents",
    "processing",
    "result_ready",
    "late",
    "handed_over",
    "withdrawn",
)
#: Events after which a dossier takes no more.
CLOSING: Final = frozenset({"handed_over", "withdrawn"})
#: The button that opens the survey of a dossier's invitation (``dinv:<dossier id>``).
INVITE_BUTTON: Final = "dinv"
#: Most documents one "needs more documents" event may list, and the longest wordings.
MAX_MISSING: Final = 20
MAX_MISSING_CHARS: Final = 300
MAX_REASON_CHARS: Final = 500


@dataclass(frozen=True, slots=True)
class DossierUpdate:
    """One status event of a dossier, as the one-stop system (or an operator) reports it."""

    kind: EventKind
    at: datetime
    missing: tuple[str, ...] = ()
    new_due_on: date | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """A dossier after an event, and the messages for the chats following it.

    ``invite``: the event opens the survey invitation (sent with ``notices`` when someone
    follows the dossier).
    """

    status: str
    rescheduled_on: date | None
    completed_on: date | None
    handed_over_at: datetime | None
    closed_at: datetime | None
    notices: tuple[Reply, ...]
    invite: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    """An event the dossier cannot take; ``code`` is stable, ``message`` says why in English."""

    code: Literal["dossier_closed", "bad_date"]
    message: str


def procedure_label(dossier: DossierFacts) -> str:
    return dossier.procedure_name or dossier.procedure


def _date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def apply(
    dossier: DossierFacts,
    update: DossierUpdate,
    *,
    agency: str,
    tz: ZoneInfo,
    invite_until: datetime,
) -> Applied | Refused:
    """The dossier after ``update``, or why it cannot take it.

    The day the result was ready counts for "on time" (the first "result_ready", else the
    hand-over); a "late" event carries the apology slip's new date, which must come after
    the date promised so far.
    """
    if dossier.closed:
        return Refused("dossier_closed", f"dossier {dossier.code} is {dossier.status} already")
    day = update.at.astimezone(tz).date()
    code = ("code", dossier.code)
    rescheduled = dossier.rescheduled_on
    completed = dossier.completed_on
    handed_over_at: datetime | None = None
    closed_at: datetime | None = None
    notices: tuple[Reply, ...]
    kind = update.kind
    if kind == "received":
        notices = (
            Reply(
                "dossier.notice.received",
                (
                    code,
                    ("procedure", procedure_label(dossier)),
                    ("received", _date(dossier.received_on)),
                    ("due", _date(dossier.promised_on)),
                ),
            ),
        )
    elif kind == "needs_documents":
        items = tuple(Reply("dossier.missing_item", (("item", m),)) for m in update.missing)
        notices = (Reply("dossier.notice.needs_documents", (code, ("missing", Lines(items)))),)
    elif kind == "processing":
        notices = (Reply("dossier.notice.processing", (code,)),)
    elif kind == "result_ready":
        completed = completed or day
        notices = (Reply("dossier.notice.result_ready", (code,)),)
    elif kind == "late":
        new = update.new_due_on
        if new is None or new <= dossier.promised_on:
            promised = dossier.promised_on.isoformat()
            return Refused("bad_date", f"new_due_on must come after {promised}")
        rescheduled = new
        reason = (
            (Reply("dossier.late_reason", (("reason", update.reason),)),) if update.reason else ()
        )
        notices = (
            Reply(
                "dossier.notice.late",
                (
                    code,
                    ("due", _date(dossier.promised_on)),
                    ("new_due", _date(new)),
                    ("reason", Lines(reason)),
                ),
            ),
        )
    elif kind == "handed_over":
        completed = completed or day
        handed_over_at = closed_at = update.at
        notices = (
            Reply("dossier.notice.handed_over", (code, ("agency", agency))),
            invitation(dossier.id, dossier.code, invite_until, agency, tz),
        )
    else:  # withdrawn
        closed_at = update.at
        notices = (Reply("dossier.notice.withdrawn", (code,)),)
    return Applied(
        status=kind,
        rescheduled_on=rescheduled,
        completed_on=completed,
        handed_over_at=handed_over_at,
        closed_at=closed_at,
        notices=notices,
        invite=kind == "handed_over",
    )


def _rate_button(dossier_id: int) -> tuple[ChoiceOption, ...]:
    return (ChoiceOption(f"{INVITE_BUTTON}:{dossier_id}", "dossier.invite.rate"),)


def invitation(dossier_id: int, code: str, until: datetime, agency: str, tz: ZoneInfo) -> Reply:
    """The invitation to rate the service, sent with the hand-over notice."""
    params = (("code", code), ("agency", agency), ("until", _date(until.astimezone(tz).date())))
    return Reply("dossier.invite", params, _rate_button(dossier_id))


def invitation_reminder(dossier_id: int, code: str, until: datetime, tz: ZoneInfo) -> Reply:
    """The one reminder of an invitation nobody has taken up yet."""
    params = (("code", code), ("until", _date(until.astimezone(tz).date())))
    return Reply("dossier.invite_reminder", params, _rate_button(dossier_id))
