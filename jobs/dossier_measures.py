"""Measures of dossiers for leaders, beside the SIPAS index of the same period (pure).

From storage's counts and the dossiers completed in the period: how many were followed by chat,
the response rate of invitations and how soon their surveys were started, the share on time and late
per procedure, and the share resolved within half of the legal time limit (the plan in
``../shared/reference/`` aims at 50% of the legal limit; the limit per procedure is data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conversations import Number, Reply
from conversations.effects import Lines, Ref
from conversations.workdays import WorkCalendar
from storage.queries.dossier_report import CompletedDossier, DossierCounts

from .sipas_index import Share

#: Answer delays are counted in whole days, 7 meaning a week or more.
WEEK_OR_MORE = 7
#: Procedures listed by name in a chat message (the export lists them all).
LISTED_PROCEDURES = 8
#: A procedure's SIPAS index is shown only from this many surveys on (fewer: the count
#: alone). With a single receipt of a procedure used in the period, its index would be that
#: citizen's answers, and whoever handed out the receipts knows whose (README, "Survey
#: anonymity").
MIN_PROCEDURE_BASE = 5


@dataclass(frozen=True, slots=True)
class ProcedureMeasures:
    procedure: str
    name: str | None
    completed: int
    on_time: int
    with_limit: int
    within_half: int
    sipas_index: float | None = None
    sipas_base: int = 0

    @property
    def late(self) -> int:
        return self.completed - self.on_time

    @property
    def on_time_share(self) -> Share:
        return Share(self.on_time, self.completed)

    @property
    def late_share(self) -> Share:
        return Share(self.late, self.completed)

    @property
    def half_share(self) -> Share:
        return Share(self.within_half, self.with_limit)


@dataclass(frozen=True, slots=True)
class DossierMeasures:
    counts: DossierCounts
    #: Answers by whole days after the hand-over: index 0..7 (7: a week or more).
    answer_days: tuple[int, ...]
    procedures: tuple[ProcedureMeasures, ...]
    sipas_index: float | None = None

    @property
    def empty(self) -> bool:
        """Nothing about dossiers happened in the period (the report leaves them out)."""
        c = self.counts
        return not (c.registered or c.invited or self.procedures or sum(self.answer_days))

    @property
    def followed(self) -> Share:
        return Share(self.counts.followed, self.counts.registered)

    @property
    def response_rate(self) -> Share:
        return Share(self.counts.answered, self.counts.invited)

    @property
    def answered_within_a_day(self) -> Share:
        return Share(self.answer_days[0] if self.answer_days else 0, sum(self.answer_days))

    @property
    def median_days(self) -> int | None:
        """Whole days from hand-over to the start of the median survey (7: a week or more)."""
        total = sum(self.answer_days)
        if total == 0:
            return None
        seen = 0
        for days, n in enumerate(self.answer_days):
            seen += n
            if 2 * seen >= total:
                return days
        return WEEK_OR_MORE

    def total(self) -> ProcedureMeasures:
        def add(name: str) -> int:
            return sum(getattr(p, name) for p in self.procedures)

        return ProcedureMeasures(
            "", None, add("completed"), add("on_time"), add("with_limit"), add("within_half"),
            self.sipas_index,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        def share(s: Share) -> dict[str, Any]:
            return {"count": s.count, "base": s.base, "percent": s.percent}

        def figures(p: ProcedureMeasures) -> dict[str, Any]:
            return {
                "completed": p.completed,
                "on_time": share(p.on_time_share),
                "late": share(p.late_share),
                "within_half_legal_limit": share(p.half_share),
                "sipas_index": p.sipas_index,
                "sipas_base": p.sipas_base,
            }

        return {
            "registered": self.counts.registered,
            "followed": share(self.followed),
            "invitations": {
                "sent": self.counts.invited,
                "answered": self.counts.answered,
                "in_progress": self.counts.in_progress,
                "response_rate": self.response_rate.percent,
            },
            "answer_days": {
                "by_days": list(self.answer_days),
                "median": self.median_days,
                "within_a_day": share(self.answered_within_a_day),
            },
            "completed": figures(self.total()),
            "procedures": [
                {"procedure": p.procedure, "name": p.name, **figures(p)} for p in self.procedures
            ],
        }


def _working_days(calendar: WorkCalendar, row: CompletedDossier) -> int:
    return max(0, calendar.workdays_between(row.received_on, row.completed_on))


def compute(
    counts: DossierCounts,
    completed: Sequence[CompletedDossier],
    answer_days: Mapping[int, int],
    calendar: WorkCalendar,
    sipas: Mapping[str, tuple[float | None, int]] | None = None,
    sipas_index: float | None = None,
) -> DossierMeasures:
    """The measures; ``sipas``: the index and its base per procedure for the same period.

    On time: the result was made on or before the date first promised (a later date on an
    apology slip does not make it on time). Within half the legal limit: the working days after
    the day received, up to the day the result was made, are at most half the limit.
    """
    by_procedure: dict[str, list[CompletedDossier]] = {}
    for row in completed:
        by_procedure.setdefault(row.procedure, []).append(row)
    sipas = sipas or {}
    procedures = []
    for code, rows in by_procedure.items():
        limited = [r for r in rows if r.legal_days]
        index, base = sipas.get(code, (None, 0))
        if base < MIN_PROCEDURE_BASE:
            index = None  # too few to show without showing someone's answers
        procedures.append(
            ProcedureMeasures(
                procedure=code,
                name=next((r.procedure_name for r in rows if r.procedure_name), None),
                completed=len(rows),
                on_time=sum(1 for r in rows if r.completed_on <= r.due_on),
                with_limit=len(limited),
                within_half=sum(
                    1 for r in limited if 2 * _working_days(calendar, r) <= (r.legal_days or 0)
                ),
                sipas_index=index,
                sipas_base=base,
            )
        )
    procedures.sort(key=lambda p: (-p.completed, p.procedure))
    days = tuple(answer_days.get(d, 0) for d in range(WEEK_OR_MORE + 1))
    return DossierMeasures(counts, days, tuple(procedures), sipas_index)


# --- in words ----------------------------------------------------------------------------------


def _pct(share: Share) -> Number | Ref:
    return Ref("digest.no_answers") if share.percent is None else Number(share.percent, 2, "%")


def _days(days: int | None) -> Reply:
    if days is None:
        return Reply("dossier.report.days_none")
    if days == 0:
        return Reply("dossier.report.days_under_one")
    if days >= WEEK_OR_MORE:
        return Reply("dossier.report.days_week")
    return Reply("dossier.report.days", (("n", days),))


def _index(value: float | None) -> Number | Ref:
    return Ref("digest.no_answers") if value is None else Number(value, 2, "%")


def _procedure_index(p: ProcedureMeasures) -> Number | Ref | Lines:
    """A procedure's index, or why it is not shown (too few surveys to show it anonymously)."""
    if p.sipas_index is None and p.sipas_base:
        return Lines((Reply("harden7.too_few", (("min", MIN_PROCEDURE_BASE),)),))
    return _index(p.sipas_index)


