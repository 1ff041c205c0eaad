"""Property-based: an option is understood however it is typed, invisible characters never
change what a text means, and a text of only invisible characters is never stored.

Every step that offers buttons is walked: the survey's consent, each question and its summary,
and the complaint's category, files, identity and confirmation steps. For each button, the
label in both languages is typed as NFC, NFD, upper case, without diacritics, wrapped in
emoji and punctuation, with polite particles ("Dạ, … ạ"), and as the line a channel displays
("3. …"); random invisible characters are sprinkled in.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations import (
    ChoiceOption,
    ConversationState,
    Env,
    Reply,
    Text,
    default_catalog,
    handle,
    prompt,
)
from conversations.flows import complaint, survey
from conversations.inbound import typed_choice
from conversations.normalise import clean, fold, is_blank, is_nav, match_choice
from conversations.questionnaire import METHODS, load

CATALOG = default_catalog()
ENV = Env(now=datetime(2026, 11, 30, 3, tzinfo=UTC), new_id=lambda: 7)
#: Zero width, BOM, bidi marks, embeddings, overrides and isolates, variation selectors,
#: soft hyphen, word joiner, the Hangul filler and the braille blank.
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c",
    "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufe0f", "\ufe0e", "\u00ad",
    "\u2060", "\u3164", "\u2800", "\u034f", "\U000e0100",
]  # fmt: skip
BLANKISH = [*INVISIBLE, " ", "\u00a0", "\u3000", "\t", "\n"]


def _survey_state(step: str) -> ConversationState:
    return ConversationState("vi", survey.FLOW, step, {"rid": 1, "ans": {}, "hist": []})


def _complaint_state(step: str) -> ConversationState:
    draft = complaint.Draft(draft=1, cat="khac", text="Một nội dung đủ dài.", anon=True)
    return ConversationState("vi", complaint.FLOW, step, draft.dump())


STATES = [
    _survey_state(survey.CONSENT),
    *(_survey_state(s.id) for s in load().steps),
    _survey_state(survey.SUMMARY),
    *(_complaint_state(s) for s in (complaint.CATEGORY, complaint.FILES, complaint.WHO)),
    _complaint_state(complaint.CONFIRM),
]


def _asked(state: ConversationState) -> tuple[Reply, ...]:
    return tuple(prompt(state, ENV))


def _bare(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _variants(label: str, place: int | None) -> list[str]:
    forms = [
        unicodedata.normalize("NFC", label),
        unicodedata.normalize("NFD", label),
        label.upper(),
        label.lower(),
        _bare(label),
        f"👍 {label} 🙏",
        f"«{label}»!!!",
        f"{label}.",
        f"Dạ, {label} ạ",
        f"vâng {label} nhé",
    ]
    if place is not None:
        forms += [f"{place}. {label}", f"{place}) {label}", str(place)]
    return forms


CASES = [
    (state, choice.id, lang)
    for state in STATES
    for choice in _asked(state)[-1].choices
    for lang in ("vi", "en")
]


def _place(choices: tuple[ChoiceOption, ...], choice_id: str) -> int | None:
    numbered = [c.id for c in choices if not is_nav(c.id)]
    return numbered.index(choice_id) + 1 if choice_id in numbered else None


def _label(choices: tuple[ChoiceOption, ...], choice_id: str, lang: str) -> str:
    chosen = next(c for c in choices if c.id == choice_id)
    return CATALOG.format(lang, chosen.label, chosen.params)


@pytest.mark.parametrize("state", STATES, ids=[f"{s.flow}-{s.step}" for s in STATES])
def test_every_form_of_a_label_means_its_option(state: ConversationState) -> None:
    asked = _asked(state)
    choices = asked[-1].choices
    for choice in choices:
        for lang in ("vi", "en"):
            label = _label(choices, choice.id, lang)
            for typed in _variants(label, _place(choices, choice.id)):
                assert typed_choice(typed, asked) == choice.id, typed


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(CASES), variant=st.integers(0, 12), data=st.data())
def test_invisible_characters_in_a_typed_option_change_nothing(
    case: tuple[ConversationState, str, str], variant: int, data: st.DataObject
) -> None:
    state, choice_id, lang = case
    asked = _asked(state)
    choices = asked[-1].choices
    forms = _variants(_label(choices, choice_id, lang), _place(choices, choice_id))
    sprinkled = _sprinkle(forms[variant % len(forms)], data)
    assert typed_choice(sprinkled, asked) == choice_id, repr(sprinkled)


def _sprinkle(text: str, data: st.DataObject) -> str:
    chars = list(text)
    extra = data.draw(st.lists(st.sampled_from(INVISIBLE), max_size=6))
    for ch in extra:
        chars.insert(data.draw(st.integers(0, len(chars))), ch)
    return "".join(chars)


YES_NO_STEPS = [
    (state, c.id)
    for state in STATES
    for c in _asked(state)[-1].choices
    if c.id.endswith((":yes", ":no"))
]
YES = ["có", "Có ạ", "dạ", "Dạ vâng", "vâng", "Vâng ạ", "đồng ý", "Tôi đồng ý", "OK", "yes", "ừ",
       "được", "dạ được", "đồng ý ạ", "Ok, cảm ơn"]  # fmt: skip
NO = ["không", "Không ạ", "ko", "không đồng ý", "No", "Dạ không",
      "chưa", "chưa ạ", "không ạ, cảm ơn", "thôi", "không muốn", "để sau"]  # fmt: skip


@pytest.mark.parametrize(("state", "choice_id"), YES_NO_STEPS, ids=lambda v: str(v)[:40])
def test_yes_no_steps_take_the_polite_and_short_forms(
    state: ConversationState, choice_id: str
) -> None:
    words = YES if choice_id.endswith(":yes") else NO
    for word in words:
        assert typed_choice(word, _asked(state)) == choice_id, word


def test_a_number_is_never_a_navigation_button() -> None:
    """7 at a rating question is no "skip": the levels are 1–5, navigation is words."""
    q = load()
    rating = next(s for s in q.steps if s.kind == "rating")
    asked = _asked(_survey_state(rating.id))
    assert [typed_choice(str(n), asked) for n in range(1, 9)] == [
        *(f"{rating.id}:{v}" for v in range(1, 6)),
        None,
        None,
        None,
    ]
    outcome = handle(_survey_state(rating.id), Text("7"), ENV)
    assert [r.key for r in outcome.replies] == ["survey.invalid_rating", "survey.criterion"]
    assert outcome.changes == ()


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.sampled_from([*INVISIBLE, "a", "b", "á", "5", " "]), max_size=30))
def test_invisible_characters_never_change_the_meaning(text: str) -> None:
    visible = "".join(ch for ch in text if ch not in INVISIBLE)
    assert fold(text) == fold(visible)
    assert clean(clean(text)) == clean(text)
    options = [("x:a", ["a"]), ("x:b", ["b á"]), ("x:back", ["Quay lại"])]
    assert match_choice(text, options) == match_choice(visible, options)


#: Combining marks of every category (Mn, Mc, Me): alone, they have no base to sit on.
MARKS = [
    chr(c)
    for c in range(0x300, sys.maxunicode + 1)
    if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me")
]
#: The rest of Unicode's Default_Ignorable_Code_Point list that is no format character:
#: Hangul fillers, Khmer inherent vowels, Mongolian selectors, invisible operators, tags.
IGNORABLE = [
    "\u115f", "\u1160", "\uffa0", "\u17b4", "\u17b5", "\u180b", "\u180e", "\u180f",
    "\u2061", "\u2062", "\u2063", "\u2064", "\U0001bca0", "\U0001d173", "\U000e0001",
    "\U000e0041", "\U000e007f", "\U000e01ef",
]  # fmt: skip
BLANK_TEXTS = st.text(
    alphabet=st.one_of(st.sampled_from([*BLANKISH, *IGNORABLE]), st.sampled_from(MARKS)),
    min_size=1,
    max_size=20,
)


@settings(max_examples=40, deadline=None)
@given(text=BLANK_TEXTS)
def test_a_text_of_only_invisible_characters_is_never_stored(text: str) -> None:
    assert is_blank(text)
    comments = [
        ConversationState("vi", survey.FLOW, s.id, {"rid": 1, "ans": {}, "hist": [], "form": form})
        for form in METHODS
        for s in load(form).steps
        if s.kind == "text"
    ]
    for state in (_complaint_state(complaint.TEXT), _complaint_state(complaint.NAME), *comments):
        outcome = handle(state, Text(text), ENV)
        after = outcome.state
        assert after is not None
        assert (after.flow, after.step, after.data) == (state.flow, state.step, state.data)
        assert not any(c.kind in ("save_answer", "open_complaint") for c in outcome.changes)
        assert outcome.replies, "never silence"
