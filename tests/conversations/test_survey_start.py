"""Entering the survey (``conversations/flows/survey_start.py``), on the pure functions: what
the consent screen's state holds for a menu start, a receipt and a dossier's invitation, and
what each refusal of a receipt says (issue 17: survivors of the mutation run)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from conversations.context import DossierFacts, Env, ReceiptFacts
from conversations.effects import ConversationState, Outcome
from conversations.flows import survey
from conversations.flows.survey_data import CONSENT, FLOW, SurveyData
from conversations.flows.survey_start import (
    misshapen_code,
    receipt_opens,
    start,
    start_from_receipt,
)

#: 31/01/2026 20:00 UTC: already 1 February in Hanoi.
NOW = datetime(2026, 1, 31, 20, tzinfo=UTC)
ENV = Env(now=NOW, new_id=lambda: 7, survey_ttl=timedelta(days=5), survey_method="sipas-2640")
RECEIPT = ReceiptFacts(
    id=11, token="R" * 24, procedure="1.009972", field="xaydung", valid_until=date(2026, 2, 1)
)
DOSSIER = DossierFacts(
    id=42,
    code="HS-2026-0042",
    token="Tok0123456789abcdefghijk",
    procedure="1.010001",
    received_on=date(2025, 12, 1),
    due_on=date(2026, 1, 5),
    status="handed_over",
    field="quyhoach",
    # 31/12/2025 18:30 UTC is 1 January 2026 in Hanoi: the month is the local one.
    handed_over_at=datetime(2025, 12, 31, 18, 30, tzinfo=UTC),
)
IDLE = ConversationState("vi")


def _keys(outcome: Outcome) -> list[str]:
    return [r.key for r in outcome.replies]


def _opened(outcome: Outcome) -> SurveyData:
    """The survey data of a consent screen just opened, after checking the state around it."""
    state = outcome.state
    assert state is not None
    assert (state.flow, state.step) == (FLOW, CONSENT)
    assert state.expires_at == NOW + timedelta(days=5)  # the survey's time to live, from now
    assert _keys(outcome) == ["survey.consent"]
    return SurveyData.load(state.data)


def test_a_menu_start_with_nothing_recorded_opens_the_consent_screen() -> None:
    """``start`` with no receipt and neither flag given: a chat with nothing recorded."""
    data = _opened(start(IDLE, ENV))
    assert data == SurveyData(form="sipas-2640")


def test_a_receipt_s_survey_holds_its_receipt_procedure_and_field() -> None:
    """The response is counted under the receipt's procedure and field (aggregates by them)."""
    data = _opened(start(IDLE, ENV, RECEIPT))
    assert (data.receipt, data.proc, data.area, data.dossier, data.month) == (
        11,
        "1.009972",
        "xaydung",
        None,
        None,
    )
    assert data.form == "sipas-2640"


def test_a_receipt_without_a_field_leaves_it_empty() -> None:
    data = _opened(start(IDLE, ENV, replace(RECEIPT, field=None)))
    assert (data.proc, data.area) == ("1.009972", None)


@pytest.mark.parametrize(
    ("handed_over_at", "month"),
    [
        (DOSSIER.handed_over_at, "2026-01"),  # the local month of the hand-over
        (datetime(2025, 11, 30, 16, 59, tzinfo=UTC), "2025-11"),  # 23:59 local, still November
        (None, "2026-02"),  # not recorded: now, in local time (1 February in Hanoi)
    ],
)
def test_a_dossier_s_survey_holds_the_dossier_and_its_hand_over_month(
    handed_over_at: datetime | None, month: str
) -> None:
    dossier = replace(DOSSIER, handed_over_at=handed_over_at)
    data = _opened(start(IDLE, ENV, dossier=dossier, surveyed=True, address_used=True))
    assert (data.dossier, data.proc, data.area, data.month, data.receipt) == (
        42,
        "1.010001",
        "quyhoach",
        month,
        None,
    )


@pytest.mark.parametrize(
    ("surveyed", "address_used", "key"),
    [(True, False, "survey.open_used"), (False, True, "harden10.open_address_used")],
)
def test_an_unasked_survey_once_a_period_is_refused_and_keeps_the_state(
    surveyed: bool, address_used: bool, key: str
) -> None:
    busy = ConversationState("vi", flow="complaint", step="describe", data={"x": 1})
    refused = start(busy, ENV, surveyed=surveyed, address_used=address_used)
    assert _keys(refused) == [key, "menu.again"]
    assert refused.state in (None, busy)  # None: unchanged, as the engine reads an outcome


def test_with_the_period_off_nothing_is_refused() -> None:
    env = replace(ENV, open_survey_period="off")
    _opened(start(IDLE, env, surveyed=True, address_used=True))


