"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/versions`` create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from .types import BigId, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("language", String(8)),
    Column("stopped", Boolean, nullable=False, default=False),
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
    #: The status of the survey this receipt started (in_progress, completed, abandoned,
    #: expired), kept on the receipt: no response row names its receipt.
    Column("survey_status", String(16)),
    #: 10 digits with a check digit (``bot/channels/zalo_codes.py``), typed on Zalo.
    Column("short_code", String(10)),
    Index(None, "short_code", unique=True),
)

# No contact, chat or receipt column, by design: a response is anonymous. Its times are kept
# to the hour so they cannot be matched against a chat's message times either. Its id is
# random and, on SQLite, the rowid: rows lie in the order of those random ids, not in the
# order people answered (which the order of other tables could match).
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

#: Secrets the process makes itself on first run and keeps (``receipt_secret``: the salt of
#: the chat hashes in logs when ``RECEIPT_SECRET`` is not set).
local_secrets = Table(
    "local_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Images and documents the bot made (charts, spreadsheets), kept apart from the outbox row
# until it is sent, so rows stay small and bytes are never base64 text inside JSON.
outbox_blobs = Table(
    "outbox_blobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("payload", JSON),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("last_error", String(200)),
    #: The bytes of an image or a document (``outbox_blobs``); None for the other kinds.
    Column("blob_id", BigId, ForeignKey("outbox_blobs.id", ondelete="SET NULL")),
    #: 0: an answer to someone waiting (a reply, a report they asked for); 1: bulk (digests,
    #: reminders, notices to others), which only gets what the answers leave of the budget.
    Column("priority", SmallInteger, nullable=False, server_default="0"),
    Index(None, "status", "channel", "id"),
    # Each chat's oldest pending message: the head that must leave before the others.
    Index(None, "channel", "status", "chat_id", "id"),
)

# Which process may send to a chat now (several processes share one outbox): a lease, so a
# chat's messages leave from one process at a time, in order. The chat's own send budget
# (tokens, refilled per second) travels with the lease.
outbox_leases = Table(
    "outbox_leases",
    metadata,
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("holder", String(64), nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("tokens", Float, nullable=False),
    Column("stamp", Float, nullable=False),  # epoch seconds of the last refill
    PrimaryKeyConstraint("channel", "chat_id"),
)

# A channel's overall send budget (Telegram: about 30 messages a second for the whole bot),
# shared by every process.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("channel", String(16), nullable=False),
    Column("tokens", Float, nullable=False),
    Column("stamp", Float, nullable=False),  # epoch seconds of the last refill
    PrimaryKeyConstraint("channel"),
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

# Surveys ended per local day: completed, or partial (abandoned or expired).
survey_daily_counts = Table(
    "survey_daily_counts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("procedure", String(64), primary_key=True),
    Column("field", String(128), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("method", String(32), primary_key=True),
)

# Digests sent, one row per kind and period: the key that makes each digest go out once, even
# after downtime, a restart or with two processes.
digest_runs = Table(
    "digest_runs",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
)

# Work an administrator asked for in chat (a report, an export): done by the jobs runner,
# whose answer goes back through the outbox.
job_requests = Table(
    "job_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("language", String(8), nullable=False),
    Column("args", JSON, nullable=False),
    Column("status", String(12), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    Index(None, "status", "id"),
)

# The Zalo OA's tokens. The refresh token is single-use: a refreshed pair is stored (in one
# transaction) before the new access token is used, or the OA would be locked out.
zalo_tokens = Table(
    "zalo_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
    Column("failed_at", UTCDateTime),
    Column("last_error", String(200)),
)

# When each Zalo chat last wrote to the OA: the OA may message it freely for 48 h, billed up
# to 7 days, then only by an approved template (ZALO.md, "Sending").
zalo_chats = Table(
    "zalo_chats",
    metadata,
    Column("chat_id", String(64), primary_key=True),
    Column("last_inbound_at", UTCDateTime, nullable=False),
)

# What became of Zalo notifications outside the window ("held", "resent", "template"), for
# the digest: no chat, no content.
zalo_notices = Table(
    "zalo_notices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(12), nullable=False),
    Index(None, "at"),
)

# Inbound events that could not be read or handled (a malformed update, a poison message):
# their event id was claimed, the chat got a polite message with ``ref``, and the row lets
# the digest count them and staff find one by the reference the citizen quotes. What the
# event said is never kept: only which event, where it failed, and the error's class.
failed_events = Table(
    "failed_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("event_id", String(128)),  # the channel's id (update_id, msg_id) when readable
    Column("stage", String(12), nullable=False),  # "parse" or "process"
    Column("error", String(120), nullable=False),  # the exception's class name(s)
    Column("ref", String(16), nullable=False),
    Column("answered", Boolean, nullable=False),  # a polite message was queued
    Column("failed_at", UTCDateTime, nullable=False),
    Index(None, "failed_at"),
)

# A dossier (hồ sơ) as the agency's one-stop system registers it. ``code`` is the agency's;
# ``token`` is random and opens the link printed on the appointment slip (``/start d_<token>``).
# No name or phone of the applicant: what ties a person to it is only the chats that chose to
# follow it (``dossier_follows``), and those links are deleted after the retention period.
# ``invite_*`` is the one survey invitation sent at hand-over; nothing here says who answered,
# when, or which response came of it.
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
    Column("invite_status", String(12)),
    Column("invited_at", UTCDateTime),
    Column("invite_remind_at", UTCDateTime),
    Column("invite_expires_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
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

# How long after the hand-over the survey of an invitation was answered, in whole days
# (7: a week or more), counted per local day of the answer. Coarse on purpose, and apart from
# everything else: it names no dossier, no response and no chat.
dossier_answer_days = Table(
    "dossier_answer_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("days", SmallInteger, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
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

# What the web chat channel delivered to each visitor's browser, in order: the page reads
# from here on every (re)connect, so a reload or a restart loses nothing. A delivery buffer,
# not an archive: rows are purged after a day (``storage/queries/web.py``). ``data`` holds
# the bytes of a picture (a chart) the page shows by its row id. Ids never come back after a
# delete (SQLite AUTOINCREMENT): an open page shows only ids above the last it showed, so a
# message given the id of a deleted one (a survey's page history, gone when it ended) would
# never appear.
web_messages = Table(
    "web_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("chat_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("data", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "chat_id", "id"),
    Index(None, "created_at"),
    sqlite_autoincrement=True,
)

# Files a web visitor attached to a complaint: kept here, under a random token that serves as
# the channel's file id, until the attachments job copies them into ``complaint_files``.
web_uploads = Table(
    "web_uploads",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("chat_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("mime", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "created_at"),
)

# Staff rooms: a Telegram group named in ADMIN_CHAT_IDS that Telegram upgraded to a
# supergroup (a new chat id). The configured id stays the room's name (its officers'
# conversations are kept under it); messages go to ``current_id``. ``told_at``: when the next
# digest said that the configured id is stale.
staff_rooms = Table(
    "staff_rooms",
    metadata,
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("current_id", String(64), nullable=False),
    Column("moved_at", UTCDateTime, nullable=False),
    Column("told_at", UTCDateTime),
    PrimaryKeyConstraint("channel", "chat_id"),
)

# Case cards shown in staff rooms (a Telegram group's message): redrawn in place whenever the
# case changes, whoever acted and from whichever chat (a Zalo officer, a private chat), so
# the room's card always shows who has the case and what can be done next.
staff_cards = Table(
    "staff_cards",
    metadata,
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("message_id", String(32), nullable=False),
    Column("code", String(20), nullable=False),
    Column("shown_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("channel", "chat_id", "message_id"),
    Index(None, "code"),
)
