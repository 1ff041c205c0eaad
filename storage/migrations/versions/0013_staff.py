"""Staff as a team: who has a case, what each officer did, and staff rooms that moved.

Revision ID: 0013_staff
Revises: 0015_harden
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0013_staff"
down_revision = "0015_harden"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("complaints", sa.Column("assignee", sa.String(40)))
    op.add_column("complaints", sa.Column("assignee_name", sa.String(64)))
    op.add_column("complaint_events", sa.Column("action", sa.String(16)))
    op.add_column("complaint_events", sa.Column("actor_name", sa.String(64)))
    op.create_table(
        "staff_rooms",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("current_id", sa.String(64), nullable=False),
        sa.Column("moved_at", UTCDateTime, nullable=False),
        sa.Column("told_at", UTCDateTime),
        sa.PrimaryKeyConstraint("channel", "chat_id", name="pk_staff_rooms"),
    )


def downgrade() -> None:
    op.drop_table("staff_rooms")
    with op.batch_alter_table("complaint_events") as batch:
        batch.drop_column("actor_name")
        batch.drop_column("action")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("assignee_name")
        batch.drop_column("assignee")
