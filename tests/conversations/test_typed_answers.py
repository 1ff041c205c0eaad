"""Typed answers as citizens really write them (issue 13, points 1 and 2; a re-tester's faults):

- the short forms of "không" ("ko", "k", "kg", "hok" …) inside a short reply are a no at every
  yes/no step ("ko có", "k cần", "dạ ko ạ"), and never a word that merely contains a k;
- every confirm-type step takes a typed yes as its affirmative button: «Gửi» of a complaint's
  summary and «Gửi phiếu» of the survey's like «Tôi đồng ý», «Đồng ý nhận tin ZNS», «Xóa dữ
  liệu của tôi»; "sửa" at a summary is its «Quay lại»; "không" there names no button (the
  step says again what each does); the keep-or-drop question takes neither yes nor no;
- a rating typed in other words ("chưa hài lòng", "hài lòng lắm", "tạm được") is its level,
  for the scale of every SIPAS questionnaire in the data.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations import ConversationState, Reply
from conversations.flows import complaint, survey
from conversations.flows.tracking import rating_choices
from conversations.inbound import typed_choice
from conversations.normalise import WORDS_FILE, fold, short_reply, word_list, yes_no
from conversations.parsing import parse_rating
from conversations.questionnaire import METHODS, load
from conversations.switching import ask_switch
from tests.conversations.test_typed_options import (
    STATES,
    _asked,
    _complaint_state,
    _survey_state,
)

SHORT_NO = ["ko", "k", "Ko", "K", "kg", "khg", "kh", "hok", "hk", "khum", "kô", "hông"]
#: What follows a short "không" in a short reply.
TAILS = ["", "có", "cần", "ạ", "đâu", "muốn", "cần đâu", "có đâu", "đồng ý", "cần ạ",
         "ạ, cảm ơn", "muốn đâu", "có ạ", "cần nữa"]  # fmt: skip
#: Words that start with or contain a k, and mean no "không".
K_WORDS = ["kém", "khó", "khỏe", "kế", "kịp", "kiểm", "kết", "okay", "ok", "kỹ", "kể", "kia",
           "khác", "khi", "khoảng", "kinh", "khen", "kêu", "kí", "ký", "khẩn", "kho", "km"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    short=st.sampled_from(SHORT_NO),
    tail=st.sampled_from(TAILS),
    lead=st.sampled_from(["", "Dạ ", "dạ, ", "Vâng "]),
    mark=st.sampled_from(["", ".", "!", " 🙏", "..."]),
)
def test_a_short_no_inside_a_short_reply_is_a_no(
    short: str, tail: str, lead: str, mark: str
) -> None:
    typed = f"{lead}{short} {tail}".strip() + mark
    assert yes_no(typed) == "no", typed


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(K_WORDS), min_size=1, max_size=4))
def test_a_word_that_merely_contains_a_k_is_never_a_short_no(words: list[str]) -> None:
    folded = fold(" ".join(words))
    assert short_reply(folded) == folded
    assert yes_no(" ".join(words)) != "no" or folded in word_list("no_words")


@pytest.mark.parametrize("typed", ["kém", "khó", "khỏe", "kế", "kịp", "k k k k k k k"])
def test_words_with_k_and_long_texts_are_no_answer(typed: str) -> None:
    assert yes_no(typed) is None


def test_a_long_text_keeps_its_short_forms() -> None:
    """A description is no short reply: its "k" is left as written."""
    text = fold("tôi k được hướng dẫn gì cả ở bàn số 3")
    assert short_reply(text) == text


# --- yes and no at every yes/no-like step -------------------------------------------------

_CONSENT_STEPS: list[tuple[str, tuple[Reply, ...]]] = [
    (f"{s.flow}-{s.step}", _asked(s)) for s in STATES if s.step in (survey.CONSENT, survey.SUMMARY)
]
_OTHERS: list[tuple[str, tuple[Reply, ...]]] = [
    ("complaint-confirm", _asked(_complaint_state(complaint.CONFIRM))),
    ("complaint-zns", _asked(_complaint_state(complaint.ZNS))),
]
YES = ["có", "Có ạ", "đồng ý", "Đồng ý ạ", "OK", "ok", "vâng", "dạ vâng", "ừ", "được",
       "có chứ"]  # fmt: skip
NO = ["không", "ko", "ko có", "k cần", "ko ạ", "dạ ko", "không ạ, cảm ơn", "chưa"]


def _affirmative(asked: tuple[Reply, ...]) -> str:
    ids = [c.id for c in asked[-1].choices]
    return next(i for i in ids if i.endswith((":yes", ":send", ":submit")))


STEPS = _CONSENT_STEPS + _OTHERS


@pytest.mark.parametrize(("name", "asked"), STEPS, ids=[n for n, _ in STEPS])
def test_a_typed_yes_is_the_affirmative_button(name: str, asked: tuple[Reply, ...]) -> None:
    for typed in YES:
        assert typed_choice(typed, asked) == _affirmative(asked), (name, typed)


@pytest.mark.parametrize(("name", "asked"), STEPS, ids=[n for n, _ in STEPS])
def test_a_typed_no_is_the_no_button_or_none(name: str, asked: tuple[Reply, ...]) -> None:
    """A no where there is a no button is that button; at a summary (no such button), it is
    none: the step says again what «Gửi», «Quay lại» and «Hủy» do."""
    ids = [c.id for c in asked[-1].choices]
    no = next((i for i in ids if i.endswith(":no")), None)
    for typed in NO:
        assert typed_choice(typed, asked) == no, (name, typed)


@pytest.mark.parametrize(
    "state", [_complaint_state(complaint.CONFIRM), _survey_state(survey.SUMMARY)]
)
@pytest.mark.parametrize("typed", ["sửa", "Sửa lại", "chỉnh sửa", "dạ, tôi muốn sửa"])
def test_editing_at_a_summary_is_its_back_button(state: ConversationState, typed: str) -> None:
    assert typed_choice(typed, _asked(state)) == f"{state.step}:back"


@pytest.mark.parametrize("state", [_survey_state(survey.CONSENT), _complaint_state(complaint.WHO)])
def test_editing_words_are_nothing_where_nothing_is_summed_up(state: ConversationState) -> None:
    assert typed_choice("sửa", _asked(state)) is None


@pytest.mark.parametrize("typed", ["có", "không", "ko có", "đồng ý", "ok"])
def test_keep_or_drop_takes_neither_yes_nor_no(typed: str) -> None:
    """ "Go on with the task, or drop it?" has no yes: the question is asked again."""
    question, _ = ask_switch(_complaint_state(complaint.TEXT), "start", "R-1")
    assert typed_choice(typed, (question,)) is None


# --- ratings in other words, for every SIPAS scale -----------------------------------------

PARAPHRASES = {
    "chưa hài lòng": 2, "Chưa hài lòng ạ": 2, "chưa hài lòng lắm": 2, "không hài lòng lắm": 2,
    "ko hài lòng": 2, "k hài lòng": 2, "rất không hài lòng": 1, "rất chưa hài lòng": 1,
    "hoàn toàn không hài lòng": 1, "bình thường": 3, "Bình thường thôi": 3, "tạm được": 3,
    "tàm tạm": 3, "hài lòng": 4, "khá hài lòng": 4, "hài lòng lắm": 5, "rất hài lòng": 5,
    "Dạ, hài lòng lắm ạ": 5, "rất là hài lòng": 5, "not satisfied": 2,
}  # fmt: skip
NOT_GUESSED = ["tuyệt vời", "tệ", "hài lòng không", "có", "không", "kém"]


@pytest.mark.parametrize("method", METHODS)
def test_every_scale_label_and_paraphrase_is_its_level(method: str) -> None:
    q = load(method)
    labels = {v: q.texts[f"scale.{v}"].values() for v in q.scale}
    rating = next(s for s in q.steps if s.kind == "rating")
    data = {"rid": 1, "ans": {}, "hist": [], "form": method}
    asked = _asked(ConversationState("vi", survey.FLOW, rating.id, data))
    for level in q.scale:
        for label in labels[level]:
            assert parse_rating(label, labels) == level, label
    for typed, level in PARAPHRASES.items():
        assert parse_rating(typed, labels) == level, typed
        assert typed_choice(typed, asked) == f"{rating.id}:{level}", typed
        assert typed_choice(typed, (Reply("x", choices=rating_choices("PA-1")),)) == (
            f"rate:PA-1:{level}"
        ), typed
    for typed in NOT_GUESSED:
        assert parse_rating(typed, labels) is None, typed
        assert typed_choice(typed, asked) is None, typed


@pytest.mark.parametrize("method", METHODS)
def test_the_paraphrases_are_keyed_by_the_scale_labels(method: str) -> None:
    """``scale_words`` in data/words.yaml names each level by its label: a scale relabelled in
    the questionnaire data must be followed there."""
    q = load(method)
    vi_labels = {fold(q.texts[f"scale.{v}"]["vi"]) for v in q.scale}
    keys = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))["scale_words"]
    assert {fold(key) for key in keys} == vi_labels
