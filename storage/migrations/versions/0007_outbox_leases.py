"""Shared sending: per-chat leases (with the chat's send budget), per-channel rate buckets,
and a priority per message (answers before bulk).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"))
    op.create_table(
        "outbox_leases",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("until", UTCDateTime, nullable=False),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("stamp", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name="pk_outbox_leases"),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("stamp", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_rate_buckets"),
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
    op.drop_table("rate_buckets")
    op.drop_table("outbox_leases")
