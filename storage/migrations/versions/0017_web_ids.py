"""The web chat's message ids never come back after a delete (SQLite AUTOINCREMENT).

When a survey ends, the visitor's page history of it (questions and "→ answer" echoes) is
deleted. On SQLite a plain rowid table then gives the next message (the closing thanks) the
id of a deleted row, at or below the last id the open page showed, and the page never shows
it. PostgreSQL's sequence never gives an id twice: nothing to change there.

Revision ID: 0017_web_ids
Revises: 0016_consent_wording
"""

from __future__ import annotations

from alembic import op

revision = "0017_web_ids"
down_revision = "0016_consent_wording"
branch_labels = None
depends_on = None


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "web_messages", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        # No column changes: recreate="always" copies the table into a new one created with
        # (or without) AUTOINCREMENT, which is the whole change.
        pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
