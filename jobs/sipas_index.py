"""Computes the SIPAS indices and descriptive indicators from aggregated answer counts.

The formula is SIPAS.md's: a criterion's index is the share of level 4 and 5 answers among its
answers (skips excluded); an element's index is the mean of its criteria's indices (those with
an answer); the overall index is the mean of the element indices (an element with no answer is
left out and named). Pure: storage supplies the counts.

An index is computed over one method's questionnaire only (QĐ 1001/QĐ-BNV's 19 criteria or QĐ
2640/QĐ-BNV's 22 criteria, LAW-2026.md): the counts passed in must be that method's, and the
report names it (``Report.method``), so two methods are never averaged together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from conversations import DEFAULT_METHOD, Questionnaire, load_questionnaire, round_half_up

#: (item, value) -> how many completed surveys gave that value. Ratings use "1".."5";
#: multi-select answers count once per option; ``E<k>`` / ``E*`` with value "answered" count
#: the surveys that rated at least one criterion of element k / of any element.
Counts = Mapping[tuple[str, str], int]


@dataclass(frozen=True, slots=True)
class CriterionIndex:
    code: str
    levels: tuple[int, int, int, int, int]  # answers at levels 1..5
    index: float | None
    mean: float | None

    @property
    def base(self) -> int:
        return sum(self.levels)


@dataclass(frozen=True, slots=True)
class ElementIndex:
    code: str
    index: float | None
    base: int
    criteria: tuple[CriterionIndex, ...]


@dataclass(frozen=True, slots=True)
class Share:
    """A count out of a base, with its percentage (None when the base is 0)."""

    count: int
    base: int

    @property
    def percent(self) -> float | None:
        return None if self.base == 0 else round_half_up(100 * self.count / self.base, 2)


@dataclass(frozen=True, slots=True)
class Descriptive:
    channels: tuple[tuple[str, int], ...]  # information channels, most named first
    #: "0" (1001 only: no visit needed), "1", "2", "3", "4" (4 = four or more)
    trips: tuple[tuple[str, int], ...]
    three_or_more_trips: Share
    late: Share
    late_with_apology: Share
    harassment: Share
    unofficial_payment: Share
    expectations: tuple[tuple[str, int], ...]  # ranked
    complaint_ratings: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    #: How the dossier was submitted (1001 only): inperson, online_partial, online_full, post.
    submission: tuple[tuple[str, int], ...] = ()

    @property
    def complaint_rating_mean(self) -> float | None:
        base = sum(self.complaint_ratings)
        if base == 0:
            return None
        return round_half_up(
            sum((i + 1) * n for i, n in enumerate(self.complaint_ratings)) / base, 2
        )


@dataclass(frozen=True, slots=True)
class Report:
    start: date
    end: date
    #: Surveys ended in the period: completed (the only ones counted), or partial: ended
    #: unfinished, cancelled by the citizen or expired. Surveys started in the period and
    #: still going on are ``in_progress``: they may yet be completed.
    completed: int
    partial: int
    index: float | None
    base: int
    elements: tuple[ElementIndex, ...]
    descriptive: Descriptive
    procedure: str | None = None
    field: str | None = None
    in_progress: int = 0
    names: Mapping[str, str] = dataclasses.field(
        default_factory=dict
    )  # element/criterion code -> name
    #: The SIPAS method (questionnaire id) every figure of this report comes from.
    method: str = DEFAULT_METHOD
    #: That method's decision, in the report's language ("Quyết định 1001/QĐ-BNV …").
    method_name: str = ""

    @property
    def without_answers(self) -> tuple[str, ...]:
        """Elements left out of the overall index for want of any answer."""
        return tuple(e.code for e in self.elements if e.index is None)

    def criteria(self) -> list[CriterionIndex]:
        return [c for e in self.elements for c in e.criteria]

    def weakest(self, n: int = 3) -> list[CriterionIndex]:
        """The ``n`` rated criteria with the lowest index, lowest first. A criterion at 100%
        has nothing to improve: it is never listed, so fewer than ``n`` (or none) may come."""
        below = [c for c in self.criteria() if c.index is not None and c.index < 100]
        return sorted(below, key=lambda c: (c.index, -c.base, c.code))[:n]

    def to_json(self) -> dict[str, Any]:
        """The report JSON of the interface contract (figures are percentages, 2 decimals)."""
        return {
            "method": self.method,
            "method_name": self.method_name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "completed": self.completed,
            "partial": self.partial,
            "in_progress": self.in_progress,
            "procedure": self.procedure,
            "field": self.field,
            "overall": {"index": self.index, "base": self.base},
            "elements": [
                {
                    "code": e.code,
                    "name": self.names.get(e.code, e.code),
                    "index": e.index,
                    "base": e.base,
                    "criteria": [
                        {
                            "code": c.code,
                            "name": self.names.get(c.code, c.code),
                            "index": c.index,
                            "base": c.base,
                            "mean": c.mean,
                            "levels": list(c.levels),
                        }
                        for c in e.criteria
                    ],
                }
                for e in self.elements
            ],
            "elements_without_answers": list(self.without_answers),
            "descriptive": _descriptive_json(self.descriptive),
        }


def _share_json(share: Share) -> dict[str, Any]:
    return {"count": share.count, "base": share.base, "percent": share.percent}


def _descriptive_json(d: Descriptive) -> dict[str, Any]:
    return {
        "channels": dict(d.channels),
        "submission": dict(d.submission),
        "trips": dict(d.trips),
        "three_or_more_trips": _share_json(d.three_or_more_trips),
        "late": _share_json(d.late),
        "late_with_apology": _share_json(d.late_with_apology),
        "harassment": _share_json(d.harassment),
        "unofficial_payment": _share_json(d.unofficial_payment),
        "expectations": dict(d.expectations),
        "complaint_ratings": {
            "levels": list(d.complaint_ratings),
            "base": sum(d.complaint_ratings),
            "mean": d.complaint_rating_mean,
        },
    }


def criterion_index(code: str, counts: Counts) -> CriterionIndex:
    levels = tuple(counts.get((code, str(v)), 0) for v in (1, 2, 3, 4, 5))
    base = sum(levels)
    if base == 0:
        return CriterionIndex(code, levels, None, None)  # type: ignore[arg-type]
    index = round_half_up(100 * (levels[3] + levels[4]) / base, 2)
    mean = round_half_up(sum((v + 1) * n for v, n in enumerate(levels)) / base, 2)
    return CriterionIndex(code, levels, index, mean)  # type: ignore[arg-type]


def _raw_index(code: str, counts: Counts) -> float | None:
    levels = [counts.get((code, str(v)), 0) for v in (1, 2, 3, 4, 5)]
    base = sum(levels)
    return None if base == 0 else 100 * (levels[3] + levels[4]) / base


def _mean(values: list[float]) -> float | None:
    return round_half_up(sum(values) / len(values), 2) if values else None


def _options(step_id: str, q: Questionnaire, counts: Counts) -> tuple[tuple[str, int], ...]:
    step = q.step(step_id)
    if step is None:
        return ()
    found = [(code, counts.get((step_id, code), 0)) for code in step.options]
    return tuple(sorted(found, key=lambda kv: -kv[1]))


def _share(counts: Counts, item: str, yes: set[str], among: set[str]) -> Share:
    return Share(
        sum(counts.get((item, v), 0) for v in yes),
        sum(counts.get((item, v), 0) for v in among),
    )


def compute(
    counts: Counts,
    *,
    start: date,
    end: date,
    completed: int,
    partial: int,
    in_progress: int = 0,
    complaint_ratings: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0),
    procedure: str | None = None,
    field_name: str | None = None,
    questionnaire: Questionnaire | None = None,
    language: str = "vi",
) -> Report:
    """The report of one method's counts (``questionnaire``, default the method in force).

    ``counts`` must hold only that method's answers (``storage.queries.aggregates.summed``
    with its ``method``); a criterion code is read in that questionnaire's meaning."""
    q = questionnaire or load_questionnaire()
    elements: list[ElementIndex] = []
    raw_elements: list[float] = []
    for element in q.elements:
        criteria = tuple(criterion_index(code, counts) for code in element.criteria)
        # Means are taken of unrounded indices; only what is shown is rounded.
        raw = [_raw_index(code, counts) for code in element.criteria]
        indices = [i for i in raw if i is not None]
        element_raw = sum(indices) / len(indices) if indices else None
        if element_raw is not None:
            raw_elements.append(element_raw)
        elements.append(
            ElementIndex(
                element.code,
                None if element_raw is None else round_half_up(element_raw, 2),
                counts.get((f"E{element.code}", "answered"), 0),
                criteria,
            )
        )
    overall = _mean(raw_elements)
    trip_step = q.step("trips")
    trip_codes = trip_step.options if trip_step else ("1", "2", "3", "4")
    trips = tuple((v, counts.get(("trips", v), 0)) for v in trip_codes)
    # 2640 asks yes/no; 1001 asks how common (none / some / many): "some" and "many" count as
    # having met it, as "yes" does.
    met, asked = {"yes", "some", "many"}, {"yes", "no", "none", "some", "many"}
    descriptive = Descriptive(
        channels=_options("info", q, counts),
        trips=trips,
        three_or_more_trips=_share(counts, "trips", {"3", "4"}, set(trip_codes)),
        late=_share(counts, "timing", {"late"}, {"early", "ontime", "late"}),
        late_with_apology=_share(counts, "apology", {"yes"}, {"yes", "no"}),
        harassment=_share(counts, "harass", met, asked),
        unofficial_payment=_share(counts, "payment", met, asked),
        expectations=_options("expect", q, counts),
        complaint_ratings=complaint_ratings,
        submission=_options("channel", q, counts),
    )
    names = {e.code: q.text(f"element.{e.code}", language) for e in q.elements}
    names.update({code: q.text(f"q.{code}", language) for e in q.elements for code in e.criteria})
    return Report(
        start=start,
        end=end,
        completed=completed,
        partial=partial,
        in_progress=in_progress,
        index=overall,
        base=counts.get(("E*", "answered"), 0),
        elements=tuple(elements),
        descriptive=descriptive,
        procedure=procedure,
        field=field_name,
        names=names,
        method=q.id,
        method_name=q.text("q.method", language),
    )


