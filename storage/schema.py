"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/versions`` create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from .metadata import metadata as metadata
from .schema_channels import (  # re-exported: callers import every table from here
    staff_cards as staff_cards,
)
from .schema_channels import (
    staff_rooms as staff_rooms,
)
from .schema_channels import (
    web_messages as web_messages,
)
from .schema_channels import (
    web_uploads as web_uploads,
)
from .schema_channels import (
    zalo_chats as zalo_chats,
)
from .schema_channels import (
    zalo_notices as zalo_notices,
)
from .schema_channels import (
    zalo_tokens as zalo_tokens,
)
from .schema_dossiers import (  # re-exported: callers import every table from here
    api_signatures as api_signatures,
)
from .schema_dossiers import (
    dossier_answer_days as dossier_answer_days,
)
from .schema_dossiers import (
    dossier_events as dossier_events,
)
from .schema_dossiers import (
    dossier_follows as dossier_follows,
)
from .schema_dossiers import (
    dossiers as dossiers,
)
from .schema_runtime import (  # re-exported: callers import every table from here
    digest_runs as digest_runs,
)
from .schema_runtime import (
    failed_events as failed_events,
)
from .schema_runtime import (
    job_requests as job_requests,
)
from .schema_runtime import (
    outbox as outbox,
)
from .schema_runtime import (
    outbox_blobs as outbox_blobs,
)
from .schema_runtime import (
    outbox_leases as outbox_leases,
)
from .schema_runtime import (
    rate_buckets as rate_buckets,
)
from .types import BigId, UTCDateTime

contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("language", String(8)),
    Column("stopped", Boolean, nullable=False, default=False),
    #: The hour the chat first wrote (rounded down, like every time kept for anonymity).
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "external_id"),
)

