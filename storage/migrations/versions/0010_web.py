"""Web chat: what each visitor's browser was sent, and the files visitors attach.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("data", sa.LargeBinary),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_messages"),
    )
    op.create_index("ix_web_messages_chat_id_id", "web_messages", ["chat_id", "id"])
    op.create_index("ix_web_messages_created_at", "web_messages", ["created_at"])
    op.create_table(
        "web_uploads",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_uploads"),
        sa.UniqueConstraint("token", name="uq_web_uploads_token"),
    )
    op.create_index("ix_web_uploads_created_at", "web_uploads", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_web_uploads_created_at", "web_uploads")
    op.drop_table("web_uploads")
    op.drop_index("ix_web_messages_created_at", "web_messages")
    op.drop_index("ix_web_messages_chat_id_id", "web_messages")
    op.drop_table("web_messages")
