"""Entering the SIPAS survey: the consent screen, opened from the menu, a receipt or a
dossier's invitation; the one-survey-per-period key; a receipt that cannot open one, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ..context import DossierFacts, Env, ReceiptFacts
from ..effects import ConversationState, Outcome, Reply
from . import menu
from .survey_data import CONSENT, FLOW, SurveyData
from .survey_views import _consent_reply, prompt


def period_key(day: date, period: str) -> str | None:
    """The calendar period ``day`` falls in ("2026-01" for a month); None for "off"."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "year":
        return str(day.year)
    return None


def start(
    state: ConversationState,
    env: Env,
    receipt: ReceiptFacts | None = None,
    *,
    dossier: DossierFacts | None = None,
    surveyed: bool = False,
    address_used: bool = False,
) -> Outcome:
    """Opens the consent screen; nothing is stored about the citizen until they agree.

    Without a receipt (or a dossier invitation), a chat that already submitted a survey in
    this period (``surveyed``: any survey, so that the record does not tell whether it had a
    receipt) is told so politely instead: one chat cannot count several times in the index.
    So is a web visitor whose address completed its share of such surveys (``address_used``):
    fresh cookies from one client cannot stuff the index either (issue 10, point 7)."""
    period = period_key(env.today, env.open_survey_period)
    unasked = receipt is None and dossier is None
    if unasked and period is not None and surveyed:
        return Outcome((Reply("survey.open_used"), menu.again()), state=state)
    if unasked and period is not None and address_used:
        return Outcome((Reply("harden10.open_address_used"), menu.again()), state=state)
    data = SurveyData(
        receipt=receipt.id if receipt else None,
        proc=receipt.procedure if receipt else None,
        area=receipt.field if receipt else None,
        form=env.survey_method,
    )
    if dossier is not None:
        data.proc, data.area, data.dossier = dossier.procedure, dossier.field, dossier.id
        handed = dossier.handed_over_at or env.now
        data.month = f"{handed.astimezone(env.tz):%Y-%m}"
    new = replace(
        state, flow=FLOW, step=CONSENT, data=data.dump(), expires_at=env.now + env.survey_ttl
    )
    return Outcome((_consent_reply(env, data),), state=new)


def start_from_receipt(
    state: ConversationState, env: Env, receipt: ReceiptFacts | None, arg: str = ""
) -> Outcome:
    """``/start TOKEN``: the survey for that receipt, or a kind word on why not (for digits
    that cannot be a short code, what a code looks like)."""
    in_survey = state.flow == FLOW
    data = SurveyData.load(state.data) if in_survey else SurveyData()
    if receipt is None:
        return _refuse(
            state, env, "receipt.code_format" if misshapen_code(arg) else "receipt.unknown"
        )
    if in_survey and data.receipt == receipt.id:
        return Outcome((Reply("survey.resume"), *prompt(state, env)), state=state)
    status = receipt.response_status
    if status == "used":
        return _refuse(state, env, "receipt.used")
    if status == "in_progress":
        return _refuse(state, env, "receipt.elsewhere")
    if receipt.expired(env.today):
        return _refuse(state, env, "receipt.expired")
    if in_survey and data.rid is not None:
        return Outcome((Reply("survey.other_in_progress"), *prompt(state, env)), state=state)
    return start(state, env, receipt)


def misshapen_code(arg: str) -> bool:
    """Whether ``arg`` is digits meant as a receipt's short code (10 digits, the first 1-9)
    but of the wrong shape: 8 to 13 digits, not 10 beginning with 1-9."""
    if not (arg.isascii() and arg.isdigit() and 8 <= len(arg) <= 13):
        return False
    return len(arg) != 10 or arg[0] == "0"


def receipt_opens(state: ConversationState, receipt: ReceiptFacts | None, env: Env) -> bool:
    """Whether ``/start TOKEN`` would open a new survey for this receipt (a valid one, not
    used, not the one in progress): only then is a task in progress worth asking about."""
    if receipt is None or receipt.response_status is not None or receipt.expired(env.today):
        return False
    return state.flow != FLOW or SurveyData.load(state.data).receipt != receipt.id


def _refuse(state: ConversationState, env: Env, key: str) -> Outcome:
    if state.flow == FLOW:
        return Outcome((Reply(key), *prompt(state, env)), state=state)
    return Outcome((Reply(key), menu.again()), state=state)
