"""The questionnaire data: the 22 criteria of QĐ 2640 in 5 elements, filter, descriptive items."""

from __future__ import annotations

import pytest

from conversations import load_questionnaire
from conversations.questionnaire import QuestionnaireError, parse

Q = load_questionnaire()


def test_twenty_two_criteria_in_five_elements() -> None:
    assert [len(e.criteria) for e in Q.elements] == [4, 5, 6, 3, 4]
    assert Q.criteria_count == 22
    numbers = [s.number for s in Q.steps if s.kind == "rating"]
    assert numbers == list(range(1, 23))


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
    assert Q.texts[key]["vi"] == wording


def test_element_five_hangs_on_the_filter() -> None:
    for code in ("5.1", "5.2", "5.3", "5.4"):
        step = Q.step(code)
        assert step is not None
        assert step.when is not None
        assert step.when.item == "f5"
        assert step.when.values == {"yes"}
    assert Q.index_of("f5") < Q.index_of("5.1")


def test_every_text_has_english() -> None:
    assert [k for k, v in Q.texts.items() if "en" not in v] == []


def test_no_ethnicity_question() -> None:
    assert not [k for k, v in Q.texts.items() if "dân tộc" in v["vi"].lower()]


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
    assert doc.read_text(encoding="utf-8") == survey_mermaid(Q), (
        "regenerate: python -m conversations.diagram > docs/flows/survey.mmd"
    )
