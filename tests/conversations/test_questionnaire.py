"""The questionnaire data: QĐ 1001's 19 service items and QĐ 2640's 22 criteria, each in 5
elements, with the filter and the descriptive items (LAW-2026.md, SIPAS.md)."""

from __future__ import annotations

import pytest

from conversations import DEFAULT_METHOD, METHODS, load_questionnaire, method_of
from conversations.questionnaire import QuestionnaireError, parse

Q = load_questionnaire("sipas-2640")
Q1001 = load_questionnaire("sipas-1001")


def test_the_method_in_force_is_the_default() -> None:
    assert DEFAULT_METHOD == "sipas-1001"
    assert load_questionnaire().id == Q1001.id
    assert METHODS == ("sipas-1001", "sipas-2640")


@pytest.mark.parametrize(
    ("method", "sizes"),
    [("sipas-1001", [4, 4, 5, 3, 3]), ("sipas-2640", [4, 5, 6, 3, 4])],
)
def test_criteria_in_five_elements(method: str, sizes: list[int]) -> None:
    q = load_questionnaire(method)
    assert [len(e.criteria) for e in q.elements] == sizes
    numbers = [s.number for s in q.steps if s.kind == "rating"]
    assert numbers == list(range(1, sum(sizes) + 1))
    assert q.criteria_count == {"sipas-1001": 19, "sipas-2640": 22}[method]


def test_1001_asks_the_submission_channel_and_allows_no_visit() -> None:
    channel = Q1001.step("channel")
    assert channel is not None
    assert channel.options == ("inperson", "online_partial", "online_full", "post")
    trips = Q1001.step("trips")
    assert trips is not None
    assert trips.options == ("1", "2", "3", "4", "0")  # a count at its own place
    assert Q1001.text("q.trips.0", "vi") == "Không phải đến"
    assert Q1001.index_of("channel") < Q1001.index_of("trips")


@pytest.mark.parametrize("method", METHODS)
def test_result_criterion_carries_the_refusal_note(method: str) -> None:
    """LAW-2026.md: the result may be a grant or a refusal, on both forms."""
    text = load_questionnaire(method).text("q.4.1", "vi")
    assert "bị từ chối cấp giấy tờ" in text


def test_1001_rates_on_time_and_fair_results() -> None:
    assert "đúng hẹn" in Q1001.text("q.4.1", "vi")
    assert "công bằng" in Q1001.text("q.4.3", "vi")


@pytest.mark.parametrize(
    ("method", "fewest", "most"), [("sipas-1001", 26, 35), ("sipas-2640", 27, 37)]
)
def test_length_counts_the_questions_a_citizen_may_meet(
    method: str, fewest: int, most: int
) -> None:
    assert load_questionnaire(method).length() == (fewest, most)


def test_texts_are_keyed_by_method_so_both_share_one_catalog() -> None:
    assert Q1001.key("q.2.1") == "sipas-1001/q.2.1"
    assert Q.key("q.2.1") == "sipas-2640/q.2.1"
    assert Q.key("scale.3") == "scale.3"
    assert Q1001.text("q.2.1", "vi") != Q.text("q.2.1", "vi")


@pytest.mark.parametrize(
    ("stored", "method"),
    [(None, "sipas-2640"), ("sipas-1001", "sipas-1001"), ("sipas-2640", "sipas-2640"),
     ("sipas", "sipas-2640"), (3, "sipas-2640")],
)  # fmt: skip
def test_a_conversation_stored_without_a_method_is_on_2640(stored: object, method: str) -> None:
    assert method_of(stored) == method


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(QuestionnaireError, match="unknown survey method"):
        load_questionnaire("sipas-2030")


def test_scale_is_five_levels_with_sipas_words() -> None:
    assert Q.scale == (1, 2, 3, 4, 5)
    assert Q.texts["scale.1"]["vi"] == "Rất không hài lòng"
    assert Q.texts["scale.5"]["vi"] == "Rất hài lòng"


@pytest.mark.parametrize(
    ("key", "wording"),
    [
        ("q.1.2", "Trang thiết bị phục vụ người dân, tổ chức tại Bộ phận tiếp nhận và trả kết quả đầy đủ."),
        ("q.2.4", "Phí/lệ phí mà Ông/Bà phải nộp là đúng quy định."),
        ("q.3.3", "Công chức trả lời, giải đáp đầy đủ các ý kiến của Ông/Bà."),
        ("q.5.4", "Cơ quan thông báo kịp thời kết quả xử lý các góp ý, phản ánh, kiến nghị cho Ông/Bà."),
        ("element.5", "Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị"),
        ("q.info.family", "Qua người thân, bạn bè"),
    ],
    ids=["1.2", "2.4", "3.3", "5.4", "element-5", "option-with-comma"],
)  # fmt: skip
def test_wording_is_kept_whole(key: str, wording: str) -> None:
    assert Q.text(key, "vi") == wording


def test_element_five_hangs_on_the_filter() -> None:
    for code in ("5.1", "5.2", "5.3", "5.4"):
        step = Q.step(code)
        assert step is not None
        assert step.when is not None
        assert step.when.item == "f5"
        assert step.when.values == {"yes"}
    assert Q.index_of("f5") < Q.index_of("5.1")


@pytest.mark.parametrize("method", METHODS)
def test_every_text_has_english(method: str) -> None:
    texts = load_questionnaire(method).texts
    assert [k for k, v in texts.items() if "en" not in v] == []


@pytest.mark.parametrize("method", METHODS)
def test_no_ethnicity_question(method: str) -> None:
    texts = load_questionnaire(method).texts
    assert not [k for k, v in texts.items() if "dân tộc" in v["vi"].lower()]


def test_missing_vietnamese_is_refused() -> None:
    raw = {
        "id": "x",
        "title": {"vi": "T", "en": "T"},
        "scale": [{"value": 1, "vi": "A", "en": "A"}],
        "elements": [{"code": "1", "vi": "E", "en": "E", "criteria": [{"code": "1.1", "en": "x"}]}],
    }
    with pytest.raises(QuestionnaireError, match="Vietnamese"):
        parse(raw)


def test_flow_diagram_is_current() -> None:
    from pathlib import Path

    from conversations.diagram import survey_mermaid

    doc = Path(__file__).resolve().parents[2] / "docs" / "flows" / "survey.mmd"
    assert doc.read_text(encoding="utf-8") == survey_mermaid(load_questionnaire()), (
        "regenerate: python -m conversations.diagram > docs/flows/survey.mmd"
    )
