"""A case remembers when it first left "new": the sender was told then.

A case handed back by its holder is "new" again and nobody's, but its sender was already
told it was accepted (Luật Tiếp công dân 2013, Điều 28(1)), and it was classified as within
remit: the 10 working days to tell and the 5 to forward (NĐ 20/2008, Điều 9(1)(d)) no longer
run. ``accepted_at`` keeps that moment; existing cases take it from their history (the first
change away from "new").

Revision ID: 0018_accepted_at
Revises: 0017_web_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0018_accepted_at"
down_revision = "0017_web_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("accepted_at", UTCDateTime))
    op.execute(
        "UPDATE complaints SET accepted_at = ("
        " SELECT MIN(e.at) FROM complaint_events e"
        " WHERE e.complaint_id = complaints.id"
        " AND e.from_status = 'new' AND e.to_status <> 'new')"
    )


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("accepted_at")
