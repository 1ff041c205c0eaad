"""A count typed at a count question ("how many times"), whatever the form's options.

The forms shipped today have one count question, options 1–4 whose last reads "or more" in
both languages (``tests/conversations/test_input_kinds.py`` types at it). The rule is the
form's data, not those four options: the top option is the largest number (10 is above 9),
"or more" may be said in one language only, and a form whose last count is not open-ended
takes no count above it, nor "many times".
"""

from __future__ import annotations

import pytest

from conversations.flows import survey_typed
from conversations.parsing import MANY, parse_count
from conversations.questionnaire import Questionnaire, Step

FORM = "test-counts"


def _form(labels: dict[str, dict[str, str]]) -> tuple[Step, Questionnaire]:
    step = Step("visits", "single", tuple(labels), form=FORM)
    texts = {step.option_key(code): label for code, label in labels.items()}
    return step, Questionnaire(FORM, (step,), (), (1, 2, 3, 4, 5), texts)


def _numbered(top: int, last_vi: str, last_en: str) -> dict[str, dict[str, str]]:
    labels = {str(n): {"vi": f"{n} lần", "en": f"{n} times"} for n in range(1, top)}
    labels[str(top)] = {"vi": last_vi, "en": last_en}
    return labels


#: (form's options, what is typed, the option it means or None)
CASES = [
    # Options up to 10: the top is 10, not "9" (the largest as text).
    (_numbered(10, "10 lần trở lên", "10 times or more"), "12 lần", "10"),
    (_numbered(10, "10 lần trở lên", "10 times or more"), "nhiều lần", "10"),
    (_numbered(10, "10 lần trở lên", "10 times or more"), "10 lần", "10"),
    (_numbered(10, "10 lần trở lên", "10 times or more"), "9 lần", "9"),
    # "or more" said in Vietnamese only, or in English only: open-ended all the same.
    (_numbered(4, "4 lần trở lên", "4 times"), "7 lần", "4"),
    (_numbered(4, "4 lần", "4 times or more"), "7 lần", "4"),
    (_numbered(4, "4 lần trở lên", "4 times"), "nhiều lần", "4"),
    (_numbered(4, "4 lần", "4 times or more"), "nhiều lần", "4"),
    # Not open-ended: nothing above the last option, and "many times" is no option.
    (_numbered(4, "4 lần", "4 times"), "7 lần", None),
    (_numbered(4, "4 lần", "4 times"), "nhiều lần", None),
    (_numbered(4, "4 lần", "4 times"), "4 lần", "4"),
    (_numbered(4, "4 lần", "4 times"), "hai lần", "2"),
    # No option "0": none is no option either.
    (_numbered(4, "4 lần trở lên", "4 times or more"), "không lần nào", None),
]


@pytest.mark.parametrize(("labels", "typed", "code"), CASES)
def test_a_typed_count_is_the_forms_option(
    labels: dict[str, dict[str, str]], typed: str, code: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    step, form = _form(labels)
    monkeypatch.setattr(survey_typed, "_form", lambda s: form)
    assert survey_typed._count_option(step, parse_count(typed)) == code


def test_many_is_what_the_parser_gives_for_many_times() -> None:
    assert parse_count("nhiều lần") == MANY
