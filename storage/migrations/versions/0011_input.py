"""Complaint files keep the caption sent with them (a note on the file, shown to staff).

Revision ID: 0011_input
Revises: 0013_staff
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_input"
down_revision = "0013_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint_files") as batch:
        batch.add_column(sa.Column("note", sa.String(500)))


def downgrade() -> None:
    with op.batch_alter_table("complaint_files") as batch:
        batch.drop_column("note")
