"""Adds ``conversations.notice_question``: the question (``"rate:PA-…"``, ``"supp:PA-…"``) a
notice queued for the chat asks by its buttons, read and cleared at the chat's next event, so
that a rating request delivered inside Zalo's window is answered by typing "5" as one re-sent
is (issue 15, re-tester #2). NULL otherwise.

Revision ID: 0027_notice_question
Revises: 0026_contact_hour
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_notice_question"
down_revision = "0026_contact_hour"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("notice_question", sa.String(80)))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("notice_question")
