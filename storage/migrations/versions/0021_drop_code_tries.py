"""Drops ``zalo_code_tries``, which nothing reads or writes: wrong short receipt codes are
counted per chat and local day in the conversation's daily counts, on every channel
(``conversations/daily_counts.py``). A day's counts are all it held, so nothing is lost
that matters the next day; the downgrade recreates the table empty.

Revision ID: 0021_drop_code_tries
Revises: 0020_staff_cards
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_drop_code_tries"
down_revision = "0020_staff_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("zalo_code_tries")


def downgrade() -> None:
    op.create_table(
        "zalo_code_tries",
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day", name="pk_zalo_code_tries"),
    )
