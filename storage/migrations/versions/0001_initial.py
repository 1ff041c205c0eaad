"""Initial schema: contacts, conversations, events, consents, receipts, surveys, outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("stopped", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("channel", "external_id", name="uq_contacts_channel_external_id"),
    )
    op.create_table(
        "conversations",
        sa.Column("contact_id", BigId, nullable=False),
        sa.Column("flow", sa.String(32)),
        sa.Column("step", sa.String(64)),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime),
        sa.PrimaryKeyConstraint("contact_id", name="pk_conversations"),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_conversations_contact_id_contacts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_conversations_expires_at", "conversations", ["expires_at"])
    op.create_table(
        "processed_events",
        sa.Column("event_key", sa.String(160), nullable=False),
        sa.Column("processed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("event_key", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])
    op.create_table(
        "consents",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("contact_id", BigId, nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("given", sa.Boolean, nullable=False),
        sa.Column("decided_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_consents_contact_id_contacts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_consents_contact_id", "consents", ["contact_id"])
    op.create_table(
        "receipts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("field", sa.String(128)),
        sa.Column("handed_over_on", sa.Date),
        sa.Column("valid_until", sa.Date),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_receipts"),
        sa.UniqueConstraint("token", name="uq_receipts_token"),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("questionnaire", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("receipt_id", BigId),
        sa.Column("procedure", sa.String(64)),
        sa.Column("field", sa.String(128)),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("completed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_survey_responses"),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name="fk_survey_responses_receipt_id_receipts"
        ),
        sa.UniqueConstraint("receipt_id", name="uq_survey_responses_receipt_id"),
    )
    op.create_index(
        "ix_survey_responses_status_completed_at", "survey_responses", ["status", "completed_at"]
    )
    op.create_table(
        "answers",
        sa.Column("response_id", sa.BigInteger, nullable=False),
        sa.Column("item", sa.String(16), nullable=False),
        sa.Column("value_int", sa.SmallInteger),
        sa.Column("value_text", sa.Text),
        sa.PrimaryKeyConstraint("response_id", "item", name="pk_answers"),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name="fk_answers_response_id_survey_responses",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("not_before", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("last_error", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_status_channel_id", "outbox", ["status", "channel", "id"])


def downgrade() -> None:
    for table in (
        "outbox",
        "answers",
        "survey_responses",
        "receipts",
        "consents",
        "processed_events",
        "conversations",
        "contacts",
    ):
        op.drop_table(table)
