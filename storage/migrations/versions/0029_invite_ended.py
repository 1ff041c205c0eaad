"""A dossier keeps only that its invitation is over, not how its survey ended: ``invite_status``
'completed', 'abandoned' and 'expired' become 'ended' (issue 10, anonymity, as 0024 did for
receipts). With the ending kept per dossier, the one abandoned invitation of a procedure and
month paired with the one abandoned response of that procedure and hand-over month, and
through ``dossier_follows`` with the chat that gave it. The downgrade cannot tell the endings
apart again: it writes 'expired' (still closed to a new survey, and claiming no answer).

Revision ID: 0029_invite_ended
Revises: 0028_outbox_in_survey
"""

from __future__ import annotations

from alembic import op

revision = "0029_invite_ended"
down_revision = "0028_outbox_in_survey"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE dossiers SET invite_status = 'ended' "
        "WHERE invite_status IN ('completed', 'abandoned', 'expired')"
    )


def downgrade() -> None:
    op.execute("UPDATE dossiers SET invite_status = 'expired' WHERE invite_status = 'ended'")
