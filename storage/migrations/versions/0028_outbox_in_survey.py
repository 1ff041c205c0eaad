"""``outbox.in_survey``: a message said within a survey (a question, the summary of the
answers, the chosen answer shown on a question). The transaction that ends the survey
deletes the chat's such rows whatever their status: while sends fail they stayed pending,
with the chat id beside the answers and the per-group averages (issue 10, anonymity).
Rows queued before this migration are not marked (nothing tells which they were); the
downgrade drops the column.

Revision ID: 0028_outbox_in_survey
Revises: 0027_notice_question
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_outbox_in_survey"
down_revision = "0027_notice_question"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("in_survey", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("in_survey")