def dossier_lines(m: DossierMeasures, listed: int = LISTED_PROCEDURES) -> list[Reply]:
    """The lines reports and digests add about dossiers (none when nothing happened)."""
    if m.empty:
        return []
    c = m.counts
    total = m.total()
    lines = [
        Reply("dossier.report.title"),
        Reply(
            "dossier.report.followed",
            (("registered", c.registered), ("followed", c.followed), ("share", _pct(m.followed))),
        ),
        Reply(
            "dossier.report.invitations",
            (("invited", c.invited), ("answered", c.answered), ("rate", _pct(m.response_rate))),
        ),
        Reply(
            "dossier.report.answer_time",
            (
                ("median", Lines((_days(m.median_days),))),
                ("within_day", _pct(m.answered_within_a_day)),
            ),
        ),
        Reply(
            "dossier.report.completed",
            (
                ("completed", total.completed),
                ("on_time", total.on_time),
                ("on_time_pct", _pct(total.on_time_share)),
                ("late", total.late),
                ("late_pct", _pct(total.late_share)),
            ),
        ),
        Reply(
            "dossier.report.half",
            (
                ("within", total.within_half),
                ("base", total.with_limit),
                ("pct", _pct(total.half_share)),
                ("sipas", _index(m.sipas_index)),
            ),
        ),
    ]
    for p in m.procedures[:listed]:
        lines.append(
            Reply(
                "dossier.report.procedure",
                (
                    ("name", p.name or p.procedure),
                    ("completed", p.completed),
                    ("on_time_pct", _pct(p.on_time_share)),
                    ("late_pct", _pct(p.late_share)),
                    ("half_pct", _pct(p.half_share)),
                    ("sipas", _procedure_index(p)),
                    ("base", p.sipas_base),
                ),
            )
        )
    if len(m.procedures) > listed:
        lines.append(Reply("dossier.report.more", (("count", len(m.procedures) - listed),)))
    return lines
