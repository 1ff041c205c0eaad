"""Which of an open case's deadlines have passed: forward, accept (and tell), resolve.

A case carries three limits (LAW-2026.md, "Feedback, complaints, denunciations"):
- ``forward``: an out-of-remit case goes to the competent body within 5 working days (NĐ
  20/2008, Điều 9(1)(d)). Staff decide that while the case is new: once someone took it (or
  asked the citizen for more), it is handled here, and forwarding it is no longer due.
- ``accept``: within 10 working days the person is told whether it is accepted, refused,
  needs more time or was forwarded (Luật Tiếp công dân 2013, Điều 28(1)). Any first action
  on a new case tells them (taking it says "đang được xử lý"), so only a case that never left
  "new" can miss it. ``accepted_at`` records that first action: a case handed back to "new"
  by its holder was told and classified already, and owes neither any more.
- ``resolve``: the category's target (``complaints.yaml``), while the case is open; a closed
  case missed it when it was closed after that day.

A case is overdue when any of its open deadlines has passed; the day itself is on time.
This is the one rule: the staff list, the digest and the spreadsheet export all read it
(``storage.queries.complaints`` orders the open cases by the same deadlines in SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

DeadlineKind = Literal["forward", "accept", "resolve"]
#: The deadlines in the order they fall for a new case (5, 10, then the category's days).
KINDS: tuple[DeadlineKind, ...] = ("forward", "accept", "resolve")
OPEN_STATUSES = frozenset({"new", "in_progress", "waiting_citizen"})


@dataclass(frozen=True, slots=True)
class Missed:
    """One passed deadline: which, and the last day it allowed."""

    kind: DeadlineKind
    due: date


def missed_deadlines(
    *,
    status: str,
    today: date,
    due_on: date,
    accept_due_on: date | None = None,
    forward_due_on: date | None = None,
    forwarded_to: str | None = None,
    accepted_at: datetime | None = None,
    closed_on: date | None = None,
) -> tuple[Missed, ...]:
    """The deadlines this case has missed by ``today`` (local date), earliest first; empty
    for one on time. A closed case missed only the day to resolve, if ``closed_on`` (local
    date) was after it."""
    if status not in OPEN_STATUSES:
        late = closed_on is not None and closed_on > due_on
        return (Missed("resolve", due_on),) if late else ()
    found: list[Missed] = []
    if status == "new" and accepted_at is None:
        if forwarded_to is None and forward_due_on is not None and today > forward_due_on:
            found.append(Missed("forward", forward_due_on))
        if accept_due_on is not None and today > accept_due_on:
            found.append(Missed("accept", accept_due_on))
    if today > due_on:
        found.append(Missed("resolve", due_on))
    return tuple(sorted(found, key=lambda m: (m.due, KINDS.index(m.kind))))


class HasDeadlines(Protocol):
    """A case as staff lists and digests read it (a case's facts, or a storage row)."""

    @property
    def status(self) -> str: ...
    @property
    def due_on(self) -> date: ...
    @property
    def accept_due_on(self) -> date | None: ...
    @property
    def forward_due_on(self) -> date | None: ...
    @property
    def forwarded_to(self) -> str | None: ...
    @property
    def accepted_at(self) -> datetime | None: ...


def missed_by(case: HasDeadlines, today: date, closed_on: date | None = None) -> tuple[Missed, ...]:
    """``missed_deadlines`` of a case (``closed_on``: the local day a closed one closed)."""
    return missed_deadlines(
        status=case.status,
        today=today,
        due_on=case.due_on,
        accept_due_on=case.accept_due_on,
        forward_due_on=case.forward_due_on,
        forwarded_to=case.forwarded_to,
        accepted_at=case.accepted_at,
        closed_on=closed_on,
    )
