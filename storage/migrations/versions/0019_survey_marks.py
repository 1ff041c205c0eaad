"""The one-survey-per-period record leaves the conversation state (issue 10, anonymity).

``survey_marks``: a keyed hash of (chat, period) per submitted survey, in key order on SQLite
(``WITHOUT ROWID``). The marker the conversation state kept until now (``open_survey``, set
only for surveys without a receipt) told which chats' surveys had no receipt; it is dropped
from the state by the code at the chat's next task, and not carried over here.

Revision ID: 0019_survey_marks
Revises: 0018_accepted_at
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_survey_marks"
down_revision = "0018_accepted_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_marks",
        sa.Column("mark", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("mark", name="pk_survey_marks"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("survey_marks")
