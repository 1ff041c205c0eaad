"""Adds ``dossiers.short_code``: 10 digits with a check digit printed on the appointment slip
and typed on Zalo, where the link cannot carry the dossier's 24-character token (issue 15);
unique, drawn apart from the receipts' codes. NULL for dossiers registered before.

Revision ID: 0025_dossier_short_codes
Revises: 0024_receipt_used
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_dossier_short_codes"
down_revision = "0024_receipt_used"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("short_code", sa.String(10)))
    op.create_index("ix_dossiers_short_code", "dossiers", ["short_code"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_dossiers_short_code", "dossiers")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("short_code")
