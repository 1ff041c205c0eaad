"""Survey aggregates: answer counts per day, procedure and field, kept at completion.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_daily",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("field", sa.String(128), nullable=False),
        sa.Column("item", sa.String(16), nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(
            "item", "value", "day", "procedure", "field", name="pk_survey_daily"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "survey_daily_counts",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("field", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "procedure", "field", "status", name="pk_survey_daily_counts"
        ),
    )


def downgrade() -> None:
    op.drop_table("survey_daily_counts")
    op.drop_table("survey_daily")
