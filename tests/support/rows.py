"""Rows laid out by hand for storage and job tests, with what the schema requires filled in."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def complaint_row(code: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """A ``complaints`` row: an anonymous case of category ``khac`` with no contact, filed and
    last changed at ``at``, due that day; ``fields`` change any column."""
    return {
        "code": code,
        "category": "khac",
        "description": "Phản ánh về công trình xây dựng",
        "status": "new",
        "source": "telegram",
        "contact_id": None,
        "anonymous": True,
        "language": "vi",
        "created_at": at,
        "updated_at": at,
        "due_on": at.date(),
        **fields,
    }
