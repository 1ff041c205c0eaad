"""The engine: (state, event, environment, facts) -> outcome. Pure; never sends or writes."""

from __future__ import annotations

from dataclasses import replace

from .commands import canonical, is_admin_command
from .context import Env, Facts
from .effects import ConversationState, ForgetContact, Outcome, Reply, SetLanguage
from .events import Choice, Command, Expired, Inbound, Text
from .flows import menu, survey
from .flows.survey import SurveyData
from .limits import MAX_INBOUND_CHARS

LANGUAGES = ("vi", "en")
#: The survey button last accepted, so that a second tap on it is recognised as a double tap.
LAST_CHOICE = "last_choice"


class EngineError(Exception):
    """A programmer error inside the engine, with a stable code for logs (goflow style)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"E{code}: {message}")
        self.code = code


def handle(
    state: ConversationState, event: Inbound, env: Env, facts: Facts | None = None
) -> Outcome:
    """Applies one inbound event to a conversation.

    Commands and the menu's global buttons work at every step; everything else goes to the
    current flow, which re-asks its question when it does not understand.
    """
    facts = facts or Facts()
    if isinstance(event, Expired):
        if state.flow == survey.FLOW:
            return survey.expire(state, env)
        return Outcome((), state=state)
    if isinstance(event, Command):
        return _command(state, event, env, facts)
    if isinstance(event, Text) and len(event.text) > MAX_INBOUND_CHARS:
        hint = Reply("common.too_long", (("got", len(event.text)), ("max", MAX_INBOUND_CHARS)))
        return Outcome((hint, *prompt(state, env)), state=state)
    if isinstance(event, Choice):
        global_outcome = _global_choice(state, event.id, env)
        if global_outcome is not None:
            return replace(global_outcome, ack="close")
        if event.id == state.data.get(LAST_CHOICE):
            # A double tap: the first press was taken and the next question is on its way.
            return Outcome((Reply("common.already_answered"),), state=state)
    if state.flow == survey.FLOW:
        answered = survey.handle(state, event, env, facts)
        if isinstance(event, Choice) and answered.ack == "close" and answered.state is not None:
            data = {**answered.state.data, LAST_CHOICE: event.id}
            return replace(answered, state=replace(answered.state, data=data))
        return answered
    if isinstance(event, Text):
        picked = menu.match_menu_text(event.text)
        if picked is not None:
            outcome = _global_choice(state, picked, env)
            if outcome is not None:
                return outcome
    return menu.unknown(state)


def prompt(state: ConversationState, env: Env) -> list[Reply]:
    """The question the conversation is waiting on, to re-ask after a hint."""
    if state.flow == survey.FLOW:
        return survey.prompt(state, env)
    return [menu.again()]


def _command(state: ConversationState, event: Command, env: Env, facts: Facts) -> Outcome:
    name = canonical(event.name)
    in_survey = state.flow == survey.FLOW
    if is_admin_command(name):
        if not facts.admin:
            return Outcome((menu.welcome(env.agency),), state=state)
        return Outcome((Reply("admin.unavailable"), *prompt(state, env)), state=state)
    if name == "start" and event.arg.strip():
        return survey.start_from_receipt(state, env, facts.receipt)
    if name == "start":
        if in_survey:
            return Outcome((Reply("survey.resume"), *prompt(state, env)), state=state)
        return Outcome((menu.welcome(env.agency),), state=state)
    if name == "khaosat":
        if in_survey:
            return Outcome((Reply("survey.resume"), *prompt(state, env)), state=state)
        return survey.start(state, env)
    if name == "huy":
        if in_survey:
            return survey.cancel(state, env)
        return Outcome((Reply("cancel.nothing"), menu.again()), state=state)
    if name == "trogiup":
        return Outcome((Reply("help.text"), *prompt(state, env)), state=state)
    if name == "ngonngu":
        return Outcome((menu.language_ask(),), state=state)
    if name == "xoadulieu":
        return Outcome((menu.forget_ask(),), state=state)
    if name is not None:
        raise EngineError(101, f"command {name!r} has no handler")
    hint = Reply("common.unknown_command", (("name", event.name[:32]),))
    return Outcome((hint, *prompt(state, env)), state=state)


def _global_choice(state: ConversationState, choice_id: str, env: Env) -> Outcome | None:
    """Buttons that mean the same at every step: language and the menu's entries."""
    prefix, _, value = choice_id.partition(":")
    if prefix == "lang" and value in LANGUAGES:
        new = replace(state, language=value)
        return Outcome(
            (Reply("language.set"), *prompt(new, env)), changes=(SetLanguage(value),), state=new
        )
    if prefix == "forget" and value == "yes":
        rid = SurveyData.load(state.data).rid if state.flow == survey.FLOW else None
        new = menu.idle(state)
        return Outcome(
            (Reply("forget.done"), menu.again()), changes=(ForgetContact(rid),), state=new
        )
    if prefix == "forget" and value == "no":
        return Outcome((Reply("forget.kept"), *prompt(state, env)), state=state)
    if prefix == "menu":
        command = {"survey": "khaosat", "help": "trogiup", "language": "ngonngu"}.get(value)
        if command is not None:
            return _command(state, Command(command), env, Facts())
    return None
