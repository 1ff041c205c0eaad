"""Loads a questionnaire data file into an ordered list of typed steps.

Each SIPAS method is its own file (``data/<method>.yaml``): ``sipas-1001`` (QĐ 1001/QĐ-BNV,
11/12/2023, the method in force: 19 service criteria) and ``sipas-2640`` (QĐ 2640/QĐ-BNV,
10/10/2017, the 2017–2020 method: 22 criteria). Sources: ../shared/reference/LAW-2026.md and
SIPAS.md. A questionnaire's texts are keyed ``<method>/q.<step>`` so both can live in one
catalog; only the five scale levels (``scale.<n>``), identical in both, are shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

DATA_DIR = Path(__file__).parent / "data"
LANGUAGES = ("vi", "en")
#: The methods shipped, newest first. ``SURVEY_METHOD`` picks the one new surveys use.
METHODS = ("sipas-1001", "sipas-2640")
#: The method in force since QĐ 1001/QĐ-BNV (11/12/2023).
DEFAULT_METHOD = "sipas-1001"
#: The method of conversations stored before the method was recorded with them.
LEGACY_METHOD = "sipas-2640"
_SHARED_PREFIX = "scale."

StepKind = Literal["rating", "single", "multi", "text"]


class QuestionnaireError(ValueError):
    """The questionnaire file is malformed (a programmer or content error, raised at load)."""


@dataclass(frozen=True, slots=True)
class Condition:
    """Ask the step only when an earlier answer to ``item`` is one of ``values``."""

    item: str
    values: frozenset[str]

    def holds(self, answers: Mapping[str, object]) -> bool:
        return str(answers.get(self.item)) in self.values


@dataclass(frozen=True, slots=True)
class Step:
    """One question. ``number`` is the criterion's place among the rated criteria (1–22)."""

    id: str
    kind: StepKind
    options: tuple[str, ...] = ()
    when: Condition | None = None
    element: str | None = None
    number: int | None = None
    #: The questionnaire (method) the step belongs to: its texts are keyed under it.
    form: str = ""

    @property
    def text_key(self) -> str:
        return f"{self.form}/q.{self.id}"

    def option_key(self, code: str) -> str:
        return f"{self.form}/q.{self.id}.{code}"


@dataclass(frozen=True, slots=True)
class Element:
    code: str
    criteria: tuple[str, ...]
    form: str = ""

    @property
    def name_key(self) -> str:
        return f"{self.form}/element.{self.code}"


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """The whole survey: steps in asking order, elements, and its texts by catalog key."""

    id: str
    steps: tuple[Step, ...]
    elements: tuple[Element, ...]
    scale: tuple[int, ...]
    texts: Mapping[str, Mapping[str, str]]

    @property
    def criteria_count(self) -> int:
        return sum(len(e.criteria) for e in self.elements)

    def key(self, local: str) -> str:
        """The catalog key of one of this questionnaire's texts: ``q.title`` ->
        ``sipas-1001/q.title``; the shared ``scale.<n>`` keys are returned unchanged."""
        return local if local.startswith(_SHARED_PREFIX) else f"{self.id}/{local}"

    def text(self, local: str, language: str) -> str:
        """One of its texts in ``language`` (Vietnamese when that language lacks it)."""
        found = self.texts[self.key(local)]
        return found.get(language) or found["vi"]

    def length(self) -> tuple[int, int]:
        """How many questions a citizen may be asked: (fewest, most), counting every step
        whose condition may hold (the most) or only the unconditional ones (the fewest).
        The consent screen states it, so the promise matches the questionnaire."""
        return sum(1 for s in self.steps if s.when is None), len(self.steps)

    def index_of(self, step_id: str) -> int:
        return self._positions()[step_id]

    def step(self, step_id: str) -> Step | None:
        pos = self._positions().get(step_id)
        return None if pos is None else self.steps[pos]

    def _positions(self) -> dict[str, int]:
        return _positions(self.steps)


@cache
def _positions(steps: tuple[Step, ...]) -> dict[str, int]:
    return {s.id: i for i, s in enumerate(steps)}


def _texts(node: Mapping[str, Any], where: str) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not str(node.get(lang, "")).strip()]
    if "vi" in missing:
        raise QuestionnaireError(f"{where}: the Vietnamese text is missing")
    return {lang: str(node[lang]) for lang in LANGUAGES if lang not in missing}


