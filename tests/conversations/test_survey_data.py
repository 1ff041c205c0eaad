"""The survey's part of a stored conversation (``survey_data.SurveyData``): what is written is
read back the same, what a stored row may hold from an older version or a hand edit is read
safely (never an exception mid-survey), and nothing absent is written as null.

The state is the only link between a chat and its answers while a survey runs (``rid``), so
its shape is a rule: a key that goes missing on the way back would lose the survey, one
read from the wrong place would join a chat to another's response.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.flows.survey_data import SurveyData, _selection, questionnaire
from conversations.questionnaire import load

ids = st.none() | st.integers(min_value=1, max_value=2**62)
texts = st.none() | st.text(max_size=20)
answers = st.dictionaries(
    st.text(min_size=1, max_size=8), st.integers(1, 5) | st.text(max_size=10), max_size=6
)


@given(
    rid=ids,
    receipt=ids,
    proc=texts,
    area=texts,
    ans=answers,
    hist=st.lists(st.text(max_size=6), max_size=6),
    dossier=ids,
    month=texts,
    form=st.none() | st.sampled_from(["sipas-2640", "sipas-1001"]),
)
def test_what_is_written_is_read_back(**fields: Any) -> None:
    data = SurveyData(**fields)
    dumped = data.dump()
    assert SurveyData.load(dumped) == data
    assert None not in dumped.values()  # absent is absent, never null


def test_the_stored_keys() -> None:
    data = SurveyData(
        rid=5, receipt=6, proc="1.009972", area="Xây dựng", ans={"1.1": 4}, hist=["1.1"],
        dossier=7, month="2026-11", form="sipas-1001",
    )  # fmt: skip
    assert data.dump() == {
        "rid": 5, "receipt": 6, "proc": "1.009972", "field": "Xây dựng", "ans": {"1.1": 4},
        "hist": ["1.1"], "dossier": 7, "month": "2026-11", "form": "sipas-1001",
    }  # fmt: skip
    assert SurveyData().dump() == {"ans": {}, "hist": []}


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ({}, SurveyData()),
        ({"rid": True, "receipt": False, "dossier": "7"}, SurveyData()),  # not ids
        ({"rid": 9.0, "proc": 3, "field": ["x"], "month": 2026, "form": 1}, SurveyData()),
        ({"ans": ["1.1", 4]}, SurveyData()),
        ({"ans": {"1.1": 4, "2.1": None, "3.1": [1], "4.1": 2.5, 7: "x"}},
         SurveyData(ans={"1.1": 4, "7": "x"})),
        ({"hist": "1.1"}, SurveyData()),
        ({"hist": ["1.1", 2]}, SurveyData(hist=["1.1", "2"])),
        ({"rid": 3, "area": "Xây dựng"}, SurveyData(rid=3)),  # "field" is the stored key
        ({"rid": 3, "field": "Xây dựng"}, SurveyData(rid=3, area="Xây dựng")),
    ],
)  # fmt: skip
def test_a_stored_state_is_read_safely(raw: dict[str, object], read: SurveyData) -> None:
    assert SurveyData.load(raw) == read


def test_each_survey_keeps_its_own_method() -> None:
    assert questionnaire(SurveyData(form="sipas-1001")).id == load("sipas-1001").id
    assert questionnaire(SurveyData(form="sipas-2640")).id == load("sipas-2640").id
    # Stored before the method was kept: the 2640 form.
    assert questionnaire(SurveyData()).id == load("sipas-2640").id


INFO = next(s for s in load("sipas-2640").steps if s.id == "info")


@pytest.mark.parametrize(
    ("stored", "selection"),
    [
        (None, []),
        ("", []),
        ("posted", ["posted"]),
        ("posted,staff", ["posted", "staff"]),
        ("staff,gone,posted", ["staff", "posted"]),  # an option no longer offered: dropped
        (4, []),
    ],
)
def test_a_multi_selects_stored_selection(stored: object, selection: list[str]) -> None:
    ans = {} if stored is None else {"info": stored}
    assert _selection(SurveyData(ans=ans), INFO) == selection  # type: ignore[arg-type]
