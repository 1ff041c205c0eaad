"""Zalo OA tokens (access and single-use refresh token).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zalo_tokens",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("access_token", sa.Text, nullable=False),
        sa.Column("refresh_token", sa.Text, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("refreshed_at", UTCDateTime, nullable=False),
        sa.Column("failed_at", UTCDateTime),
        sa.Column("last_error", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_zalo_tokens"),
    )


def downgrade() -> None:
    op.drop_table("zalo_tokens")
