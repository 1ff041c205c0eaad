"""Dossiers followed from the appointment slip: dossiers, their events, the chats following
them, replayed API signatures, answer delays; the hand-over month of invited surveys.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_DOSSIER_INDEXES = (
    "received_on",
    "completed_on",
    "invited_at",
    "invite_remind_at",
    "invite_expires_at",
    "closed_at",
)


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("client", sa.String(32), nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("procedure_name", sa.String(200)),
        sa.Column("field", sa.String(128)),
        sa.Column("legal_days", sa.Integer),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("rescheduled_on", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("completed_on", sa.Date),
        sa.Column("handed_over_at", UTCDateTime),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("followed_at", UTCDateTime),
        sa.Column("invite_status", sa.String(12)),
        sa.Column("invited_at", UTCDateTime),
        sa.Column("invite_remind_at", UTCDateTime),
        sa.Column("invite_expires_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dossiers"),
        sa.UniqueConstraint("code", name="uq_dossiers_code"),
        sa.UniqueConstraint("token", name="uq_dossiers_token"),
    )
    for column in _DOSSIER_INDEXES:
        op.create_index(f"ix_dossiers_{column}", "dossiers", [column])
    op.create_table(
        "dossier_follows",
        sa.Column("dossier_id", BigId, nullable=False),
        sa.Column("contact_id", BigId, nullable=False),
        sa.Column("followed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("dossier_id", "contact_id", name="pk_dossier_follows"),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name="fk_dossier_follows_dossier_id_dossiers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_dossier_follows_contact_id_contacts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_dossier_follows_contact_id", "dossier_follows", ["contact_id"])
    op.create_table(
        "dossier_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("dossier_id", BigId, nullable=False),
        sa.Column("client", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("missing", sa.JSON),
        sa.Column("new_due_on", sa.Date),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_dossier_events"),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name="fk_dossier_events_dossier_id_dossiers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("client", "event_id", name="uq_dossier_events_client_event_id"),
    )
    op.create_index("ix_dossier_events_dossier_id_id", "dossier_events", ["dossier_id", "id"])
    op.create_table(
        "api_signatures",
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("signature", name="pk_api_signatures"),
    )
    op.create_index("ix_api_signatures_seen_at", "api_signatures", ["seen_at"])
    op.create_table(
        "dossier_answer_days",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("days", sa.SmallInteger, autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("day", "days", name="pk_dossier_answer_days"),
    )
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("handed_over_month", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_column("handed_over_month")
    for table in (
        "dossier_answer_days",
        "api_signatures",
        "dossier_events",
        "dossier_follows",
        "dossiers",
    ):
        op.drop_table(table)
