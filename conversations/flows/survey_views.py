"""What the citizen sees of the survey: the consent screen, each question, the summary.
Moved from ``survey`` as is."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from ..catalog import LANGUAGES, default_catalog
from ..context import Env
from ..effects import ChoiceOption, ConversationState, Lines, Number, Ref, Reply
from ..questionnaire import Step
from .complaint import VIA_CHANNELS
from .complaint import via as complaint_via
from .survey_data import (
    BACK,
    CONSENT,
    DONE,
    SECONDS_PER_QUESTION,
    SKIP,
    SUMMARY,
    Answer,
    SurveyData,
    _form,
    _selection,
    questionnaire,
)


def consent_wording(screen: Callable[[Env], Reply], env: Env, scope: str) -> str:
    """The id of a consent screen's wording: ``scope`` (the survey's method) and the first 16
    hex digits of the SHA-256 of :func:`consent_texts` (every way the screen is shown).

    The id is the same for everyone shown the screen in one release, whatever their channel
    or language: a consent kept after its survey ended (no contact, time to the hour) must
    not say "the English speaker on Zalo", which with the contacts' channels and languages
    and the responses' hours would narrow who answered. Re-rendering the catalog of that
    release still proves what a person agreed to (one of those texts, which say the same
    things); any change of wording, agency, length or method changes it."""
    texts = consent_texts(screen, env)
    digest = hashlib.sha256("\n\x1e\n".join(texts).encode("utf-8")).hexdigest()[:16]
    return f"{scope}/{digest}"


def consent_texts(screen: Callable[[Env], Reply], env: Env) -> list[str]:
    """The screen ``screen(env)`` as rendered (text and button labels, one per line) in each
    language and for each channel's note on what messages pass through, sorted."""
    catalog = default_catalog()
    shown: set[str] = set()
    for channel in VIA_CHANNELS:
        reply = screen(replace(env, channel=channel))
        for language in LANGUAGES:
            message = catalog.render(reply, language)
            shown.add("\n".join((message.text, *(label for _, label in message.choices))))
    return sorted(shown)


def _consent_reply(env: Env, data: SurveyData) -> Reply:
    """The consent screen of Luật 91/2025/QH15 and NĐ 356/2025 (LAW-2026.md, "Personal
    data"): data types, purpose, controller, retention and rights, with the length counted
    from the questionnaire itself."""
    q = questionnaire(data)
    fewest, most = q.length()
    return Reply(
        "survey.consent",
        (
            ("title", Ref(q.key("q.title"))),
            ("agency", env.agency),
            ("fewest", fewest),
            ("most", most),
            ("criteria", q.criteria_count),
            ("minutes", -(-most * SECONDS_PER_QUESTION // 60)),
            ("days", env.survey_ttl.days),
            ("via", complaint_via(env)),
        ),
        (
            ChoiceOption(f"{CONSENT}:yes", "survey.consent.yes"),
            ChoiceOption(f"{CONSENT}:no", "survey.consent.no"),
        ),
    )


def prompt(state: ConversationState, env: Env) -> list[Reply]:
    """The current question, as a fresh message (used to ask, re-ask and resume)."""
    step_id = state.step or CONSENT
    data = SurveyData.load(state.data)
    if step_id == CONSENT:
        return [_consent_reply(env, data)]
    if step_id == SUMMARY:
        return [_summary_reply(data)]
    step = questionnaire(data).step(step_id)
    if step is None:
        return [_summary_reply(data)]
    nav = (
        ChoiceOption(f"{step.id}:{BACK}", "survey.back"),
        ChoiceOption(f"{step.id}:{SKIP}", "survey.skip"),
    )
    current = data.ans.get(step.id)
    text = ("text", Ref(step.text_key))
    if step.kind == "rating":
        return [_criterion_reply(step, current, nav)]
    if step.kind == "text":
        return [Reply("survey.question", (text,), nav)]
    selected = set(_selection(data, step)) if step.kind == "multi" else {str(current)}
    options = tuple(
        ChoiceOption(f"{step.id}:{c}", step.option_key(c), selected=c in selected)
        for c in step.options
    )
    if step.kind == "multi":
        done = ChoiceOption(f"{step.id}:{DONE}", "survey.done")
        return [Reply("survey.question.multi", (text,), (*options, done, *nav))]
    return [Reply("survey.question", (text,), options + nav)]


def _criterion_reply(step: Step, current: Answer | None, nav: tuple[ChoiceOption, ...]) -> Reply:
    q = _form(step)
    element = step.element or ""
    levels = tuple(
        ChoiceOption(
            f"{step.id}:{v}",
            "survey.level",
            (("n", v), ("label", Ref(f"scale.{v}"))),
            selected=current == v,
        )
        for v in q.scale
    )
    codes = [e.code for e in q.elements]
    params = (
        ("part", codes.index(element) + 1),
        ("parts", len(codes)),
        ("element", Ref(q.key(f"element.{element}"))),
        ("n", step.number or 0),
        ("total", q.criteria_count),
        ("text", Ref(step.text_key)),
    )
    return Reply("survey.criterion", params, levels + nav)


def _summary_reply(data: SurveyData) -> Reply:
    q = questionnaire(data)
    lines: list[Reply] = []
    rated = 0
    for element in q.elements:
        scores = [v for c in element.criteria if isinstance(v := data.ans.get(c), int)]
        rated += len(scores)
        name = ("name", Ref(element.name_key))
        if scores:
            # Shown to one decimal, a tie rounded up (4,25 is 4,3), never rounded twice.
            mean = Number(sum(scores) / len(scores), 1)
            lines.append(
                Reply("survey.summary.line", (name, ("count", len(scores)), ("mean", mean)))
            )
        else:
            lines.append(Reply("survey.summary.line_empty", (name,)))
    params = (("lines", Lines(tuple(lines))), ("rated", rated), ("total", q.criteria_count))
    choices = (
        ChoiceOption(f"{SUMMARY}:submit", "survey.submit"),
        ChoiceOption(f"{SUMMARY}:{BACK}", "survey.back"),
    )
    return Reply("survey.summary", params, choices)