# One row per contact: where the dialogue stands. ``state`` holds the active survey's response
# id, the only link between a chat and its answers; it is dropped when the survey ends.
conversations = Table(
    "conversations",
    metadata,
    Column(
        "contact_id",
        BigId,
        ForeignKey("contacts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("flow", String(32)),
    Column("step", String(64)),
    Column("state", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("remind_at", UTCDateTime),
    #: The question a notice queued for this chat asks by its buttons, not yet seen by its
    #: conversation ("rate:PA-…", "supp:PA-…"; ``conversations.resent.question_of``): the
    #: chat's next event reads it (and clears it). NULL otherwise.
    Column("notice_question", String(80)),
    Index(None, "expires_at"),
    Index(None, "remind_at"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_key", String(160), primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False),
    Index(None, "processed_at"),
)

consents = Table(
    "consents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # Emptied, with ``decided_at`` cut to the hour, once the survey it opened has ended: the
    # consent's order and time must not lead back to the chat whose answers it preceded.
    Column("contact_id", BigId, ForeignKey("contacts.id", ondelete="CASCADE")),
    Column("purpose", String(32), nullable=False),
    Column("given", Boolean, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    # What was shown (Luật 91/2025/QH15: consent must be verifiable): the method, language and
    # a hash of the exact text, e.g. "sipas-1001/vi/3f…". Kept when the row is emptied.
    Column("wording", String(64)),
    Index(None, "contact_id"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("procedure", String(64), nullable=False),
    Column("field", String(128)),
    Column("handed_over_on", Date),
    Column("valid_until", Date),
    Column("created_at", UTCDateTime, nullable=False),
    #: The survey this receipt started: ``in_progress``, then ``used`` however it ended (not
    #: its status: a receipt "abandoned" would pair with the one abandoned response of its
    #: procedure). No time either. No response row names its receipt.
    Column("survey_status", String(16)),
    #: 10 digits with a check digit (``bot/channels/zalo_codes.py``), typed on Zalo.
    Column("short_code", String(10)),
    Index(None, "short_code", unique=True),
)

# No contact, chat or receipt column, by design: a response is anonymous. Its times are kept
# to the hour so they cannot be matched against a chat's message times either. Its id is
# random and, on SQLite, the rowid: rows lie in the order of those random ids, not in the
# order people answered (which the order of other tables could match). What it cannot
# prevent: ``procedure`` (needed for the index per procedure) with ``with_receipt`` picks out
# the one response of a procedure whose single receipt was used in a period (the receipt is
# marked used, and its token is on the slip of a known dossier). Reports hide the index of a
# procedure under ``jobs.dossier_measures.MIN_PROCEDURE_BASE`` surveys; README, "Survey
# anonymity", says what remains.
survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("questionnaire", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    #: Opened from a receipt (True) or from the menu (False): the digest counts them apart.
    Column("with_receipt", Boolean, nullable=False, server_default=false()),
    Column("procedure", String(64)),
    Column("field", String(128)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    #: A survey opened from a dossier's invitation: the first day of the month its result was
    #: handed over, and nothing more of the dossier (no code, no id, no day).
    Column("handed_over_month", Date),
    Index(None, "status", "completed_at"),
)

answers = Table(
    "answers",
    metadata,
    Column(
        "response_id",
        BigInteger,
        ForeignKey("survey_responses.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("item", String(16), primary_key=True),
    Column("value_int", SmallInteger),
    Column("value_text", Text),
    # Stored in key order (random response id), not in the order answers came in.
    sqlite_with_rowid=False,
)

#: The one-survey-per-period rule's record (``queries.survey_marks``): a keyed hash of the
#: chat and the period, written when any survey is submitted. No time, no contact, no
#: response; stored in key order (the hash), not in the order surveys were submitted.
survey_marks = Table(
    "survey_marks",
    metadata,
    Column("mark", String(64), primary_key=True),
    Column("period", String(10), nullable=False),
    sqlite_with_rowid=False,
)

#: Secrets older versions made on first run and kept here; today's bot stores none. Their
#: ``survey_mark_key`` (the survey marks' key when ``RECEIPT_SECRET`` is not set) is moved to
#: ``RECEIPT_SECRET_FILE`` at start and deleted; their log salt (``receipt_secret``) is
#: deleted at start: today's is made per process and never stored.
local_secrets = Table(
    "local_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Complaints (góp ý, phản ánh, kiến nghị) are not anonymous: the reporter's chat is kept so
# they can be told of every change. Name and phone are there only when the citizen gave them.
complaints = Table(
    "complaints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("draft_id", BigInteger, unique=True),
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(12), nullable=False),
    Column("contact_id", BigId, ForeignKey("contacts.id", ondelete="SET NULL")),
    Column("anonymous", Boolean, nullable=False),
    Column("reporter_name", String(100)),
    Column("reporter_phone", String(16)),
    Column("language", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("duplicate_of", BigId, ForeignKey("complaints.id")),
    Column("rating", SmallInteger),
    Column("rated_at", UTCDateTime),
    # NĐ 20/2008, Điều 7(1): a named phản ánh, kiến nghị states name, address and phone.
    Column("reporter_address", String(200)),
    # Luật Tiếp công dân 2013, Điều 28(1): within 10 working days the person is told whether
    # the matter is accepted, refused, needs more time or was forwarded. ``due_on`` is the
    # (later) target to resolve it, from complaints.yaml.
    Column("accept_due_on", Date),
    # NĐ 20/2008, Điều 9(1)(d): out of remit -> forwarded to the competent body within 5
    # working days; ``forward_due_on`` is that limit, ``forwarded_on`` the day it was done.
    Column("forwarded_to", String(200)),
    Column("forwarded_on", Date),
    Column("forward_due_on", Date),
    # The officer who has the case ("staff:<id>"), and the name shown on its card.
    Column("assignee", String(40)),
    Column("assignee_name", String(64)),
    # When the case first left "new" (taken, asked for more, forwarded or closed): the sender
    # was told then (Luật Tiếp công dân 2013, Điều 28(1)), and a case handed back to "new"
    # later owes neither the notice nor the forwarding any more.
    Column("accepted_at", UTCDateTime),
    # When the sender (on Zalo) agreed to progress notices by ZNS to ``reporter_phone``
    # after the 7-day window; NULL: not asked or refused (issue 15).
    Column("zns_consent_at", UTCDateTime),
    Index(None, "status", "due_on"),
    Index(None, "contact_id", "created_at"),
    Index(None, "rated_at"),
)

# Every change of a complaint, with who made it; ``public`` notes are shown to the citizen.
complaint_events = Table(
    "complaint_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", BigId, ForeignKey("complaints.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(40), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("note", Text),
    Column("public", Boolean, nullable=False),
    # What staff did (take, takeover, release, note; None for a plain status change) and the
    # name they go by, so the history reads "who did what" without a user directory.
    Column("action", String(16)),
    Column("actor_name", String(64)),
    Index(None, "complaint_id", "at"),
)

# Files sent with a complaint. The channel's file id is only a way to fetch it: a job copies
# the bytes here (status pending -> stored) so the file outlives the channel's copy.
complaint_files = Table(
    "complaint_files",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", BigId, ForeignKey("complaints.id", ondelete="CASCADE"), nullable=False),
    Column("media", String(12), nullable=False),
    Column("file_name", String(200)),
    Column("mime", String(100)),
    Column("size", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("channel_file_id", String(2048)),  # MAX_FILE_ID_CHARS: a Zalo URL may pass 256
    Column("status", String(12), nullable=False),
    Column("data", LargeBinary),
    Column("sha256", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("stored_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    # The caption the citizen sent with the file at the files step (at most 500 characters).
    Column("note", String(500)),
    Index(None, "status"),
    Index(None, "complaint_id"),
)

# Answer counts per local day, procedure and field, kept up to date in the transaction that
# completes a survey, so a report over a million surveys sums a few thousand rows instead of
# counting thirty million answers. ``procedure``/``field`` are "" when unknown.
survey_daily = Table(
    "survey_daily",
    metadata,
    Column("day", Date, nullable=False),
    Column("procedure", String(64), nullable=False),
    Column("field", String(128), nullable=False),
    Column("item", String(16), nullable=False),
    Column("value", String(32), nullable=False),
    Column("count", Integer, nullable=False),
    # The SIPAS method of the surveys counted (sipas-1001, sipas-2640): an index is summed
    # within one method only. Rows from before methods were recorded are 2640's.
    Column("method", String(32), nullable=False),
    # Keyed by (item, value) first and, on SQLite, stored in key order: a report's GROUP BY
    # item, value then reads rows already grouped, with no sort (0.35 s instead of 2 s over
    # a million surveys, bench/report.py).
    PrimaryKeyConstraint("item", "value", "day", "method", "procedure", "field"),
    sqlite_with_rowid=False,
)

# Surveys ended per local day: completed, or partial (abandoned or expired). Stored in key
# order on SQLite (a rowid would give the order the first surveys of the day ended in).
survey_daily_counts = Table(
    "survey_daily_counts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("procedure", String(64), primary_key=True),
    Column("field", String(128), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("method", String(32), primary_key=True),
    sqlite_with_rowid=False,
)

COMPLAINT_STATUSES = (
    "new",
    "in_progress",
    "waiting_citizen",
    "resolved",
    "out_of_scope",
    "duplicate",
)
OPEN_COMPLAINT_STATUSES = ("new", "in_progress", "waiting_citizen")
RESPONSE_STATUSES = ("in_progress", "completed", "abandoned", "expired")
OUTBOX_STATUSES = ("pending", "sent", "dead")
DOSSIER_STATUSES = (
    "received",
    "needs_documents",
    "processing",
    "result_ready",
    "late",
    "handed_over",
    "withdrawn",
)
INVITE_STATUSES = ("invited", "in_progress", "completed", "abandoned", "expired")
