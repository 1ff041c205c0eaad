"""What the engine's table tests share: a fixed clock, a conversation walked through events,
and a dossier's facts with defaults (each test names only what it is about)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from conversations import ConversationState, DossierFacts, Inbound, handle
from conversations.context import ComplaintFacts, Env, Facts

#: 30/11/2026 10:00 in Hanoi; ids counted from 10^12.
ENV = Env(now=datetime(2026, 11, 30, 3, tzinfo=UTC), new_id=itertools.count(10**12).__next__)

#: A dossier as the one-stop shop registers it (override what a test is about).
DOSSIER = DossierFacts(
    id=42,
    code="HS-2026-0042",
    token="Tok0123456789abcdefghijk",
    procedure="1.009972",
    received_on=date(2026, 2, 2),
    due_on=date(2026, 3, 2),
    status="received",
)


def walk(
    *events: Inbound, env: Env = ENV, facts: Facts | None = None, language: str = "vi"
) -> ConversationState:
    """The state a new conversation is in after ``events``, each handled in turn."""
    state = ConversationState(language=language)
    for event in events:
        state = handle(state, event, env, facts).state or state
    return state


def dossier(**fields: Any) -> DossierFacts:
    """:data:`DOSSIER` with ``fields`` changed."""
    return replace(DOSSIER, **fields)


#: A complaint as staff see it (override what a test is about).
COMPLAINT = ComplaintFacts(
    code="PA-2026-000123",
    category="capphep",
    status="new",
    description="Công trình lấn chiếm vỉa hè.",
    source="telegram",
    anonymous=False,
    name="Trần Văn Ba",
    phone="0912345678",
    language="vi",
    created_at=datetime(2026, 11, 30, 2, tzinfo=UTC),
    due_on=date(2026, 12, 14),
    owned=False,
    reachable=True,
)


def complaint(**fields: Any) -> ComplaintFacts:
    """:data:`COMPLAINT` with ``fields`` changed."""
    return replace(COMPLAINT, **fields)
