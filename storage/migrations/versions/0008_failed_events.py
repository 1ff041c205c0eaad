"""Inbound events that could not be read or handled (recorded, answered, confirmed).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(128)),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("error", sa.String(120), nullable=False),
        sa.Column("ref", sa.String(16), nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("failed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_failed_events"),
    )
    op.create_index("ix_failed_events_failed_at", "failed_events", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_failed_events_failed_at", "failed_events")
    op.drop_table("failed_events")
