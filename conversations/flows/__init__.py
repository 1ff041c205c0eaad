"""One dialogue flow per module."""

from __future__ import annotations

from . import complaint, staff, survey, tracking

#: Every flow name a conversation row may hold (``conversations.flow``).
FLOWS: frozenset[str] = frozenset(
    {survey.FLOW, complaint.FLOW, tracking.LOOKUP, tracking.SUPPLEMENT, staff.FLOW}
)
