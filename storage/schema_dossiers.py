"""Dossiers (hồ sơ) from the agency's one-stop system, who follows them, their events, the
signed API calls that feed them, and the coarse answer-day counts of invitations.

Split from ``storage.schema`` (which re-exports every table); one ``metadata`` for all.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .metadata import metadata
from .types import BigId, UTCDateTime

#: The one status of an invitation that is over, however it ended (completed, cancelled or
#: expired survey, or never taken): per dossier, the ending would pair with the one response
#: of that procedure, month and status (issue 10; receipts keep "used" alike, migration 0024).
INVITE_ENDED = "ended"

# A dossier (hồ sơ) as the agency's one-stop system registers it. ``code`` is the agency's;
# ``token`` is random and opens the link printed on the appointment slip (``/start d_<token>``).
# No name or phone of the applicant: what ties a person to it is only the chats that chose to
# follow it (``dossier_follows``), and those links are deleted after the retention period.
# ``invite_*`` is the one survey invitation sent at hand-over; nothing here says who answered,
# when, how the survey ended, or which response came of it.
dossiers = Table(
    "dossiers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("client", String(32), nullable=False),
    Column("procedure", String(64), nullable=False),
    Column("procedure_name", String(200)),
    Column("field", String(128)),
    #: The procedure's legal time limit in working days, when known (from the one-stop system
    #: or ``conversations/data/procedures.yaml``).
    Column("legal_days", Integer),
    Column("received_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    #: The new date of the apology slip (phiếu xin lỗi và hẹn lại), when the dossier ran late.
    Column("rescheduled_on", Date),
    Column("status", String(20), nullable=False),
    #: The day the result was ready (or handed over, when no "ready" event came first).
    Column("completed_on", Date),
    Column("handed_over_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    #: When a chat first followed it (kept when the link itself is deleted, for the counts).
    Column("followed_at", UTCDateTime),
    #: invited, in_progress, or ``INVITE_ENDED`` once its survey ended or it expired untaken.
    Column("invite_status", String(12)),
    Column("invited_at", UTCDateTime),
    Column("invite_remind_at", UTCDateTime),
    Column("invite_expires_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    #: 10 digits with a check digit, printed on the slip and typed on Zalo (where the link
    #: cannot carry ``token``); drawn apart from the receipts' codes. NULL for older dossiers.
    Column("short_code", String(10)),
    Index(None, "short_code", unique=True),
    Index(None, "received_on"),
    Index(None, "completed_on"),
    Index(None, "invited_at"),
    Index(None, "invite_remind_at"),
    Index(None, "invite_expires_at"),
    Index(None, "closed_at"),
)


# Which chats follow which dossier, by their consent; deleted when they stop, ask for deletion,
# or the retention period after the dossier closed is over.
dossier_follows = Table(
    "dossier_follows",
    metadata,
    Column("dossier_id", BigId, ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_at", UTCDateTime, nullable=False),
    Index(None, "contact_id"),
)


# Status events of dossiers, as posted by a client system (or the command line). ``event_id``
# is the client's own id: a second post of the same id has no effect.
dossier_events = Table(
    "dossier_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("dossier_id", BigId, ForeignKey("dossiers.id", ondelete="CASCADE"), nullable=False),
    Column("client", String(32), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("missing", JSON),
    Column("new_due_on", Date),
    Column("reason", Text),
    UniqueConstraint("client", "event_id"),
    Index(None, "dossier_id", "id"),
)


# Signatures of API requests already accepted, kept for the timestamp window: the same signed
# request sent again is refused as a replay.
api_signatures = Table(
    "api_signatures",
    metadata,
    Column("signature", String(64), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Index(None, "seen_at"),
)


# How long after the hand-over the survey of an invitation was started, in whole days
# (7: a week or more), counted per local day of the start, however the survey then ended
# (counted at its end, the row shared the transaction of a completed survey's dossier row).
# Coarse on purpose, and apart from everything else: it names no dossier, response or chat.
# Stored in key order on SQLite (a rowid would give the order the first surveys of the day
# with each count of days started in).
dossier_answer_days = Table(
    "dossier_answer_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("days", SmallInteger, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,
)
