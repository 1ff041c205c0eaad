"""The engine: (state, event, environment, facts) -> outcome. Pure; never sends or writes."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from . import forgetting, later
from .asking import prompt as prompt
from .asking import say_busy, then
from .command_routing import LANGUAGES as LANGUAGES
from .command_routing import EngineError as EngineError
from .command_routing import _cancel, _command, _set_language, _switched
from .context import Env, Facts
from .dossier_events import INVITE_BUTTON
from .effects import ConversationState, Outcome, Ref, Reply
from .events import Attachment, Choice, Command, Expired, Inbound, Text, TimedOut
from .flows import (
    complaint,
    dossier,
    menu,
    staff,
    staff_room,
    staff_typed,
    survey,
    tracking,
)
from .inbound import ambiguous, cleaned, typed_choice
from .limits import MAX_INBOUND_CHARS
from .parsing import CANCEL_WORDS, normalize
from .resent import settle, typed_rating, unclear, without_rate_too
from .switching import SWITCH_BUTTON, ask_switch, switch_command, without_pending
from .text_limits import text_limit
from .typed import read_as

#: Flows that answer an empty text in their own words (an empty comment, the staff note).
_OWN_EMPTY = frozenset({survey.FLOW, staff.FLOW})
#: Buttons that mean the same at every step, by the prefix of their id (``case:PA-…:take``).
GLOBAL_BUTTONS = (
    frozenset({"lang", "forget", "menu", "case", "rate", "supp", SWITCH_BUTTON, later.LATER_BUTTON})
    | dossier.BUTTONS
)
#: The survey button last accepted, so that a second tap on it is recognised as a double tap.
LAST_CHOICE = "last_choice"
#: A survey's ending buttons pressed with no survey in progress (a double tap, an old
#: message), and the answer, true whatever became of the survey.
_SURVEY_ENDS = {
    f"{survey.SUMMARY}:submit": "survey.none_to_submit",
    f"{survey.CONSENT}:no": "common.already_answered",
}


def handle(
    state: ConversationState, event: Inbound, env: Env, facts: Facts | None = None
) -> Outcome:
    """Applies one inbound event to a conversation.

    Commands and the global buttons (menu, language, case actions, ratings) work at every
    step; everything else goes to the current flow, which re-asks its question when it does
    not understand. An officer's chat remembers the case buttons it was last shown, which a
    typed number or label then names (:mod:`flows.staff_typed`).
    """
    facts = facts or Facts()
    outcome = settle(later.follow(state, _handle(state, event, env, facts)), state)
    if facts.admin and not facts.room:
        return staff_typed.remember(outcome, state, env.now)
    if facts.room and facts.sender_name:
        return staff_typed.named_prompts(outcome, facts.sender_name)
    return outcome


def _handle(state: ConversationState, event: Inbound, env: Env, facts: Facts) -> Outcome:
    event = read_as(state, event)
    if isinstance(event, Expired):
        if state.flow == survey.FLOW:
            return survey.expire(state, env)
        return Outcome((), state=state)
    if isinstance(event, TimedOut):
        if state.flow == survey.FLOW:
            return survey.remind(state, env)
        return Outcome((), state=state)
    event = cleaned(event)  # whatever the channel did, the engine reads normalised text
    if facts.room and facts.stray_room:
        # An administrator in a group that is no staff room: never silence, what to set.
        stray = Reply("staff5.not_a_room", (("chat", facts.stray_room),))
        return Outcome((stray,), state=state, ack="close")
    if facts.room:
        # A staff group: staff only, in staff words (never the citizen's menu).
        in_room = staff_room.handle(state, event, env, facts)
        if in_room is not None:
            return in_room
    if isinstance(event, Command):
        return _command(state, event, env, facts)
    if isinstance(event, Text) and event.edited:
        # Telegram's edited_message: read only where the edited text is still pending.
        taken = complaint.edited(state, event, env)
        if taken is not None:
            return taken
        return Outcome((Reply("input.edit_not_read"), *prompt(state, env)), state=state)
    if isinstance(event, Text) and normalize(event.text) in CANCEL_WORDS:
        return _cancel(state, env)  # typed where there is no button (Zalo, the console)
    if isinstance(event, Text) and len(event.text) > MAX_INBOUND_CHARS:
        # Told with the limit of the step waiting (a comment's 1,000, not the 4,096 any
        # text is cut to) and the real length of what was typed.
        hint = text_limit(state).hint(max(event.length, len(event.text)))
        return Outcome((hint, *prompt(state, env)), state=state)
    if isinstance(event, Text) and not event.text and state.flow not in _OWN_EMPTY:
        # Spaces, zero-width characters, a blank-looking filler: nothing to read, said so
        # (the survey says it in its own words: an empty comment, a rating not given).
        return Outcome((Reply("input.empty"), *prompt(state, env)), state=state)
    if isinstance(event, Attachment):
        taken = _attachment(state, event, env, facts)
        if taken is not None:
            return taken
    if isinstance(event, Choice):
        global_outcome = _global_choice(state, event.id, env, facts)
        if global_outcome is not None:
            global_outcome = _back_to_task(state, global_outcome, env)
            return global_outcome if global_outcome.ack else replace(global_outcome, ack="close")
        if event.id == state.data.get(LAST_CHOICE):
            # A double tap: the first press was taken and the next question is on its way.
            return Outcome((Reply("common.already_answered"),), state=state)
        if state.flow is None and event.id in _SURVEY_ENDS:
            # A survey's last button pressed again, or late: the survey left no trace in the
            # state to tell which (see ``_remembered``), so the answer fits both.
            return Outcome((Reply(_SURVEY_ENDS[event.id]),), state=state)
    pending = switch_command(state)
    if pending is not None and not isinstance(event, Choice):
        # "Keep it or drop it?" waits for its answer: typed text is read against those two
        # options only; anything else asks it again, never reaching the hidden task's step.
        question, _ = ask_switch(without_pending(state), pending.name, pending.arg)
        picked = typed_choice(event.text, (question,)) if isinstance(event, Text) else None
        if picked is not None:
            return _switched(state, picked.partition(":")[2], env, facts)
        return Outcome((Reply("input.switch_unclear"), question), state=state)
    if isinstance(event, Text) and facts.admin and not facts.room and state.flow is None:
        # An officer's typed option names a case card's button, never the citizen's menu.
        typed = staff_typed.read(state, event.text, facts)
        if isinstance(typed, Outcome):
            return typed
        if typed is not None:
            chosen = _global_choice(state, typed, env, staff_typed.with_open_cases(facts))
            if chosen is not None:
                return chosen
    if isinstance(event, Text):
        # A rating request re-sent just before this task's question told the citizen to
        # type a digit (D7): that digit rates the case, and the task's question comes again.
        rating = typed_rating(state, event.text, prompt(state, env))
        if rating is not None:
            return _rated(without_rate_too(state), rating, env, facts)
        # An option typed instead of pressed (its number, its label however written, the
        # line as displayed, yes/no words) is that button.
        asked = prompt(state, env)
        picked = typed_choice(event.text, asked)
        unclear = ambiguous(event.text, asked) if picked is None and state.flow else None
        if unclear is not None:  # a part of several labels: say which, and ask again
            return Outcome((unclear, *asked), state=state)
        if picked is not None:
            if state.flow is None:
                outcome = _global_choice(state, picked, env, facts)
                if outcome is not None:
                    return outcome
            else:
                event = Choice(picked)
    flow = state.flow
    if flow == survey.FLOW:
        answered = survey.handle(state, event, env, facts)
    elif flow == complaint.FLOW:
        answered = complaint.handle(state, event, env, facts)
    elif flow == tracking.LOOKUP:
        answered = tracking.handle_lookup(state, event, env, facts)
    elif flow == tracking.SUPPLEMENT:
        answered = tracking.handle_supplement(state, event, env, facts)
    elif flow == staff.FLOW and facts.admin:
        answered = staff.handle_note(state, event, env, facts, facts.sender)
    else:
        return _idle(state, event, env, facts)
    if isinstance(event, Choice) and answered.ack == "close" and answered.state is not None:
        if not _remembered(state, answered.state):
            return answered
        data = {**answered.state.data, LAST_CHOICE: event.id}
        return replace(answered, state=replace(answered.state, data=data))
    return answered


def _rated(state: ConversationState, choice_id: str, env: Env, facts: Facts) -> Outcome:
    """The rating ``choice_id`` (``"rate:CODE:N"``) typed in the middle of a task: recorded
    (or why not), then the task's question again instead of the menu."""
    code, _, value = choice_id.removeprefix("rate:").rpartition(":")
    rated = tracking.rate(state, env, facts, code, value)
    replies = tuple(r for r in rated.replies if r.key != "menu.again")
    return replace(rated, replies=(*replies, *prompt(state, env)))


