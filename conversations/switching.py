"""A new task asked for while another is half done: finish it or drop it, never silently.

A receipt's QR code (``/start TOKEN``), ``/khaosat``, ``/phananh`` or ``/tracuu`` in the middle
of another task asks whether to keep it or drop it (two buttons); the question and every
"busy" message name the task actually in progress. A command that starts the task already in
progress (``/tracuu CODE`` while a lookup waits for its code) goes on with it, unasked.
"""

from __future__ import annotations

from dataclasses import replace

from .effects import ChoiceOption, ConversationState, Ref, Reply
from .events import Command

SWITCH_BUTTON = "switch"
#: Where the command waiting for the answer is kept in the conversation's state.
PENDING = "switch_to"
#: The task of each flow, as its catalog key ("phiếu khảo sát", "phản ánh đang viết" …).
_TASKS = {
    "survey": "input.task.survey",
    "complaint": "input.task.complaint",
    "lookup": "input.task.lookup",
    "supplement": "input.task.supplement",
    "staff": "input.task.staff",
}
#: What dropping the task in progress loses: a survey's answers so far stay, anonymous (the
#: consent says so); anything else is not kept.
_IF_DROPPED = {"survey": "input.switch_lost.survey"}
#: What each command starts, as its catalog key.
_NEW_TASKS = {
    "start": "input.task.survey",
    "khaosat": "input.task.survey",
    "phananh": "input.task.new_complaint",
    "tracuu": "input.task.lookup",
}


#: The flow each command starts ("/start TOKEN" starts a survey too, but a receipt's own
#: survey is told apart by :func:`survey.receipt_opens`).
_STARTS = {"khaosat": "survey", "phananh": "complaint", "tracuu": "lookup"}


def new_task(name: str) -> str:
    """The catalog key naming the task the command ``/name`` starts."""
    return _NEW_TASKS.get(name, "input.task.other")


def starts_same_task(state: ConversationState, name: str) -> bool:
    """Whether ``/name`` starts the task already in progress (``/tracuu CODE`` while a lookup
    waits for its code): that is going on with it, never a question of keeping or dropping."""
    return state.flow is not None and _STARTS.get(name) == state.flow


def task_of(state: ConversationState) -> str:
    """The catalog key naming the task in progress."""
    return _TASKS.get(state.flow or "", "input.task.other")


def busy(state: ConversationState) -> Reply:
    """ "Ông/Bà đang làm dở <task>": the task named, and how to go on or stop."""
    return Reply("input.busy", (("task", Ref(task_of(state))),))


def ask_switch(state: ConversationState, name: str, arg: str) -> tuple[Reply, ConversationState]:
    """The question (keep the task in progress, or drop it and do ``/name arg``), and the
    state that remembers the command until it is answered."""
    new = replace(state, data={**state.data, PENDING: {"name": name, "arg": arg}})
    reply = Reply(
        "input.switch_ask",
        (
            ("task", Ref(task_of(state))),
            ("new", Ref(new_task(name))),
            ("if_dropped", Ref(_IF_DROPPED.get(state.flow or "", "input.switch_lost.other"))),
        ),
        (
            ChoiceOption(f"{SWITCH_BUTTON}:keep", "input.switch_keep"),
            ChoiceOption(f"{SWITCH_BUTTON}:drop", "input.switch_drop"),
        ),
    )
    return reply, new


def switch_command(state: ConversationState) -> Command | None:
    """The command waiting for the answer to :func:`ask_switch`, if any."""
    return stored_command(state, PENDING)


def stored_command(state: ConversationState, key: str) -> Command | None:
    """The command kept in the state's data under ``key`` (``{"name": …, "arg": …}``)."""
    pending = state.data.get(key)
    if not isinstance(pending, dict):
        return None
    name, arg = pending.get("name"), pending.get("arg", "")
    if not isinstance(name, str) or not isinstance(arg, str):
        return None
    return Command(name, arg)


def without_pending(state: ConversationState) -> ConversationState:
    return replace(state, data={k: v for k, v in state.data.items() if k != PENDING})
