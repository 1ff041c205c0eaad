"""A task asked for while another was half done, kept for after it (issue 13, point 6:
nothing is silently discarded).

A receipt's QR (``/start TOKEN``), ``/khaosat``, ``/phananh`` or ``/tracuu`` in the middle of
a task asks "keep it or drop it?" (:mod:`conversations.switching`). «Tiếp tục» keeps the task
in progress, and the new one is kept too: the citizen is told it will be offered when the
task ends, and when it ends (sent, cancelled, finished, whatever ends it) the offer comes
with two buttons, «Làm ngay» and «Để sau». Until answered it is the question at rest (a
typed "có" takes it); dropping it says how to open it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .effects import ChoiceOption, ConversationState, Outcome, Ref, Reply
from .events import Command
from .switching import new_task, stored_command

#: State key: the command kept for after the task in progress, ``{"name": …, "arg": …}``.
LATER = "later"
#: The buttons of the offer: ``later:yes`` opens it, ``later:no`` drops it.
LATER_BUTTON = "later"


def later_command(state: ConversationState) -> Command | None:
    """The command kept for after the task in progress, if any."""
    return stored_command(state, LATER)


def without_later(state: ConversationState) -> ConversationState:
    return replace(state, data={k: v for k, v in state.data.items() if k != LATER})


def keep_for_later(
    state: ConversationState, wanted: Command | None
) -> tuple[Reply, ConversationState]:
    """«Tiếp tục» answered: "go on" and, when a new task was asked for, that it is kept and
    will be offered when the task in progress ends; the state that keeps it."""
    if wanted is None:
        return Reply("input.switch_kept"), state
    kept = {**state.data, LATER: {"name": wanted.name, "arg": wanted.arg}}
    reply = Reply("input7.kept_for_later", (("new", Ref(new_task(wanted.name))),))
    return reply, replace(state, data=kept)


def offer(state: ConversationState) -> Reply | None:
    """At rest, with a task kept for later: the offer to do it now (two buttons)."""
    wanted = later_command(state)
    if wanted is None or state.flow is not None:
        return None
    return Reply(
        "input7.later_offer",
        (("new", Ref(new_task(wanted.name))),),
        (
            ChoiceOption(f"{LATER_BUTTON}:yes", "input7.later_yes"),
            ChoiceOption(f"{LATER_BUTTON}:no", "input7.later_no"),
        ),
    )


def follow(before: ConversationState, outcome: Outcome) -> Outcome:
    """``outcome`` of an event in ``before``, with the kept task carried along: kept while
    the task in progress goes on (a flow rewrites its state's data at each step), offered
    when it ends (instead of the menu that ends it), given up when the citizen starts yet
    another task instead (they chose it when asked to keep or drop)."""
    kept = before.data.get(LATER)
    after = outcome.state
    if kept is None or before.flow is None or after is None or LATER in after.data:
        return outcome
    if after.flow is not None and after.flow != before.flow:
        return outcome
    carried = replace(after, data={**after.data, LATER: kept})
    if after.flow is not None:
        return replace(outcome, state=carried)
    asked = offer(carried)
    replies = outcome.replies
    if replies and replies[-1].key == "menu.again":
        replies = replies[:-1]
    return replace(outcome, replies=(*replies, *([asked] if asked else [])), state=carried)


def dropped(wanted: Command) -> Reply:
    """«Để sau»: how to open it again (the receipt's QR, or the command)."""
    if wanted.name == "start" and wanted.arg:
        return Reply("input7.later_dropped_receipt")
    return Reply("input7.later_dropped", (("command", f"/{wanted.name}"),))


def answer(
    state: ConversationState,
    value: str,
    run: Callable[[ConversationState, Command], Outcome],
    ask: Callable[[ConversationState], list[Reply]],
) -> Outcome:
    """The offer answered (``value`` "yes" or "no"): the kept command ``run`` now, or dropped
    with a word on how to open it again, then what ``ask`` gives; pressed again, already
    answered."""
    wanted = later_command(state)
    rest = without_later(state)
    if wanted is None:
        return Outcome((Reply("common.already_answered"), *ask(state)), state=state)
    if value == "yes":
        return run(rest, wanted)
    return Outcome((dropped(wanted), *ask(rest)), state=rest)
