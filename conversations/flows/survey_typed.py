"""What typed text means at a survey question: a navigation word, a value, or nothing
understood. Moved from ``survey`` as is."""

from __future__ import annotations

from ..normalise import fold
from ..parsing import (
    MANY,
    is_ascii_number,
    is_back,
    is_done,
    is_skip,
    match_label,
    parse_count,
    parse_number,
    parse_numbers,
    parse_rating,
    yes_no,
)
from ..questionnaire import Step
from .survey_data import BACK, DONE, SKIP, Answer, SurveyData, _form, _selection


def _parse_text(step: Step, text: str, data: SurveyData) -> Answer | _MultiSet | None:
    """What typed text means at a question: a navigation word, a value, or None (not understood).

    A number picks the option shown at that place, which for ratings is the level itself.
    """
    if is_back(text):
        return BACK
    if is_skip(text):
        return SKIP
    q = _form(step)
    if step.kind == "rating":
        return parse_rating(text, {v: q.texts[f"scale.{v}"].values() for v in q.scale})
    if step.kind == "multi":
        if is_done(text):
            return DONE
        numbers = parse_numbers(text)
        if numbers is not None:
            if not all(1 <= n <= len(step.options) for n in numbers):
                return None
            toggled = set(_selection(data, step)) ^ {step.options[n - 1] for n in numbers}
            return _MultiSet(toggled)
        code = _option_by_label(step, text)
        return None if code is None else _MultiSet(set(_selection(data, step)) ^ {code})
    number = parse_number(text)
    if number is not None:
        if number == 0 and _counts(step):
            # "0" at "how many times" is the count none, not a place in the menu.
            return "0" if "0" in step.options else None
        return step.options[number - 1] if 1 <= number <= len(step.options) else None
    code = _option_by_label(step, text)
    if code is None and set(step.options) == {"yes", "no"}:
        code = yes_no(text)
    if code is None and _counts(step):
        code = _count_option(step, parse_count(text))
    return code


def _counts(step: Step) -> bool:
    """A question whose options are counts (codes "0", "1", … as at "how many times")."""
    return bool(step.options) and all(is_ascii_number(c) for c in step.options)


def _count_option(step: Step, count: int | str | None) -> str | None:
    """The option of a count question that a typed count means ("4 lần", "hai lần", "nhiều
    lần"): the option of that number, or the last one when it reads "or more" (4 lần trở
    lên) and the count is above it; None when no option holds it (0 where none is "0")."""
    if count is None:
        return None
    top = max(step.options, key=int)
    open_ended = any(
        fold(label).endswith(("tro len", "or more"))
        for label in _form(step).texts[step.option_key(top)].values()
    )
    if count == MANY:
        return top if open_ended else None
    if str(count) in step.options:
        return str(count)
    return top if open_ended and isinstance(count, int) and count > int(top) else None


class _MultiSet(frozenset[str]):
    """A whole new selection for a multi-select question (typed numbers or a label)."""


def _option_by_label(step: Step, text: str) -> str | None:
    texts = _form(step).texts
    return match_label(text, {c: texts[step.option_key(c)].values() for c in step.options})
