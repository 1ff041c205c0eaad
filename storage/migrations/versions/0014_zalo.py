"""Zalo: short receipt codes people can type, each chat's last message (the 7-day window),
what happened to notifications that could not go as normal messages, and each chat's wrong
short codes of the day.

Revision ID: 0014_zalo
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0014_zalo"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A unique index rather than a constraint: SQLite cannot add one to an existing table.
    op.add_column("receipts", sa.Column("short_code", sa.String(10)))
    op.create_index("ix_receipts_short_code", "receipts", ["short_code"], unique=True)
    op.create_table(
        "zalo_chats",
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("last_inbound_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name="pk_zalo_chats"),
    )
    op.create_table(
        "zalo_notices",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_zalo_notices"),
    )
    op.create_index("ix_zalo_notices_at", "zalo_notices", ["at"])
    op.create_table(
        "zalo_code_tries",
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day", name="pk_zalo_code_tries"),
    )


def downgrade() -> None:
    op.drop_table("zalo_code_tries")
    op.drop_index("ix_zalo_notices_at", "zalo_notices")
    op.drop_table("zalo_notices")
    op.drop_table("zalo_chats")
    op.drop_index("ix_receipts_short_code", "receipts")
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("short_code")
