"""Loads the complaint categories (data/complaints.yaml): code, wording, deadline, its basis.

Deadlines common to every category (LAW-2026.md, "Feedback, complaints, denunciations"):
``ACCEPT_DAYS`` to accept, classify and tell the person (Luật Tiếp công dân 42/2013, Điều
28(1)) and ``FORWARD_DAYS`` to forward an out-of-remit case (NĐ 20/2008, Điều 9(1)(d)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from .workdays import WorkCalendar, due_date

DATA = Path(__file__).parent / "data" / "complaints.yaml"
#: Working days to tell the person whether the matter is accepted (Luật Tiếp công dân, Điều 28(1)).
ACCEPT_DAYS = 10
#: Working days to forward a case outside the agency's remit (NĐ 20/2008, Điều 9(1)(d)).
FORWARD_DAYS = 5


@dataclass(frozen=True, slots=True)
class CaseDueDates:
    """The three last days of a case filed at one moment: forward, accept (and tell), resolve."""

    forward: date
    accept: date
    resolve: date


def case_due_dates(
    filed_at: datetime, resolve_days: int, calendar: WorkCalendar, tz: ZoneInfo
) -> CaseDueDates:
    """A new case's deadlines. None falls after the one to resolve: a category resolved in 5
    or 7 working days has no later day to tell the person it was accepted (the 10 days of
    Điều 28 are a maximum; resolving earlier tells them), nor to forward it."""
    resolve = due_date(filed_at, resolve_days, calendar, tz)
    accept = min(due_date(filed_at, ACCEPT_DAYS, calendar, tz), resolve)
    forward = min(due_date(filed_at, FORWARD_DAYS, calendar, tz), accept)
    return CaseDueDates(forward=forward, accept=accept, resolve=resolve)


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    days: int  # target to resolve, in working days
    names: dict[str, str]  # language -> wording
    #: The legal source of ``days``, or "mục tiêu của cơ quan" (the agency's own target).
    basis: str = ""
    #: A tố cáo: explained and sent elsewhere, never filed as góp ý (Luật Tố cáo, Điều 25).
    denunciation: bool = False

    @property
    def key(self) -> str:
        return f"category.{self.code}"

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["vi"]


@cache
def categories() -> tuple[Category, ...]:
    with DATA.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    found = tuple(
        Category(
            str(c["code"]),
            int(c["days"]),
            {"vi": str(c["vi"]), "en": str(c["en"])},
            str(c.get("basis") or ""),
            c.get("denunciation") is True,
        )
        for c in raw["categories"]
    )
    if len({c.code for c in found}) != len(found):
        raise ValueError("complaint category codes must be unique")
    if unsourced := [c.code for c in found if not c.basis.strip()]:
        raise ValueError(f"complaint categories without a basis: {unsourced}")
    return found


def category(code: str) -> Category | None:
    return next((c for c in categories() if c.code == code), None)
