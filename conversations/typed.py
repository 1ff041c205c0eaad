"""A plain message a channel read as a command (a receipt's short code, typed without /start),
taken back as text where the step waits for a number: at the complaint's phone prompt
``0912345678`` or a mistyped ``1234567890`` is a (wrong) phone number, at the lookup's code
prompt digits are a tracking code, in a survey's comment they are the comment.

Anywhere else (the description, the files step, a button step) a short code is what it looks
like, a receipt's code, and is read like its QR: "keep or drop the task in progress?". At a
free-text step (the description, a name, a phone prompt) only when the code's check digit is
right and it is no phone number (a short code never is: a Vietnamese number starts with 0,
a code never does); digits merely shaped like one stay text there."""

from __future__ import annotations

from stdnum import verhoeff

from .effects import ConversationState
from .events import Command, Inbound, Text
from .flows import complaint, staff, survey
from .phone import normalize_phone

#: Steps that read free text (a phone number among them): a right short code only is a code.
FREE_TEXT_STEPS = frozenset(
    {complaint.TEXT, complaint.NAME, complaint.PHONE, complaint.ADDRESS, "l.phone", "sup.text"}
)
#: Steps that read digits as what they ask for (a tracking code).
NUMBER_STEPS = frozenset({"l.code"})


def waits_for_text(state: ConversationState, typed: str = "", code: str = "") -> bool:
    """Whether the conversation's current step reads ``typed`` (a short code ``code`` as a
    channel read it) as text: a survey's comment, a step that reads a number, a staff note,
    and a free-text step (a phone prompt among them) unless ``code`` is a right short code
    and ``typed`` no phone number. At rest, at a button step or the files step it does not."""
    if state.flow is None:
        return False
    if state.flow == survey.FLOW:
        step = survey.questionnaire(survey.SurveyData.load(state.data)).step(state.step or "")
        return step is not None and step.kind == "text"
    if state.flow == staff.FLOW or state.step in NUMBER_STEPS:
        return True
    if state.step in FREE_TEXT_STEPS:
        return not (_right_code(code) and normalize_phone(typed) is None)
    return False


def _right_code(code: str) -> bool:
    return len(code) == 10 and code.isascii() and code.isdigit() and verhoeff.is_valid(code)


def read_as(state: ConversationState, event: Inbound) -> Inbound:
    """``event`` as the conversation in ``state`` reads it: a command that was a plain message
    (``Command.typed``) is that message again where the step waits for it as text."""
    if isinstance(event, Command) and event.typed and waits_for_text(state, event.typed, event.arg):
        return Text(event.typed)
    return event
