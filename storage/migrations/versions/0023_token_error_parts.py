"""Adds ``zalo_tokens.error_code`` / ``error_name`` / ``error_reason``: what Zalo's token
endpoint said when it refused a refresh, kept apart (it may answer with a name and reason and
no numeric code; issue 15), for the digest and /healthz. NULL when absent.

Revision ID: 0023_token_error_parts
Revises: 0022_zns_consent
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_token_error_parts"
down_revision = "0022_zns_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zalo_tokens") as batch:
        batch.add_column(sa.Column("error_code", sa.String(40)))
        batch.add_column(sa.Column("error_name", sa.String(120)))
        batch.add_column(sa.Column("error_reason", sa.String(400)))


def downgrade() -> None:
    with op.batch_alter_table("zalo_tokens") as batch:
        batch.drop_column("error_reason")
        batch.drop_column("error_name")
        batch.drop_column("error_code")
