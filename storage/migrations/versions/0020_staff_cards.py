"""Case cards shown in staff rooms, so a case changed from another chat redraws them.

A Zalo officer (or one in a private chat) who takes or answers a case left the Telegram staff
group's card as it was. The group's cards are remembered by case (``staff_cards``) and
edited whenever the case changes.

Revision ID: 0020_staff_cards
Revises: 0019_survey_marks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0020_staff_cards"
down_revision = "0019_survey_marks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_cards",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("shown_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", "message_id", name="pk_staff_cards"),
    )
    op.create_index("ix_staff_cards_code", "staff_cards", ["code"])


def downgrade() -> None:
    op.drop_index("ix_staff_cards_code", table_name="staff_cards")
    op.drop_table("staff_cards")
