"""Ballot stuffing: a chat that submitted a survey in a period (any survey: the record must not
tell whether it had a receipt) may not start one without a receipt in that period; a receipt's
survey is never refused for it, and the next period opens again. The record is kept outside
the conversation state (``MarkSurveyed``, looked up as ``Facts.surveyed``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from conversations import Choice, Command
from conversations.context import Env, Facts, ReceiptFacts
from conversations.effects import ConversationState, MarkSurveyed, Outcome
from conversations.engine import handle
from conversations.flows import survey

NOW = datetime(2026, 1, 20, 3, tzinfo=UTC)


def _env(now: datetime = NOW, period: str = "month") -> Env:
    return Env(now=now, new_id=lambda: 7, open_survey_period=period)


def _at_summary(receipt: int | None) -> ConversationState:
    data = survey.SurveyData(rid=7, receipt=receipt).dump()
    return ConversationState("vi", flow=survey.FLOW, step=survey.SUMMARY, data=data)


def _st(outcome: Outcome) -> ConversationState:
    assert outcome.state is not None
    return outcome.state


def _keys(outcome: object) -> list[str]:
    return [r.key for r in outcome.replies]  # type: ignore[attr-defined]


SURVEYED = Facts(surveyed=True)


@pytest.mark.parametrize("receipt", [None, 3])
def test_any_submitted_survey_is_recorded_outside_the_state(receipt: int | None) -> None:
    done = handle(_at_summary(receipt), Choice(f"{survey.SUMMARY}:submit"), _env())
    assert _keys(done)[0] == "survey.thanks"
    # Without a receipt it counts against the web address's share too (bot.web.survey_limit).
    assert MarkSurveyed("2026-01", unasked=receipt is None) in done.changes
    assert _st(done) == ConversationState("vi")


def test_a_second_open_survey_in_the_period_is_refused_politely() -> None:
    again = handle(ConversationState("vi"), Command("khaosat"), _env(), SURVEYED)
    assert _keys(again) == ["survey.open_used", "menu.again"]
    assert again.changes == ()
    assert _st(again).flow is None


def test_a_receipt_is_never_refused_for_it() -> None:
    receipt = ReceiptFacts(id=5, token="t" * 24, procedure="1.1")
    with_receipt = survey.start(ConversationState("vi"), _env(), receipt, surveyed=True)
    assert _st(with_receipt).flow == survey.FLOW


def test_not_surveyed_opens() -> None:
    opened = handle(ConversationState("vi"), Command("khaosat"), _env(), Facts())
    assert _st(opened).flow == survey.FLOW


def test_off_means_no_limit() -> None:
    done = handle(_at_summary(None), Choice(f"{survey.SUMMARY}:submit"), _env(period="off"))
    assert not [c for c in done.changes if isinstance(c, MarkSurveyed)]
    opened = handle(ConversationState("vi"), Command("khaosat"), _env(period="off"), SURVEYED)
    assert _st(opened).flow == survey.FLOW


@pytest.mark.parametrize(
    ("period", "key"),
    [
        ("day", "2026-01-20"),
        ("week", "2026-W04"),
        ("month", "2026-01"),
        ("year", "2026"),
        ("off", None),
    ],
)
def test_period_keys(period: str, key: str | None) -> None:
    assert survey.period_key(date(2026, 1, 20), period) == key


def test_a_receipt_expires_at_local_midnight_not_utc() -> None:
    # 31 Jan 18:00 UTC is 1 Feb 01:00 in Hanoi: a receipt valid until 31 Jan has expired.
    receipt = ReceiptFacts(id=5, token="t" * 24, procedure="1.1", valid_until=date(2026, 1, 31))
    late = _env(datetime(2026, 1, 31, 18, tzinfo=UTC))
    refused = survey.start_from_receipt(ConversationState("vi"), late, receipt)
    assert _keys(refused)[0] == "receipt.expired"
    in_time = _env(datetime(2026, 1, 31, 16, 59, tzinfo=UTC))
    assert (
        _st(survey.start_from_receipt(ConversationState("vi"), in_time, receipt)).flow == "survey"
    )
