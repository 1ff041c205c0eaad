"""Consents keep which wording was shown: ``consents.wording`` (the method, language and a
hash of the exact consent text), so what a person agreed to can be proved (Luật 91/2025/QH15,
NĐ 356/2025: consent must be verifiable). Not personal: it is kept when a consent loses its chat.

Revision ID: 0016_consent_wording
Revises: 0012_law
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_consent_wording"
down_revision = "0012_law"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("wording", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("wording")
