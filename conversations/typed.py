"""A plain message a channel read as a command (a receipt's short code, typed without /start),
taken back as text where a step waits for free text: at the complaint's phone prompt
``1234567890`` is a (wrong) phone number, never a receipt code."""

from __future__ import annotations

from .effects import ConversationState
from .events import Command, Inbound, Text
from .flows import survey


def waits_for_text(state: ConversationState) -> bool:
    """Whether the conversation's current step reads typed text: every step of a task other
    than the survey, and the survey's comment questions. At rest, or at a survey question
    answered with buttons, it does not (a receipt code there is "a survey is under way")."""
    if state.flow is None:
        return False
    if state.flow != survey.FLOW:
        return True
    step = survey.questionnaire(survey.SurveyData.load(state.data)).step(state.step or "")
    return step is not None and step.kind == "text"


def read_as(state: ConversationState, event: Inbound) -> Inbound:
    """``event`` as the conversation in ``state`` reads it: a command that was a plain message
    (``Command.typed``) is that message again where the step waits for free text."""
    if isinstance(event, Command) and event.typed and waits_for_text(state):
        return Text(event.typed)
    return event
