"""Rounds ``contacts.created_at`` down to the hour, as new contacts now get it: to the second,
next to a log's times, it told which chat wrote first when (issue 10, anonymity). Its one
reader, the digests' first contact, wants only the day. No downgrade gives the seconds back.

Revision ID: 0026_contact_hour
Revises: 0025_dossier_short_codes
"""

from __future__ import annotations

from alembic import op

revision = "0026_contact_hour"
down_revision = "0025_dossier_short_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Naive UTC text, as storage.types.UTCDateTime writes it.
        op.execute(
            "UPDATE contacts SET created_at = strftime('%Y-%m-%d %H:00:00.000000', created_at)"
        )
    else:
        # In UTC whatever the session's zone (date_trunc of a timestamptz uses it).
        op.execute(
            "UPDATE contacts SET created_at = "
            "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        )


def downgrade() -> None:
    pass  # the seconds are gone; hour-rounded times are valid for the older schema
