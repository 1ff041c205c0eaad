"""A receipt keeps only that its survey was used, not how it ended: ``survey_status``
'completed', 'abandoned' and 'expired' become 'used' (issue 10, anonymity). With the status
on both sides, the one abandoned receipt of a procedure paired with the one abandoned
response of that procedure, and through the receipt's token with its dossier. The downgrade
cannot tell the endings apart again: it writes 'completed' (still refused as used).

Revision ID: 0024_receipt_used
Revises: 0023_token_error_parts
"""

from __future__ import annotations

from alembic import op

revision = "0024_receipt_used"
down_revision = "0023_token_error_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE receipts SET survey_status = 'used' "
        "WHERE survey_status IN ('completed', 'abandoned', 'expired')"
    )


def downgrade() -> None:
    op.execute("UPDATE receipts SET survey_status = 'completed' WHERE survey_status = 'used'")
