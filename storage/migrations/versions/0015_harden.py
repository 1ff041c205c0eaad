"""Anonymity by construction: no response names its receipt, rows lie in random order,
consents can be emptied of their chat, and a place for the secrets made on first run.

- ``survey_responses.receipt_id`` is dropped; the survey's status moves onto the receipt
  (``receipts.survey_status``) and the response keeps only ``with_receipt``.
- On SQLite the response id becomes the rowid and ``answers`` a WITHOUT ROWID table, so both
  lie in the order of the random response ids, not in the order people answered.
- ``consents.contact_id`` may be empty (emptied once the survey ends).
- ``local_secrets``: the log salt generated when ``RECEIPT_SECRET`` is not set.
- ``complaint_files.channel_file_id`` takes 2,048 characters (a Zalo URL passed 256).

Revision ID: 0015_harden
Revises: 0014_zalo
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0015_harden"
down_revision = "0014_zalo"
branch_labels = None
depends_on = None

_RESPONSE_COLUMNS = (
    "id, questionnaire, status, with_receipt, procedure, field, started_at, ended_at, "
    "completed_at, handed_over_month"
)
_ANSWER_COLUMNS = "response_id, item, value_int, value_text"


def _responses(name: str, *, with_receipt_id: bool = False) -> None:
    columns: list[sa.Column[Any]] = [
        sa.Column("id", BigId, autoincrement=False, nullable=False),
        sa.Column("questionnaire", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    ]
    if with_receipt_id:
        columns.append(sa.Column("receipt_id", BigId))
    else:
        columns.append(
            sa.Column("with_receipt", sa.Boolean, nullable=False, server_default=sa.false())
        )
    columns += [
        sa.Column("procedure", sa.String(64)),
        sa.Column("field", sa.String(128)),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("completed_at", UTCDateTime),
        sa.Column("handed_over_month", sa.Date),
    ]
    constraints: list[sa.Constraint] = [sa.PrimaryKeyConstraint("id", name="pk_survey_responses")]
    if with_receipt_id:
        constraints += [
            sa.ForeignKeyConstraint(
                ["receipt_id"], ["receipts.id"], name="fk_survey_responses_receipt_id_receipts"
            ),
            sa.UniqueConstraint("receipt_id", name="uq_survey_responses_receipt_id"),
        ]
    op.create_table(name, *columns, *constraints)


def _answers(name: str, *, foreign_key: bool) -> None:
    constraints: list[sa.Constraint] = [
        sa.PrimaryKeyConstraint("response_id", "item", name=f"pk_{name}")
    ]
    if foreign_key:
        constraints.append(
            sa.ForeignKeyConstraint(
                ["response_id"],
                ["survey_responses.id"],
                name="fk_answers_response_id_survey_responses",
                ondelete="CASCADE",
            )
        )
    op.create_table(
        name,
        sa.Column("response_id", sa.BigInteger, nullable=False),
        sa.Column("item", sa.String(16), nullable=False),
        sa.Column("value_int", sa.SmallInteger),
        sa.Column("value_text", sa.Text),
        *constraints,
        sqlite_with_rowid=False,
    )


def _rebuild_sqlite(*, with_receipt_id: bool, select_responses: str) -> None:
    """SQLite cannot change a primary key's type nor drop a referenced column in place, and
    foreign keys cannot be switched off inside the migration's transaction: dropping the
    parent table would cascade into ``answers``. So the answers are set aside in a table
    without a foreign key, both tables are rebuilt, and the answers are put back."""
    _answers("_answers_kept", foreign_key=False)
    op.execute(
        f"INSERT INTO _answers_kept ({_ANSWER_COLUMNS}) SELECT {_ANSWER_COLUMNS} FROM answers"
    )
    op.drop_table("answers")
    _responses("_responses_new", with_receipt_id=with_receipt_id)
    op.execute(select_responses)
    op.drop_index("ix_survey_responses_status_completed_at", "survey_responses")
    op.drop_table("survey_responses")
    op.rename_table("_responses_new", "survey_responses")
    op.create_index(
        "ix_survey_responses_status_completed_at", "survey_responses", ["status", "completed_at"]
    )
    _answers("answers", foreign_key=True)
    op.execute(
        f"INSERT INTO answers ({_ANSWER_COLUMNS}) SELECT {_ANSWER_COLUMNS} FROM _answers_kept"
    )
    op.drop_table("_answers_kept")


def upgrade() -> None:
    op.add_column("receipts", sa.Column("survey_status", sa.String(16)))
    op.execute(
        "UPDATE receipts SET survey_status = (SELECT status FROM survey_responses "
        "WHERE survey_responses.receipt_id = receipts.id)"
    )
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(
            with_receipt_id=False,
            select_responses=(
                f"INSERT INTO _responses_new ({_RESPONSE_COLUMNS}) SELECT "
                f"{_RESPONSE_COLUMNS.replace('with_receipt', 'receipt_id IS NOT NULL')} "
                "FROM survey_responses ORDER BY id"
            ),
        )
    else:
        op.add_column(
            "survey_responses",
            sa.Column("with_receipt", sa.Boolean, nullable=False, server_default=sa.false()),
        )
        op.execute("UPDATE survey_responses SET with_receipt = receipt_id IS NOT NULL")
        op.drop_constraint("uq_survey_responses_receipt_id", "survey_responses", type_="unique")
        op.drop_constraint(
            "fk_survey_responses_receipt_id_receipts", "survey_responses", type_="foreignkey"
        )
        op.drop_column("survey_responses", "receipt_id")
    with op.batch_alter_table("consents") as batch:
        batch.alter_column("contact_id", existing_type=BigId, nullable=True)
    # A Zalo file URL over 256 characters failed the whole batch on PostgreSQL (and the
    # complaint with it); conversations.limits.MAX_FILE_ID_CHARS is the new bound.
    with op.batch_alter_table("complaint_files") as batch:
        batch.alter_column("channel_file_id", existing_type=sa.String(256), type_=sa.String(2048))
    op.create_table(
        "local_secrets",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_local_secrets"),
    )


def downgrade() -> None:
    """Back to the old tables; which receipt a response came from is not known any more."""
    op.drop_table("local_secrets")
    with op.batch_alter_table("complaint_files") as batch:
        batch.alter_column("channel_file_id", existing_type=sa.String(2048), type_=sa.String(256))
    op.execute("DELETE FROM consents WHERE contact_id IS NULL")
    with op.batch_alter_table("consents") as batch:
        batch.alter_column("contact_id", existing_type=BigId, nullable=False)
    old_columns = _RESPONSE_COLUMNS.replace("with_receipt, ", "")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(
            with_receipt_id=True,
            select_responses=(
                f"INSERT INTO _responses_new ({old_columns}) SELECT {old_columns} "
                "FROM survey_responses"
            ),
        )
    else:
        op.add_column("survey_responses", sa.Column("receipt_id", BigId))
        op.create_foreign_key(
            "fk_survey_responses_receipt_id_receipts",
            "survey_responses",
            "receipts",
            ["receipt_id"],
            ["id"],
        )
        op.create_unique_constraint(
            "uq_survey_responses_receipt_id", "survey_responses", ["receipt_id"]
        )
        op.drop_column("survey_responses", "with_receipt")
    op.drop_column("receipts", "survey_status")
