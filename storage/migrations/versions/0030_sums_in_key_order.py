"""SQLite stores ``survey_daily_counts`` and ``dossier_answer_days`` in key order (issue 10,
anonymity): both were rowid tables, and a row's rowid is given when it is made, by the first
survey of the day with its key (procedure, field, status; a whole number of days after a
hand-over). Read in rowid order, as a plain ``SELECT`` does, the rows listed the first
surveys of each day in the order they ended (started, for the days after a hand-over).
``WITHOUT ROWID``, like ``survey_daily``, ``survey_marks`` and ``answers``, they lie in key
order. The rows are copied over; the old table's pages are freed, and zeroed
(``secure_delete``). PostgreSQL has no rowid: nothing changes there (its row order is the
restamp's and the ``CLUSTER``'s, ``storage.queries.rewrites``).

Revision ID: 0030_sums_in_key_order
Revises: 0029_invite_ended
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0030_sums_in_key_order"
down_revision = "0029_invite_ended"
branch_labels = None
depends_on = None


def _counts(with_rowid: bool) -> sa.Table:
    return sa.Table(
        "survey_daily_counts",
        sa.MetaData(),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("field", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "procedure", "field", "status", "method", name="pk_survey_daily_counts"
        ),
        sqlite_with_rowid=with_rowid,
    )


def _answer_days(with_rowid: bool) -> sa.Table:
    return sa.Table(
        "dossier_answer_days",
        sa.MetaData(),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("days", sa.SmallInteger, autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("day", "days", name="pk_dossier_answer_days"),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild(make: Callable[[bool], sa.Table], with_rowid: bool) -> None:
    """Recreates the table (SQLite cannot switch a table's rowid off or on in place) and
    copies its rows back."""
    table = make(with_rowid)
    kept = f"{table.name}_0030"
    listed = ", ".join(c.name for c in table.columns)
    op.rename_table(table.name, kept)
    table.create(op.get_bind())
    op.execute(f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM {kept}")
    op.drop_table(kept)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(_counts, with_rowid=False)
    _rebuild(_answer_days, with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(_counts, with_rowid=True)
    _rebuild(_answer_days, with_rowid=True)
