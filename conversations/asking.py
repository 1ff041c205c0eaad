"""What the conversation waits on: the pending question to ask again after a hint, after a
one-off answer, or when another task is asked for while this one is half done.

Split from ``conversations.engine``, which routes each event; these are the replies that
re-ask, shared by the engine and by ``conversations.admin_commands``.
"""

from __future__ import annotations

from dataclasses import replace

from .context import Env
from .effects import ConversationState, Outcome, Reply
from .flows import complaint, menu, staff, survey, tracking
from .flows.survey import SurveyData
from .later import offer
from .resent import live
from .switching import busy as busy_reply


def prompt(state: ConversationState, env: Env) -> list[Reply]:
    """The question the conversation is waiting on, to re-ask after a hint."""
    if state.flow == survey.FLOW:
        return survey.prompt(state, env)
    if state.flow == complaint.FLOW:
        return complaint.prompt(state, env)
    if state.flow in (tracking.LOOKUP, tracking.SUPPLEMENT):
        return tracking.prompt(state)
    if state.flow == staff.FLOW:
        return staff.prompt(state)
    # A re-sent notice's question, if one is live; a task kept for later, offered.
    return [live(state) or offer(state) or menu.again()]


def then(outcome: Outcome, env: Env) -> Outcome:
    """A one-off answer (about a dossier), followed by what comes next: the menu when idle,
    the question still pending otherwise; nothing when the answer asks a question itself."""
    state = outcome.state
    assert state is not None
    if outcome.replies and outcome.replies[-1].choices:
        return outcome
    nxt = prompt(state, env) if state.flow is not None else [menu.again()]
    return replace(outcome, replies=(*outcome.replies, *nxt))


def say_busy(state: ConversationState, env: Env) -> Outcome:
    """Another task is half done: finish it or cancel it first, nothing is silently dropped."""
    return Outcome((busy_reply(state), *prompt(state, env)), state=state)


def half_done(state: ConversationState) -> bool:
    """A task with something the citizen would lose (a survey's consent screen has none)."""
    if state.flow == survey.FLOW:
        return SurveyData.load(state.data).rid is not None
    return state.flow is not None
