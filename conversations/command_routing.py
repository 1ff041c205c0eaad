"""Commands routed to their task: ``/start`` with a receipt's code or a dossier's link, the
menu's commands, cancel, the language, and a new task asked for while one is half done
(keep it or drop it). Pure, as the engine that calls it."""

from __future__ import annotations

from dataclasses import replace

from . import later
from .admin_commands import admin_command
from .asking import half_done, prompt, say_busy, then
from .commands import canonical, is_admin_command
from .context import Env, Facts
from .effects import ConversationState, Outcome, Reply, RequestJob, SetLanguage
from .events import Command
from .flows import complaint, dossier, menu, receipt_codes, survey, tracking
from .switching import ask_switch, starts_same_task, switch_command, without_pending

LANGUAGES = ("vi", "en")


class EngineError(Exception):
    """A programmer error inside the engine, with a stable code for logs (goflow style)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"E{code}: {message}")
        self.code = code


def _switch(state: ConversationState, name: str, arg: str, env: Env, facts: Facts) -> Outcome:
    """Another task is asked for while one is half done: keep it or drop it (buttons).
    The same task asked for again goes on with it instead (:func:`starts_same_task`)."""
    if starts_same_task(state, name):
        return _same_task(state, name, arg, env, facts)
    if not half_done(state):
        return _command(menu.idle(state), Command(name, arg), env, facts)
    question, new = ask_switch(state, name, arg)
    return Outcome((question,), state=new)


def _same_task(state: ConversationState, name: str, arg: str, env: Env, facts: Facts) -> Outcome:
    """``/name arg`` for the task in progress: a lookup looks the new code up (or asks for
    one), a survey goes on where it was, a complaint being written is named as busy."""
    if name == "tracuu":
        return tracking.lookup(state, env, facts, arg)
    if name == "khaosat":
        return Outcome((Reply("survey.resume"), *prompt(state, env)), state=state)
    return say_busy(state, env)


def _switched(state: ConversationState, answer: str, env: Env, facts: Facts) -> Outcome:
    """The answer to :func:`_switch`: the task kept (asked again), or dropped for the new one."""
    wanted = switch_command(state)
    state = without_pending(state)
    if answer != "drop" or wanted is None:
        kept, state = later.keep_for_later(state, wanted)
        return Outcome((kept, *prompt(state, env)), state=state)
    dropped = _cancel(state, env)
    idle = dropped.state or menu.idle(state)
    started = _command(idle, wanted, env, facts)
    return replace(
        started,
        replies=(*dropped.replies[:1], *started.replies),
        changes=(*dropped.changes, *started.changes),
        ack="close",
    )


def _cancel(state: ConversationState, env: Env) -> Outcome:
    if state.flow == survey.FLOW:
        return survey.cancel(state, env)
    if state.flow == complaint.FLOW:
        return complaint.cancel(state)
    if state.flow is not None:
        return Outcome((Reply("cancel.done"), menu.again()), state=menu.idle(state))
    return Outcome((Reply("cancel.nothing"), menu.again()), state=state)


def _command(state: ConversationState, event: Command, env: Env, facts: Facts) -> Outcome:
    name = canonical(event.name)
    if is_admin_command(name):
        if not facts.admin:
            return Outcome((menu.welcome(env.agency),), state=state)
        return admin_command(state, name or "", event.arg, env, facts)
    if name == "start" and receipt_codes.is_short_code(event.arg.strip()):
        # A short code, typed or sent on any channel: wrong ones are counted per chat per day.
        refused = receipt_codes.refused(state, env)
        if refused is not None:
            return then(refused, env) if state.flow is not None else refused
        opened = _start_with(state, event, env, facts)
        found = facts.receipt is not None or facts.dossier is not None
        return receipt_codes.counted(state, opened, env, found)
    if name == "start" and event.arg.strip():
        return _start_with(state, event, env, facts)
    return _other_command(state, event, env, facts)


def _start_with(state: ConversationState, event: Command, env: Env, facts: Facts) -> Outcome:
    """``/start ARG``: a dossier's link, or a receipt's survey (by token or short code)."""
    # A receipt token may begin with "d_" by chance: the dossier's link wins only when a
    # dossier has that token, or no receipt does.
    if facts.dossier is not None or (
        facts.receipt is None and dossier.link_token(event.arg) is not None
    ):
        return then(dossier.link(state, env, facts), env)
    if half_done(state) and survey.receipt_opens(state, facts.receipt, env):
        return _switch(state, "start", event.arg, env, facts)
    opened = survey.start_from_receipt(state, env, facts.receipt, event.arg.strip())
    if state.flow not in (None, survey.FLOW) and opened.state is state:
        # Refused (an unknown, used or expired code): the task in progress goes on, and
        # its question is asked again, not the menu.
        said = tuple(r for r in opened.replies if r.key != "menu.again")
        return replace(opened, replies=(*said, *prompt(state, env)))
    return opened


def _other_command(state: ConversationState, event: Command, env: Env, facts: Facts) -> Outcome:
    name = canonical(event.name)
    in_survey = state.flow == survey.FLOW
    busy = state.flow is not None
    if name == "start":
        if in_survey:
            return Outcome((Reply("survey.resume"), *prompt(state, env)), state=state)
        if busy:
            return say_busy(state, env)
        return Outcome((menu.welcome(env.agency),), state=state)
    if name == "khaosat":
        if busy:
            return _switch(state, name, "", env, facts)
        return survey.start(state, env, surveyed=facts.surveyed, address_used=facts.address_used)
    if name == "phananh":
        return _switch(state, name, "", env, facts) if busy else complaint.start(state, env)
    if name == "tracuu":
        if busy:
            return _switch(state, name, event.arg, env, facts)
        return tracking.lookup(state, env, facts, event.arg)
    if name == "huy":
        return _cancel(state, env)
    if name == "ketqua":
        # No reply here: the worker answers, and says "one moment" first only when the
        # results must be built (a cached answer comes at once, one message the fewer).
        return Outcome((), changes=(RequestJob("public"),), state=state)
    if name == "trogiup":
        return Outcome((Reply("help.text"), *prompt(state, env)), state=state)
    if name == "ngonngu":
        wanted = event.arg.strip().lower()
        if wanted in LANGUAGES:  # "/ngonngu en": a page's language switch, or typed
            return _set_language(state, wanted, env)
        return Outcome((menu.language_ask(),), state=state)
    if name == "xoadulieu":
        return Outcome((menu.forget_ask(),), state=state)
    if name == "hosocuatoi":
        return then(dossier.followed_list(state, facts), env)
    if name == "huytheodoi":
        return then(dossier.unfollow_command(state, facts, event.arg), env)
    if name is not None:
        raise EngineError(101, f"command {name!r} has no handler")
    hint = Reply("common.unknown_command", (("name", event.name[:32]),))
    return Outcome((hint, *prompt(state, env)), state=state)


def _set_language(state: ConversationState, language: str, env: Env) -> Outcome:
    new = replace(state, language=language)
    return Outcome(
        (Reply("language.set"), *prompt(new, env)), changes=(SetLanguage(language),), state=new
    )