def answer_counts(
    answers: Mapping[str, int | str], q: Questionnaire | str | None = None
) -> dict[tuple[str, str], int]:
    """The aggregate increments one completed survey contributes (its answers, exploded).

    ``q``: the survey's questionnaire, or its method id (as stored with the response)."""
    quest = load_questionnaire(q) if isinstance(q, str) else (q or load_questionnaire())
    out: dict[tuple[str, str], int] = {}
    rated_any = False
    for element in quest.elements:
        rated = [c for c in element.criteria if isinstance(answers.get(c), int)]
        for code in rated:
            out[(code, str(answers[code]))] = 1
        if rated:
            out[(f"E{element.code}", "answered")] = 1
            rated_any = True
    if rated_any:
        out[("E*", "answered")] = 1
    for step in quest.steps:
        if step.kind in ("rating", "text"):
            continue
        value = answers.get(step.id)
        if value is None:
            continue
        values = str(value).split(",") if step.kind == "multi" else [str(value)]
        for v in values:
            if v:
                out[(step.id, v)] = out.get((step.id, v), 0) + 1
    return out


def asks_prevalence(method: str) -> bool:
    """Whether the method's harassment and extra-payment questions ask how common such
    conduct is ("Không có / Có, nhưng ít / Có, nhiều", QĐ 1001) rather than whether it
    happened to the person (QĐ 2640): reports must word the count as the question asked it."""
    step = load_questionnaire(method).step("harass")
    return step is not None and "some" in step.options
