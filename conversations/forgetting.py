"""The answer to ``/xoadulieu``'s question: delete the chat's data, or keep it."""

from __future__ import annotations

from .asking import prompt
from .context import Env
from .effects import Change, ConversationState, ForgetContact, Outcome, Reply
from .flows import menu, survey
from .flows.survey import SurveyData

#: The prefix of the question's buttons (``forget:yes``, ``forget:no``).
FORGET_BUTTON = "forget"


def answer(state: ConversationState, delete: bool, env: Env) -> Outcome:
    """«Xóa» deletes the contact's data (and a survey in progress, whose invitation ends with
    it); «Giữ lại» keeps everything and asks the question at rest again."""
    if not delete:
        return Outcome((Reply("forget.kept"), *prompt(state, env)), state=state)
    changes: tuple[Change, ...] = (ForgetContact(None),)
    if state.flow == survey.FLOW:
        data = SurveyData.load(state.data)
        # The invitation the survey came from ends with it (its answers are deleted).
        ended = tuple(
            c for c in survey.ending(data, "abandoned", env.now) if c.kind != "end_response"
        )
        changes = (ForgetContact(data.rid, data.receipt), *ended)
    new = menu.idle(state)
    return Outcome((Reply("forget.done"), menu.again()), changes=changes, state=new)
