"""What the engine may know besides the state and the event: the clock, ids, and looked-up facts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .workdays import WorkCalendar

ResponseStatus = Literal["in_progress", "completed", "abandoned", "expired"]
#: What a receipt keeps of the survey it started: running, or over ("used", however it
#: ended: a completed or abandoned receipt would pair with a response of that status).
ReceiptStatus = Literal["in_progress", "used"]
#: What a dossier keeps of its one survey invitation: sent, taken by a survey under way, or
#: over ("ended", whether the survey was completed, cancelled or expired, or the invitation
#: expired untaken: an ending kept per dossier would pair, through the chats following it,
#: with the one response of that procedure, month and status).
InviteStatus = Literal["invited", "in_progress", "ended"]


@dataclass(frozen=True, slots=True)
class Env:
    """The caller's world, passed in so the engine stays deterministic (goflow's environment).

    ``new_id`` makes survey response ids; tests pass a seeded generator.
    """

    now: datetime
    new_id: Callable[[], int]
    agency: str = "Sở Xây dựng"
    survey_ttl: timedelta = timedelta(days=7)
    #: A stalled survey gets one reminder after this long (the job sends it in daytime only).
    survey_remind_after: timedelta = timedelta(hours=24)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    #: Working days for complaint deadlines; None means the bundled public holidays.
    calendar: WorkCalendar | None = None
    complaints_per_day: int = 3
    #: Surveys without a receipt a chat may complete: one per this calendar period
    #: ("day", "week", "month", "year"), or "off" for no limit.
    open_survey_period: str = "month"
    #: Tracking codes: given the local year, a new code such as PA-2026-483920.
    new_code: Callable[[int], str] = lambda year: f"PA-{year}-000000"
    #: Days a chat's link to a dossier is kept after the dossier closed (told at consent).
    dossier_retention_days: int = 30
    #: The SIPAS method new surveys use (``SURVEY_METHOD``): a questionnaire in data/.
    survey_method: str = "sipas-1001"
    #: The agency's address for citizens (``AGENCY_ADDRESS``): where to denounce in person.
    agency_address: str = ""
    #: The channel this message came by ("telegram", "zalo", "web", "console"): the notices
    #: name the platform the messages really pass through.
    channel: str = ""
    #: A Zalo chat with ZNS notices configured (``ZALO_ZNS_TEMPLATE_NOTICE``, and no OA
    #: template by user id): a named complaint asks consent to notices to its phone.
    zns: bool = False

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def local(self, at: datetime) -> datetime:
        """An instant as people here read it (the agency's zone). Stored times are UTC; a
        naive one is read as UTC, never as the server's own zone."""
        return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(self.tz)


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """A receipt as found in storage, with the status of the survey it started (if any):
    ``in_progress`` while it runs, ``used`` once it ended, whichever way."""

    id: int
    token: str
    procedure: str
    field: str | None = None
    valid_until: date | None = None
    response_status: ReceiptStatus | None = None

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and today > self.valid_until


@dataclass(frozen=True, slots=True)
class CaseNote:
    at: datetime
    to_status: str
    note: str | None
    actor: str
    public: bool
    action: str | None = None
    actor_name: str | None = None


@dataclass(frozen=True, slots=True)
class ComplaintFacts:
    """A complaint as found in storage. ``owned``: filed from the chat of this event."""

    code: str
    category: str
    status: str
    description: str
    source: str
    anonymous: bool
    name: str | None
    phone: str | None
    language: str
    created_at: datetime
    due_on: date
    owned: bool
    reachable: bool
    rating: int | None = None
    duplicate_of: str | None = None
    files: int = 0
    history: tuple[CaseNote, ...] = ()
    stored_files: tuple[int, ...] = ()
    #: NĐ 20/2008, Điều 7(1): the named sender's address.
    address: str | None = None
    #: Luật Tiếp công dân, Điều 28(1): tell the person by this day that it is accepted.
    accept_due_on: date | None = None
    #: NĐ 20/2008, Điều 9(1)(d): forward by this day if out of remit; and where/when it went.
    forward_due_on: date | None = None
    forwarded_to: str | None = None
    forwarded_on: date | None = None
    #: The caption the citizen sent with a stored file, by file id.
    file_notes: Mapping[int, str] = field(default_factory=dict)
    #: The officer who has the case (``staff:<id>``) and their shown name; None: nobody yet.
    assignee: str | None = None
    assignee_name: str | None = None
    #: Its cards shown in staff rooms, (channel, room, message id): redrawn when it changes,
    #: whoever changed it and from whichever chat.
    cards: tuple[tuple[str, str, str], ...] = ()
    #: When the case first left "new" (its sender was told); None: never yet.
    accepted_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("new", "in_progress", "waiting_citizen")

    #: How a notice to the sender goes out now: "direct" (a message), "template" (Zalo's
    #: approved template, outside the 7-day window) or "held" (until the sender writes).
    reach: str = "direct"


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """A dossier as found in storage. ``followed``: the chat of this event follows it.

    ``invite`` is the state of its one survey invitation (None before hand-over, or when no
    chat followed it then): invited, in_progress, or ended (``InviteStatus``).
    """

    id: int
    code: str
    token: str
    procedure: str
    received_on: date
    due_on: date
    status: str
    procedure_name: str | None = None
    field: str | None = None
    rescheduled_on: date | None = None
    completed_on: date | None = None
    handed_over_at: datetime | None = None
    invite: InviteStatus | None = None
    invite_expires_at: datetime | None = None
    followed: bool = False

    @property
    def closed(self) -> bool:
        return self.status in ("handed_over", "withdrawn")

    @property
    def promised_on(self) -> date:
        """The date the result is promised for: the apology slip's new date, if any."""
        return self.rescheduled_on or self.due_on

    def invite_open(self, now: datetime) -> bool:
        expires = self.invite_expires_at
        return self.invite == "invited" and (expires is None or now < expires)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the runtime looked up for this event before calling the engine."""

    receipt: ReceiptFacts | None = None
    admin: bool = False
    #: The sender's id on its channel (staff actions are recorded under it).
    sender: str = ""
    #: The sender's name as the channel gives it (an officer's, shown on the cases they take).
    sender_name: str = ""
    #: The event comes from a staff room (a group): no citizen wording, no menu there.
    room: bool = False
    #: A group not configured as a staff room, where an administrator wrote (its id); "": none.
    stray_room: str = ""
    #: The channel's id of the message whose button was pressed ("" for anything else).
    pressed: str = ""
    #: Complaints named by the event or the conversation, by tracking code.
    complaints: Mapping[str, ComplaintFacts] = field(default_factory=dict)
    #: Open complaints, for the staff list (``/hoso``); None when not looked up.
    open_cases: tuple[ComplaintFacts, ...] | None = None
    #: Complaints this contact filed since local midnight.
    complaints_today: int = 0
    #: The dossier named by a slip's link (``/start d_<token>``) or a follow button.
    dossier: DossierFacts | None = None
    #: Dossiers named by a button or the survey in progress, by id.
    dossiers: Mapping[int, DossierFacts] = field(default_factory=dict)
    #: This chat already submitted a survey in the current period (``MarkSurveyed``): a
    #: survey without a receipt is refused until the next one.
    surveyed: bool = False
    #: The web address this post came from completed as many surveys without a receipt in
    #: this period as one address may (``WEB_OPEN_SURVEYS_PER_ADDRESS``): refused as well.
    address_used: bool = False
    #: The dossiers this chat follows, newest first; None when not looked up.
    followed_dossiers: tuple[DossierFacts, ...] | None = None
