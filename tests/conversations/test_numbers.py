"""Figures are rounded half up wherever a person reads them: 4,25 is 4,3, never 4,2."""

from __future__ import annotations

import pytest

from conversations import Number, Reply, default_catalog, format_decimal, round_half_up
from conversations.flows.survey import SurveyData, _summary_reply
from conversations.questionnaire import load as load_questionnaire

CATALOG = default_catalog()


@pytest.mark.parametrize(
    ("value", "places", "vi", "en"),
    [
        (4.25, 1, "4,3", "4.3"),  # Python's round(4.25, 1) is 4.2
        (4.35, 1, "4,4", "4.4"),
        (0.125, 2, "0,13", "0.13"),  # a ratio of counts, 100·1/800, exactly a tie
        (84.125, 2, "84,13", "84.13"),
        (2.675, 2, "2,68", "2.68"),  # binary 2.67499…, but 2.675 is what was meant
        (-0.001, 2, "0,00", "0.00"),  # never "-0,00"
        (-1.25, 1, "-1,3", "-1.3"),
    ],
)
def test_format_decimal_rounds_half_up(value: float, places: int, vi: str, en: str) -> None:
    assert format_decimal(value, "vi", places) == vi
    assert format_decimal(value, "en", places) == en


@pytest.mark.parametrize(
    ("value", "places", "rounded"),
    [
        (4.25, 1, 4.3),
        (0.125, 2, 0.13),
        (100 * 1 / 8, 0, 13.0),
        (84.125, 2, 84.13),
        (1 / 3, 2, 0.33),
    ],
)
def test_round_half_up(value: float, places: int, rounded: float) -> None:
    assert round_half_up(value, places) == rounded


@pytest.mark.parametrize(
    ("number", "vi", "en"),
    [
        (Number(4.25, 1), "4,3", "4.3"),
        (Number(84.125, 2, "%"), "84,13%", "84.13%"),
        (Number(0.125, 2, "", signed=True), "▲ 0,13", "▲ 0.13"),
        (Number(-0.125, 2, "", signed=True), "▼ 0,13", "▼ 0.13"),
    ],
)
def test_numbers_in_messages(number: Number, vi: str, en: str) -> None:
    reply = Reply("digest.complaint_ratings", (("mean", number), ("base", 4)))
    assert f"{vi}/5" in CATALOG.render(reply, "vi").text
    assert f"{en}/5" in CATALOG.render(reply, "en").text


def test_the_citizens_mean_of_four_twenty_five_is_four_point_three() -> None:
    first = load_questionnaire().elements[0].criteria
    data = SurveyData(ans={first[0]: 4, first[1]: 4, first[2]: 4, first[3]: 5})  # 17/4 = 4.25
    text = CATALOG.render(_summary_reply(data), "vi").text
    assert "4 tiêu chí, điểm trung bình 4,3/5" in text
    assert "4 criteria rated, average 4.3/5" in CATALOG.render(_summary_reply(data), "en").text
