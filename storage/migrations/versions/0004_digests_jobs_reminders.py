"""Digests sent (once per period), job requests from chat, survey reminders.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("kind", "period_start", name="pk_digest_runs"),
    )
    op.create_table(
        "job_requests",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_job_requests"),
    )
    op.create_index("ix_job_requests_status_id", "job_requests", ["status", "id"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("remind_at", UTCDateTime))
        batch.create_index("ix_conversations_remind_at", ["remind_at"])
    op.create_index("ix_complaints_rated_at", "complaints", ["rated_at"])


def downgrade() -> None:
    op.drop_index("ix_complaints_rated_at", "complaints")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_remind_at")
        batch.drop_column("remind_at")
    op.drop_table("job_requests")
    op.drop_table("digest_runs")
