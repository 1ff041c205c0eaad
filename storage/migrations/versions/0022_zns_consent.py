"""Adds ``complaints.zns_consent_at``: when a sender on Zalo agreed, at filing, to progress
notices by ZNS to the phone they gave (issue 15); NULL when not asked or refused.

Revision ID: 0022_zns_consent
Revises: 0021_drop_code_tries
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0022_zns_consent"
down_revision = "0021_drop_code_tries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("zns_consent_at", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("zns_consent_at")