def _choice_step(
    node: Mapping[str, Any],
    texts: dict[str, dict[str, str]],
    form: str,
    when: Condition | None = None,
) -> Step:
    step_id = str(node["id"])
    kind = str(node.get("kind", "single"))
    if kind not in ("single", "multi", "text"):
        raise QuestionnaireError(f"step {step_id}: unknown kind {kind!r}")
    texts[f"q.{step_id}"] = _texts(node, step_id)
    codes: list[str] = []
    for opt in node.get("options", []):
        code = str(opt["code"])
        texts[f"q.{step_id}.{code}"] = _texts(opt, f"{step_id}.{code}")
        codes.append(code)
    if kind != "text" and not codes:
        raise QuestionnaireError(f"step {step_id}: a {kind} question needs options")
    raw_when = node.get("when")
    if raw_when is not None:
        when = Condition(str(raw_when["item"]), frozenset(str(v) for v in raw_when["in"]))
    return Step(id=step_id, kind=kind, options=tuple(codes), when=when, form=form)  # type: ignore[arg-type]


def parse(raw: Mapping[str, Any]) -> Questionnaire:
    """Builds a questionnaire from the parsed YAML; raises QuestionnaireError on bad content.

    ``raw`` needs ``id``, ``title``, ``method`` (the decision it follows, shown in reports),
    ``scale``, ``elements``; ``before``, ``after`` and ``profile`` are optional."""
    form = str(raw["id"])
    texts: dict[str, dict[str, str]] = {"q.title": _texts(raw["title"], "title")}
    texts["q.method"] = _texts(raw.get("method") or {}, "method")
    scale: list[int] = []
    for level in raw["scale"]:
        texts[f"scale.{level['value']}"] = _texts(level, f"scale {level['value']}")
        scale.append(int(level["value"]))
    steps: list[Step] = [_choice_step(node, texts, form) for node in raw.get("before", [])]
    elements: list[Element] = []
    number = 0
    for el in raw["elements"]:
        code = str(el["code"])
        texts[f"element.{code}"] = _texts(el, f"element {code}")
        when: Condition | None = None
        if el.get("filter"):
            filt = _choice_step(el["filter"], texts, form)
            steps.append(filt)
            when = Condition(filt.id, frozenset({"yes"}))
        criteria: list[str] = []
        for crit in el["criteria"]:
            number += 1
            crit_code = str(crit["code"])
            texts[f"q.{crit_code}"] = _texts(crit, crit_code)
            criteria.append(crit_code)
            steps.append(
                Step(id=crit_code, kind="rating", when=when, element=code, number=number, form=form)
            )
        elements.append(Element(code, tuple(criteria), form))
    steps.extend(_choice_step(node, texts, form) for node in raw.get("after", []))
    profile = raw.get("profile")
    if profile:
        intro = _choice_step(profile["intro"], texts, form)
        steps.append(intro)
        gate = Condition(intro.id, frozenset({"yes"}))
        steps.extend(_choice_step(node, texts, form, when=gate) for node in profile["items"])
    ids = [s.id for s in steps]
    if len(ids) != len(set(ids)):
        raise QuestionnaireError("step ids must be unique")
    keyed = {
        key if key.startswith(_SHARED_PREFIX) else f"{form}/{key}": by_lang
        for key, by_lang in texts.items()
    }
    return Questionnaire(
        id=form,
        steps=tuple(steps),
        elements=tuple(elements),
        scale=tuple(scale),
        texts=keyed,
    )


@cache
def load(name: str = DEFAULT_METHOD) -> Questionnaire:
    """Loads ``data/<name>.yaml`` once per process; ``name`` is one of ``METHODS``.

    Raises QuestionnaireError for a name that is not a shipped method (a stored response or
    a setting naming a method this version does not have)."""
    if name not in METHODS:
        raise QuestionnaireError(f"unknown survey method {name!r}; known: {', '.join(METHODS)}")
    with (DATA_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        found = parse(yaml.safe_load(fh))
    if found.id != name:
        raise QuestionnaireError(f"{name}.yaml declares id {found.id!r}")
    return found


def method_of(stored: object) -> str:
    """The method of a stored conversation or response: its recorded one if known, else the
    method in use before methods were recorded (``LEGACY_METHOD``)."""
    return stored if isinstance(stored, str) and stored in METHODS else LEGACY_METHOD
