"""What text typed at a survey question means (``survey_typed._parse_text``), question kind by
question kind, on the shipped forms.

The engine first matches typed text against the buttons it shows (``inbound.typed_choice``);
``_parse_text`` is what the survey reads when that finds nothing, or when the question could
not be shown again (a questionnaire changed under a stored conversation). It must then read
the same way: a number is the option at that place, a label is its option, "có"/"không" at a
yes/no question, a count at a count question, numbers toggle a multi-select's options, and
anything else is not understood (None: asked again).
"""

from __future__ import annotations

import pytest

from conversations.flows.survey_data import BACK, DONE, SKIP, SurveyData
from conversations.flows.survey_typed import _MultiSet, _parse_text
from conversations.questionnaire import load

FORMS = {name: {s.id: s for s in load(name).steps} for name in ("sipas-2640", "sipas-1001")}


def _data(**answers: str) -> SurveyData:
    return SurveyData(rid=1, ans=dict(answers), form="sipas-2640")


#: (form, step, what is typed, answers given before, what it means)
CASES: list[tuple[str, str, str, dict[str, str], object]] = [
    # navigation words, at any kind of question
    ("sipas-2640", "timing", "quay lại", {}, BACK),
    ("sipas-2640", "1.1", "bỏ qua", {}, SKIP),
    ("sipas-2640", "info", "xong", {}, DONE),
    # a single choice: the number shown, first and last included, nothing outside
    ("sipas-2640", "timing", "1", {}, "early"),
    ("sipas-2640", "timing", "2", {}, "ontime"),
    ("sipas-2640", "timing", "3", {}, "late"),
    ("sipas-2640", "timing", "4", {}, None),
    ("sipas-2640", "timing", "0", {}, None),
    ("sipas-2640", "p.job", "7", {}, "other"),
    ("sipas-2640", "p.job", "1", {}, "public"),
    # … or its label, however written
    ("sipas-2640", "timing", "muon hon hen", {}, "late"),
    ("sipas-2640", "p.gender", "Nữ", {}, "female"),
    ("sipas-2640", "timing", "hôm qua", {}, None),
    # yes/no questions take yes/no words; others do not
    ("sipas-2640", "apology", "có ạ", {}, "yes"),
    ("sipas-2640", "apology", "dạ không", {}, "no"),
    ("sipas-2640", "harass", "không", {}, "no"),
    ("sipas-2640", "apology", "vâng", {}, "yes"),  # no label says so: the yes words
    ("sipas-2640", "f5", "không cần", {}, "no"),
    ("sipas-2640", "apology", "có đâu", {}, "no"),
    ("sipas-1001", "harass", "vâng", {}, None),  # none / some / many: "yes" is none of them
    ("sipas-2640", "p.type", "đúng", {}, None),
    # a count question: its place is its count; "0" is the count none, where there is one
    ("sipas-2640", "trips", "2", {}, "2"),
    ("sipas-2640", "trips", "hai lần", {}, "2"),
    ("sipas-2640", "trips", "0", {}, None),
    ("sipas-1001", "trips", "0", {}, "0"),
    ("sipas-1001", "trips", "5", {}, "0"),  # the fifth option shown is "Không phải đến"
    ("sipas-1001", "trips", "6", {}, None),
    ("sipas-1001", "trips", "không phải đến", {}, "0"),  # a label, not a count
    ("sipas-2640", "timing", "3 lần", {}, None),  # a count where no option is one
    # a rating: the level
    ("sipas-2640", "1.1", "5", {}, 5),
    ("sipas-2640", "1.1", "1", {}, 1),
    ("sipas-2640", "1.1", "rất hài lòng", {}, 5),
    ("sipas-2640", "1.1", "9", {}, None),
]


@pytest.mark.parametrize(("form", "step", "typed", "before", "meant"), CASES)
def test_typed_text_means(
    form: str, step: str, typed: str, before: dict[str, str], meant: object
) -> None:
    data = SurveyData(rid=1, ans=dict(before), form=form)
    assert _parse_text(FORMS[form][step], typed, data) == meant


#: A multi-select: the whole new selection, each number or label toggling its option.
MULTI: list[tuple[str, dict[str, str], set[str] | None]] = [
    ("1", {}, {"posted"}),
    ("1 3", {}, {"posted", "staff"}),
    ("1, 6", {}, {"posted", "other"}),
    ("3", {"info": "posted,staff"}, {"posted"}),  # ticked already: unticked
    ("2", {"info": "posted"}, {"posted", "portal"}),
    ("Qua công chức", {"info": "posted"}, {"posted", "staff"}),
    ("qua cong chuc", {"info": "posted,staff"}, {"posted"}),
    ("7", {}, None),
    ("0", {}, None),
    ("1 7", {"info": "posted"}, None),
    ("trên tivi", {"info": "posted"}, None),
]


@pytest.mark.parametrize(("typed", "before", "selection"), MULTI)
def test_typed_text_toggles_a_multi_select(
    typed: str, before: dict[str, str], selection: set[str] | None
) -> None:
    meant = _parse_text(FORMS["sipas-2640"]["info"], typed, _data(**before))
    if selection is None:
        assert meant is None
    else:
        assert isinstance(meant, _MultiSet)
        assert set(meant) == selection
