"""Builds the digest and report messages for administrators (pure: figures in, Reply out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from conversations import Number, Reply
from conversations.deadlines import KINDS, Missed
from conversations.effects import Lines, Ref
from conversations.periods import DigestKind, Period, whole
from storage.queries.aggregates import SurveySources

from .dossier_measures import DossierMeasures, dossier_lines
from .sipas_index import Report, Share, asks_prevalence


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """Complaints for the digest: new in the period, overdue, and due within two working days."""

    new: int = 0
    #: Open cases past any of their deadlines, with the ones they missed (the longest first).
    overdue: tuple[tuple[str, tuple[Missed, ...]], ...] = ()
    due_soon: tuple[tuple[str, date], ...] = ()
    open: int = 0
    listed: int = 5  # how many codes to name in each list
    #: Per officer (None: nobody took them): (name, open cases, overdue cases), by name.
    officers: tuple[tuple[str | None, int, int], ...] = ()


#: How many of the weakest criteria a digest names (only those below 100%).
WEAKEST = 3


def _pct(value: float | None) -> Number | Ref:
    return Ref("digest.no_answers") if value is None else Number(value, 2, "%")


def _delta(now: float | None, before: float | None, key: str = "digest.trend") -> Reply:
    if now is None or before is None:
        return Reply("digest.no_trend")
    return Reply(key, (("delta", Number(now - before, 2, "", signed=True)),))


def _share(share: Share) -> Number | Ref:
    return _pct(share.percent)


def _period(period: Period) -> str:
    if period.start == period.end:
        return f"{period.start:%d/%m/%Y}"
    if period.start.year != period.end.year:
        return f"{period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}"
    return f"{period.start:%d/%m}–{period.end:%d/%m/%Y}"


def _title(kind: DigestKind, period: Period) -> tuple[Reply, Lines]:
    """The digest's title names its period as people do (a day, the week's dates, a month, a
    half year, a year), and says when the figures stop short of the period's end."""
    key = f"digest.title.{kind}"
    if kind == "daily":
        title = Reply(key, (("day", _period(period)),))
    elif kind == "weekly":
        title = Reply(key, (("dates", _period(whole(kind, period.start))),))
    elif kind == "monthly":
        title = Reply(key, (("month", f"{period.start:%m/%Y}"),))
    elif kind == "halfyear":
        half = Ref(f"digest.half.{1 if period.start.month <= 6 else 2}")
        title = Reply(key, (("half", half), ("year", str(period.start.year))))
    else:
        title = Reply(key, (("year", str(period.start.year)),))
    if period.end >= whole(kind, period.start).end:
        return title, Lines(())
    return title, Lines((Reply("digest.so_far", (("day", f"{period.end:%d/%m/%Y}"),)),))


def report_lines(report: Report, previous: Report | None) -> list[Reply]:
    """The figures both the digest and an on-demand report show; the first line names the
    SIPAS method they were computed with (one method per report, LAW-2026.md)."""
    lines = [
        Reply("law.method", (("method", report.method_name),)),
        Reply(
            "digest.counts",
            (
                ("completed", report.completed),
                ("in_progress", report.in_progress),
                ("partial", report.partial),
            ),
        ),
        Reply(
            "digest.overall",
            (
                ("index", _pct(report.index)),
                ("base", report.base),
                ("trend", Lines((_delta(report.index, previous.index if previous else None),))),
            ),
        ),
    ]
    before = {e.code: e.index for e in previous.elements} if previous else {}
    for element in report.elements:
        lines.append(
            Reply(
                "digest.element",
                (
                    ("name", Ref(f"{report.method}/element.{element.code}")),
                    ("index", _pct(element.index)),
                    (
                        "trend",
                        Lines(
                            (_delta(element.index, before.get(element.code), "digest.trend_short"),)
                        ),
                    ),
                ),
            )
        )
    weakest = report.weakest(WEAKEST)
    if weakest:
        title = "digest.weakest_title" if len(weakest) > 1 else "digest.weakest_title_one"
        lines.append(Reply(title, (("count", len(weakest)),)))
        lines.extend(
            Reply(
                "digest.weakest",
                (
                    ("code", c.code),
                    ("text", Ref(f"{report.method}/q.{c.code}")),
                    ("index", _pct(c.index)),
                    ("base", c.base),
                ),
            )
            for c in weakest
        )
    elif any(c.index is not None for c in report.criteria()):
        lines.append(Reply("digest.weakest_none"))  # every rated criterion is at 100%
    d = report.descriptive
    lines.append(
        Reply(
            # QĐ 1001 asks how common such conduct is, not whether it happened to the person.
            "law3.digest.flags_prevalence" if asks_prevalence(report.method) else "digest.flags",
            (
                ("trips", d.three_or_more_trips.count),
                ("trips_pct", _share(d.three_or_more_trips)),
                ("late", d.late.count),
                ("apology", d.late_with_apology.count),
                ("payment", d.unofficial_payment.count),
                ("harass", d.harassment.count),
            ),
        )
    )
    if base := sum(d.complaint_ratings):
        # Shown to one decimal from the exact mean: the JSON's two-decimal one rounded again
        # would turn 4.249 into 4.25, then 4.3.
        mean = sum(level * n for level, n in enumerate(d.complaint_ratings, start=1)) / base
        lines.append(Reply("digest.complaint_ratings", (("mean", Number(mean, 1)), ("base", base))))
    return lines


