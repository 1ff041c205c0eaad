"""The law in force in 2026: aggregates keyed by SIPAS method; complaint address, the
deadline to accept and notify, and forwarding to the competent body.

- ``survey_daily`` and ``survey_daily_counts`` gain ``method`` (sipas-1001 / sipas-2640) in
  their keys, so an index is never summed across two methods (QĐ 1001/QĐ-BNV replaced QĐ
  2640/QĐ-BNV; LAW-2026.md). Every row already stored counts 2640 surveys, the only form
  before this revision.
- ``complaints`` gains ``reporter_address`` (NĐ 20/2008, Điều 7(1): a named submission states
  name, address and phone), ``accept_due_on`` (Luật Tiếp công dân 2013, Điều 28(1): tell the
  person within 10 working days whether the matter is accepted), and ``forwarded_to``,
  ``forwarded_on``, ``forward_due_on`` (NĐ 20/2008, Điều 9(1)(d): forward to the competent
  body within 5 working days).

Revision ID: 0012_law
Revises: 0011_input
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012_law"
down_revision = "0011_input"
branch_labels = None
depends_on = None

_LEGACY = "sipas-2640"
_DAILY = ("day", "procedure", "field", "item", "value", "count")
_COUNTS = ("day", "procedure", "field", "status", "count")


def _daily_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("field", sa.String(128), nullable=False),
        sa.Column("item", sa.String(16), nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    ]


def _counts_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("field", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    ]


def _rebuild(table: str, columns: tuple[str, ...], make: sa.Table) -> None:
    """Moves ``table``'s rows aside, recreates it with ``make`` (the key gains ``method``) and
    copies them back as 2640's. Neither database changes a primary key in place while keeping
    survey_daily a WITHOUT ROWID table on SQLite; a plain copy works alike on both."""
    kept = f"{table}_0012"
    listed = ", ".join(columns)
    op.execute(f"CREATE TABLE {kept} AS SELECT {listed} FROM {table}")
    op.drop_table(table)
    make.create(op.get_bind())
    op.execute(f"INSERT INTO {table} (method, {listed}) SELECT '{_LEGACY}', {listed} FROM {kept}")
    op.drop_table(kept)


def upgrade() -> None:
    meta = sa.MetaData()
    daily = sa.Table(
        "survey_daily",
        meta,
        *_daily_columns(),
        sa.Column("method", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint(
            "item", "value", "day", "method", "procedure", "field", name="pk_survey_daily"
        ),
        sqlite_with_rowid=False,
    )
    counts = sa.Table(
        "survey_daily_counts",
        meta,
        *_counts_columns(),
        sa.Column("method", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "procedure", "field", "status", "method", name="pk_survey_daily_counts"
        ),
    )
    _rebuild("survey_daily", _DAILY, daily)
    _rebuild("survey_daily_counts", _COUNTS, counts)
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("reporter_address", sa.String(200)))
        batch.add_column(sa.Column("accept_due_on", sa.Date))
        batch.add_column(sa.Column("forwarded_to", sa.String(200)))
        batch.add_column(sa.Column("forwarded_on", sa.Date))
        batch.add_column(sa.Column("forward_due_on", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        for column in (
            "forward_due_on",
            "forwarded_on",
            "forwarded_to",
            "accept_due_on",
            "reporter_address",
        ):
            batch.drop_column(column)
    meta = sa.MetaData()
    daily = sa.Table(
        "survey_daily",
        meta,
        *_daily_columns(),
        sa.PrimaryKeyConstraint(
            "item", "value", "day", "procedure", "field", name="pk_survey_daily"
        ),
        sqlite_with_rowid=False,
    )
    counts = sa.Table(
        "survey_daily_counts",
        meta,
        *_counts_columns(),
        sa.PrimaryKeyConstraint(
            "day", "procedure", "field", "status", name="pk_survey_daily_counts"
        ),
    )
    # Going back keeps the 2640 rows only: the old key cannot tell two methods apart.
    _rebuild_down("survey_daily", _DAILY, daily)
    _rebuild_down("survey_daily_counts", _COUNTS, counts)


def _rebuild_down(table: str, columns: tuple[str, ...], make: sa.Table) -> None:
    kept = f"{table}_0012"
    listed = ", ".join(columns)
    op.execute(f"CREATE TABLE {kept} AS SELECT method, {listed} FROM {table}")
    op.drop_table(table)
    make.create(op.get_bind())
    op.execute(
        f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {kept} WHERE method = '{_LEGACY}'"
    )
    op.drop_table(kept)
