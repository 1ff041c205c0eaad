"""Complaints: cases with their history and files.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("draft_id", sa.BigInteger),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("contact_id", BigId),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("reporter_name", sa.String(100)),
        sa.Column("reporter_phone", sa.String(16)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("duplicate_of", BigId),
        sa.Column("rating", sa.SmallInteger),
        sa.Column("rated_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_complaints"),
        sa.UniqueConstraint("code", name="uq_complaints_code"),
        sa.UniqueConstraint("draft_id", name="uq_complaints_draft_id"),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_complaints_contact_id_contacts",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["complaints.id"], name="fk_complaints_duplicate_of_complaints"
        ),
    )
    op.create_index("ix_complaints_status_due_on", "complaints", ["status", "due_on"])
    op.create_index(
        "ix_complaints_contact_id_created_at", "complaints", ["contact_id", "created_at"]
    )
    op.create_table(
        "complaint_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_events"),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name="fk_complaint_events_complaint_id_complaints",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_complaint_events_complaint_id_at", "complaint_events", ["complaint_id", "at"]
    )
    op.create_table(
        "complaint_files",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("media", sa.String(12), nullable=False),
        sa.Column("file_name", sa.String(200)),
        sa.Column("mime", sa.String(100)),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("channel_file_id", sa.String(256)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("data", sa.LargeBinary),
        sa.Column("sha256", sa.String(64)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("stored_at", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_files"),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name="fk_complaint_files_complaint_id_complaints",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_complaint_files_status", "complaint_files", ["status"])
    op.create_index("ix_complaint_files_complaint_id", "complaint_files", ["complaint_id"])


def downgrade() -> None:
    op.drop_table("complaint_files")
    op.drop_table("complaint_events")
    op.drop_table("complaints")