#: Replies that offer the menu: mid-task they would stand in for the task's own question.
_MENU_REPLIES = frozenset({"menu.again", "menu.welcome"})


def _back_to_task(before: ConversationState, outcome: Outcome, env: Env) -> Outcome:
    """A button that means the same at every step (a rating, a case card's button), pressed
    in the middle of a task, that leaves the task at its step and asks nothing itself (a
    forged or stale ``rate:CODE:²``, an unknown code, a thank-you): its answer, then the
    task's question again, as every other off-flow input mid-task gets, never an answer with
    no button left to press (issue 10). The menu such an answer offers when idle is dropped
    (a citizen's forged ``case:`` button gets the word on a stale button instead). An answer
    that changes the step, asks its own question, or already ends with the question, is
    returned as it is."""
    after = outcome.state or before
    if before.flow is None or (after.flow, after.step) != (before.flow, before.step):
        return outcome
    said = tuple(r for r in outcome.replies if r.key not in _MENU_REPLIES)
    if any(r.choices for r in said):
        return outcome
    asked = prompt(after, env)
    if said[len(said) - len(asked) :] == tuple(asked):
        return outcome
    return replace(outcome, replies=(*(said or (Reply("common.stale_choice"),)), *asked))


def _remembered(before: ConversationState, after: ConversationState) -> bool:
    """Whether the button just taken is kept (``LAST_CHOICE``) to recognise a double tap.

    Not when it ended a survey: the state a survey leaves is the same whichever way it ended
    (submitted, declined, cancelled, expired; with a receipt or not), so that no chat's state
    tells which anonymous response is its own. A second tap then meets ``_SURVEY_ENDS``."""
    return not (before.flow == survey.FLOW and after.flow is None)