def source_line(sources: SurveySources) -> Reply:
    return Reply(
        "harden.digest.sources",
        (
            ("receipt", sources.receipt),
            ("invitation", sources.invitation),
            ("open", sources.open),
        ),
    )


def case_lines(cases: CaseSummary) -> list[Reply]:
    lines = [Reply("digest.cases", (("new", cases.new), ("open", cases.open)))]
    if cases.overdue:
        named = ", ".join(code for code, _ in cases.overdue[: cases.listed])
        more = len(cases.overdue) - min(len(cases.overdue), cases.listed)
        more_text = f", +{more}" if more else ""
        lines.append(
            Reply(
                "digest.overdue",
                (("count", len(cases.overdue)), ("codes", named), ("more_text", more_text)),
            )
        )
        lines.extend(_missed_lines(cases))
    if cases.due_soon:
        named = ", ".join(code for code, _ in cases.due_soon[: cases.listed])
        lines.append(Reply("digest.due_soon", (("count", len(cases.due_soon)), ("codes", named))))
    for name, open_, late in cases.officers:
        counts = (("open", open_), ("overdue", late))
        if name is None:
            lines.append(Reply("digest.unassigned", counts))
        else:
            lines.append(Reply("digest.officer", (("name", name), *counts)))
    return lines


def _missed_lines(cases: CaseSummary) -> list[Reply]:
    """Under the overdue count: which deadline each was missed (forward, tell the person it
    is accepted, resolve), with the cases, so nobody reads a missed acceptance notice as a
    late answer."""
    lines = []
    for kind in KINDS:
        codes = [code for code, missed in cases.overdue if any(m.kind == kind for m in missed)]
        if not codes:
            continue
        more = len(codes) - min(len(codes), cases.listed)
        params = (
            ("deadline", Ref(f"law2.deadline.{kind}")),
            ("count", len(codes)),
            ("codes", ", ".join(codes[: cases.listed])),
            ("more_text", f", +{more}" if more else ""),
        )
        lines.append(Reply("law2.digest.overdue_kind", params))
    return lines


def build_digest(
    kind: DigestKind,
    period: Period,
    report: Report,
    previous: Report | None,
    cases: CaseSummary,
    agency: str,
    dossiers: DossierMeasures | None = None,
    sources: SurveySources | None = None,
) -> Reply:
    """The digest message: short enough to read on a phone. ``sources``: the completed
    surveys of the report's method by how they opened, shown under the counts line they
    break down (many from the menu and few from receipts is worth a look: those are the ones
    a chat could repeat)."""
    body = report_lines(report, previous)
    if sources is not None:
        counts = next(i for i, line in enumerate(body) if line.key == "digest.counts")
        body.insert(counts + 1, source_line(sources))
    body += case_lines(cases)
    if dossiers is not None:
        body += dossier_lines(dossiers)
    title, so_far = _title(kind, period)
    params = (
        ("title", Lines((title,))),
        ("so_far", so_far),
        ("agency", agency),
        ("lines", Lines(tuple(body))),
    )
    return Reply("digest.message", params)


def build_report_message(
    report: Report,
    previous: Report | None,
    agency: str,
    dossiers: DossierMeasures | None = None,
) -> Reply:
    """``/baocao`` and ``python -m bot report``: the figures for any period, and the dossiers'
    beside them when there were any."""
    lines = report_lines(report, previous)
    if dossiers is not None:
        lines += dossier_lines(dossiers)
    params = (
        ("period", _period(Period(report.start, report.end))),
        ("agency", agency),
        ("lines", Lines(tuple(lines))),
    )
    return Reply("report.message", params)
