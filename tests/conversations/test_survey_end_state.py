"""Issue 10, anonymity by construction: the conversation state a survey leaves is the same
whichever way it ended (with a receipt, without, from a dossier invitation; completed,
abandoned, expired, dropped for another task). A state that differed by path would tie the one
response with a receipt, or the one abandoned, to its chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from conversations import Choice, Command
from conversations.context import Env
from conversations.effects import ConversationState, Outcome
from conversations.engine import LAST_CHOICE, handle
from conversations.flows import menu, survey

NOW = datetime(2026, 1, 20, 3, tzinfo=UTC)
ENV = Env(now=NOW, new_id=lambda: 7, open_survey_period="month")
LATER = Env(now=NOW + timedelta(days=2), new_id=lambda: 8, open_survey_period="month")


def _running(
    step: str, *, receipt: int | None = None, dossier: int | None = None
) -> ConversationState:
    data = survey.SurveyData(
        rid=7, receipt=receipt, dossier=dossier, ans={"1.1": 4}, hist=["1.1"]
    ).dump()
    return ConversationState(
        "vi",
        flow=survey.FLOW,
        step=step,
        data={**data, LAST_CHOICE: "1.1:4"},
        expires_at=NOW + timedelta(days=1),
        remind_at=NOW + timedelta(hours=6),
    )


def _submit(receipt: int | None = None, dossier: int | None = None) -> Outcome:
    at = _running(survey.SUMMARY, receipt=receipt, dossier=dossier)
    return handle(at, Choice(f"{survey.SUMMARY}:submit"), ENV)


def _cancel(receipt: int | None = None) -> Outcome:
    return handle(_running("1.2", receipt=receipt), Command("huy"), ENV)


def _expire(receipt: int | None = None) -> Outcome:
    return survey.expire(_running("1.2", receipt=receipt), LATER)


PATHS: dict[str, Callable[[], Outcome]] = {
    "completed-no-receipt": _submit,
    "completed-receipt": lambda: _submit(receipt=3),
    "completed-dossier": lambda: _submit(dossier=9),
    "abandoned-no-receipt": _cancel,
    "abandoned-receipt": lambda: _cancel(receipt=3),
    "expired-no-receipt": _expire,
    "expired-receipt": lambda: _expire(receipt=3),
}


@pytest.mark.parametrize("path", PATHS)
def test_the_state_a_survey_leaves_is_the_same_on_every_path(path: str) -> None:
    outcome = PATHS[path]()
    assert outcome.state is not None
    assert outcome.state == ConversationState("vi", data={menu.OPEN_SURVEY: "2026-01"})


def test_a_double_tap_on_submit_changes_nothing_more() -> None:
    """With no remembered last button the second tap on "submit" meets an idle chat: it
    neither stores anything nor puts a trace of the survey back into the state."""
    done = _submit(receipt=3)
    assert done.state is not None
    again = handle(done.state, Choice(f"{survey.SUMMARY}:submit"), ENV)
    assert again.changes == ()
    assert again.state is None or again.state.data == done.state.data
