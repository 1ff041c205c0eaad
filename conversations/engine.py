"""The engine: (state, event, environment, facts) -> outcome. Pure; never sends or writes."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from . import forgetting, later
from .admin_commands import admin_command
from .asking import half_done, say_busy, then
from .asking import prompt as prompt
from .commands import canonical, is_admin_command
from .context import Env, Facts
from .dossier_events import INVITE_BUTTON
from .effects import (
    ConversationState,
    Outcome,
    Ref,
    Reply,
    RequestJob,
    SetLanguage,
)
from .events import Attachment, Choice, Command, Expired, Inbound, Text, TimedOut
from .flows import (
    complaint,
    dossier,
    menu,
    receipt_codes,
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
from .switching import (
    SWITCH_BUTTON,
    ask_switch,
    starts_same_task,
    switch_command,
    without_pending,
)
from .text_limits import text_limit
from .typed import read_as

LANGUAGES = ("vi", "en")
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


class EngineError(Exception):
    """A programmer error inside the engine, with a stable code for logs (goflow style)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"E{code}: {message}")
        self.code = code


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