def _in_survey(receipt: int | None, rid: int | None) -> ConversationState:
    data = SurveyData(rid=rid, receipt=receipt, ans={"q1": 4}).dump()
    return ConversationState("vi", flow=FLOW, step="q2", data=data)


@pytest.mark.parametrize(
    ("receipt", "arg", "key"),
    [
        (None, "", "receipt.unknown"),
        (None, "abc", "receipt.unknown"),
        (None, "0123456789", "receipt.code_format"),  # 10 digits from 0
        (None, "123456789", "receipt.code_format"),  # 9 digits
        (replace(RECEIPT, response_status="used"), "", "receipt.used"),
        (replace(RECEIPT, response_status="in_progress"), "", "receipt.elsewhere"),
        (replace(RECEIPT, valid_until=date(2026, 1, 31)), "", "receipt.expired"),
    ],
)
def test_a_receipt_that_cannot_open_a_survey_says_why(
    receipt: ReceiptFacts | None, arg: str, key: str
) -> None:
    # From the menu: the reason, then the menu, the state as it was.
    refused = start_from_receipt(IDLE, ENV, receipt, arg)
    assert _keys(refused) == [key, "menu.again"]
    assert refused.state == IDLE
    # In a survey, at a question or still at the consent screen (whose text needs the
    # agency and the survey's time to live): the reason, then the step it is at, untouched.
    at_consent = replace(_in_survey(receipt=5, rid=None), step=CONSENT)
    for state in (_in_survey(receipt=None, rid=3), at_consent):
        refused = start_from_receipt(state, ENV, receipt, arg)
        assert _keys(refused)[0] == key
        assert refused.replies[1:] == tuple(survey.prompt(state, ENV))
        assert refused.state == state


def test_a_receipt_valid_through_today_opens() -> None:
    """Valid until 1 February: it is 1 February in Hanoi (31 January in UTC)."""
    data = _opened(start_from_receipt(IDLE, ENV, RECEIPT))
    assert data.receipt == 11


def test_the_receipt_of_the_survey_in_progress_resumes_it() -> None:
    state = _in_survey(receipt=11, rid=3)
    resumed = start_from_receipt(state, ENV, RECEIPT)
    assert _keys(resumed)[0] == "survey.resume"
    assert resumed.replies[1:] == tuple(survey.prompt(state, ENV))
    assert resumed.state == state


def test_another_receipt_during_a_started_survey_asks_to_finish_it_first() -> None:
    state = _in_survey(receipt=None, rid=3)
    held = start_from_receipt(state, ENV, RECEIPT)
    assert _keys(held)[0] == "survey.other_in_progress"
    assert held.state == state


def test_another_receipt_on_the_consent_screen_replaces_the_survey_not_started() -> None:
    """No response yet (no ``rid``): the new receipt's consent screen, nothing to lose."""
    state = _in_survey(receipt=5, rid=None)
    data = _opened(start_from_receipt(state, ENV, RECEIPT))
    assert (data.receipt, data.ans) == (11, {})


@pytest.mark.parametrize(
    ("arg", "misshapen"),
    [
        ("", False),
        ("1234567", False),  # 7 digits: no code at all
        ("12345678", True),
        ("123456789", True),
        ("0123456789", True),
        ("1234567890", False),  # the shape of a short code
        ("9234567890", False),
        ("12345678901", True),
        ("1234567890123", True),
        ("12345678901234", False),  # 14: not meant as a code
        ("١٢٣٤٥٦٧٨٩٠", False),  # digits of another script
        ("12345678a", False),
    ],
)
def test_what_digits_look_like_a_misshapen_short_code(arg: str, misshapen: bool) -> None:
    assert misshapen_code(arg) is misshapen


@pytest.mark.parametrize(
    ("state", "receipt", "opens"),
    [
        (IDLE, None, False),
        (IDLE, RECEIPT, True),
        (IDLE, replace(RECEIPT, response_status="used"), False),
        (IDLE, replace(RECEIPT, response_status="in_progress"), False),
        (IDLE, replace(RECEIPT, valid_until=date(2026, 1, 31)), False),
        (IDLE, replace(RECEIPT, valid_until=None), True),
        (_in_survey(receipt=11, rid=3), RECEIPT, False),  # its own survey: resumed
        (_in_survey(receipt=5, rid=3), RECEIPT, True),
        (ConversationState("vi", flow="complaint", data={"receipt": 11}), RECEIPT, True),
    ],
)
def test_whether_a_receipt_would_open_a_new_survey(
    state: ConversationState, receipt: ReceiptFacts | None, opens: bool
) -> None:
    assert receipt_opens(state, receipt, ENV) is opens