def _attachment(
    state: ConversationState, event: Attachment, env: Env, facts: Facts
) -> Outcome | None:
    """A file where the flow does not take one: a sticker, voice, location … gets a hint and
    the question again; a caption is read as the text it is, and the file said not kept.
    None when the flow takes the file itself (a complaint, a supplement)."""
    at_file_step = state.step in (complaint.TEXT, complaint.FILES) or not event.caption
    # A file of a kind we do not keep (``what`` unset: a program, unknown bytes) is the
    # files step's to refuse; a location or a sticker (``what`` set) is no file at all.
    a_file = event.media != "other" or (state.step == complaint.FILES and not event.what)
    files_here = state.flow == tracking.SUPPLEMENT or (
        state.flow == complaint.FLOW and a_file and at_file_step
    )
    if files_here:
        return None  # the flow keeps the file, or says why not (its type, its size)
    if event.media == "other":
        # At the files step a location or a sticker is no file: said so, whatever the count.
        at_files = state.flow == complaint.FLOW and state.step == complaint.FILES
        key = "input.stray_at_files" if at_files else "input.stray"
        hint = Reply(key, (("what", Ref(f"input.what.{event.what or 'other'}")),))
        return Outcome((hint, *prompt(state, env)), state=state)
    if not event.caption:
        return None
    answered = handle(state, Text(event.caption), env, facts)
    return replace(answered, replies=(Reply("input.file_not_kept"), *answered.replies))


def _idle(state: ConversationState, event: Inbound, env: Env, facts: Facts) -> Outcome:
    stale = staff.stale_prompt(state, event) if facts.admin else None
    if stale is not None:
        return stale  # an officer's answer to a prompt already answered or cancelled
    if isinstance(event, Text):
        # "Send the tracking code at any time": a message that is only a code is /tracuu CODE.
        code = tracking.whole_code(event.text)
        if code is not None:
            return tracking.lookup(state, env, facts, code)
        picked = menu.match_menu_text(event.text)
        if picked is not None:
            outcome = _global_choice(state, picked, env, facts)
            if outcome is not None:
                return outcome
    answer = unclear(state)  # a notice re-sent just now, or its question still live
    if answer is not None:
        return answer
    return menu.unknown(menu.idle(state) if state.flow else state)


def _global_choice(
    state: ConversationState, choice_id: str, env: Env, facts: Facts
) -> Outcome | None:
    """Buttons that mean the same at every step: language, menu, case actions, ratings."""
    prefix, _, value = choice_id.partition(":")
    if prefix == "lang" and value in LANGUAGES:
        return _set_language(state, value, env)
    if prefix == forgetting.FORGET_BUTTON and value in ("yes", "no"):
        return forgetting.answer(state, value == "yes", env)
    if prefix == later.LATER_BUTTON and value in ("yes", "no"):
        run = partial(_command, env=env, facts=facts)
        return later.answer(state, value, run, partial(prompt, env=env))
    if prefix == SWITCH_BUTTON and value in ("keep", "drop"):
        return _switched(state, value, env, facts)
    if prefix == "menu":
        command = {
            "survey": "khaosat",
            "complaint": "phananh",
            "lookup": "tracuu",
            "help": "trogiup",
            "language": "ngonngu",
        }.get(value)
        if command is not None:
            return _command(state, Command(command), env, facts)
    if prefix == "case":
        code, _, act = value.rpartition(":")
        if not facts.admin:
            return Outcome((menu.welcome(env.agency),), state=state)
        return staff.action(state, env, facts, code, act, facts.sender)
    if prefix == "rate":
        code, _, rating = value.rpartition(":")
        return tracking.rate(state, env, facts, code, rating)
    if prefix == "supp":
        if state.flow is not None:
            return say_busy(state, env)
        return tracking.supplement(state, env, facts, value)
    if prefix == dossier.FOLLOW_BUTTON:
        _, _, answer = value.rpartition(":")
        return then(dossier.follow(state, env, facts, answer), env)
    if prefix == dossier.UNFOLLOW_BUTTON:
        return then(dossier.unfollow(state, facts, value), env)
    if prefix == INVITE_BUTTON:
        started = dossier.invited(state, env, facts, value)
        if started is None:
            return say_busy(state, env)
        if started.state is not None and started.state.flow == survey.FLOW:
            return started
        return then(started, env)
    return None
