"""Typed outbox: each row holds one typed message; image and document bytes in outbox_blobs.

Rows still waiting (pending or held) in the old form, a ``{"op": …}`` dict with base64 bytes
inside, are rewritten to the typed form so nothing queued before the upgrade is lost.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import base64
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.types import BigId

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_blobs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_blobs"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("blob_id", BigId))
        batch.create_foreign_key(
            "fk_outbox_blob_id_outbox_blobs",
            "outbox_blobs",
            ["blob_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(
        "ix_outbox_channel_status_chat_id_id", "outbox", ["channel", "status", "chat_id", "id"]
    )
    _retype_waiting_rows()


def _retype(old: dict[str, Any]) -> tuple[dict[str, Any], tuple[bytes, str] | None]:
    op_name = old.get("op", "send")
    choices = old.get("choices") or []
    key = str(old.get("key", ""))
    if op_name == "edit":
        body = {
            "kind": "edit",
            "message_id": str(old.get("message_id", "")),
            "text": str(old.get("text", "")),
        }
        return {**body, "choices": choices, "key": key}, None
    if op_name == "file":
        return {
            "kind": "file",
            "file_id": int(old["file"]),
            "caption": str(old.get("text") or ""),
        }, None
    if op_name in ("photo", "document"):
        data = base64.b64decode(str(old.get("data", "")))
        kind = "image" if op_name == "photo" else "document"
        body = {"kind": kind, "caption": str(old.get("text") or ""), "summary": ""}
        return body, (data, str(old.get("name") or "file"))
    return {"kind": "text", "text": str(old.get("text", "")), "choices": choices, "key": key}, None


def _retype_waiting_rows() -> None:
    conn = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("id"),
        sa.column("payload", sa.JSON),
        sa.column("status"),
        sa.column("blob_id"),
    )
    blobs = sa.table("outbox_blobs", sa.column("id"), sa.column("name"), sa.column("data"))
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.status.in_(("pending", "held")))
    ).all()
    for row_id, payload in rows:
        old = json.loads(payload) if isinstance(payload, str) else (payload or {})
        if "kind" in old:
            continue
        body, blob = _retype(old)
        blob_id = None
        if blob is not None:
            blob_id = conn.execute(
                blobs.insert().values(data=blob[0], name=blob[1][:200]).returning(blobs.c.id)
            ).scalar_one()
        conn.execute(
            outbox.update().where(outbox.c.id == row_id).values(payload=body, blob_id=blob_id)
        )


def downgrade() -> None:
    op.drop_index("ix_outbox_channel_status_chat_id_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_blob_id_outbox_blobs", type_="foreignkey")
        batch.drop_column("blob_id")
    op.drop_table("outbox_blobs")
