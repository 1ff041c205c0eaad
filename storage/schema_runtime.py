"""Outbox, leases, rate budgets, job requests, digest ledger and failed events:
the tables the runtime (sender, scheduler, dispatcher) keeps its own work in.

Split from ``storage.schema`` (which re-exports every table); one ``metadata`` for all.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    false,
)

from .metadata import metadata
from .types import BigId, UTCDateTime

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
    #: Said within a survey (its questions, its summary, the chosen answer shown on a
    #: question): whatever its status, deleted in the transaction that ends the survey, so
    #: no row keeps a chat next to its answers or its route while sends fail (issue 10).
    Column("in_survey", Boolean, nullable=False, server_default=false()),
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
