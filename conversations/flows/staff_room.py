"""A staff room: a Telegram group named in ADMIN_CHAT_IDS, where officers work as a team.

The bot speaks there only to staff, and only as it speaks to staff: the citizen's welcome,
menu and questions never appear in the group. A member who is not an administrator gets
nothing at all (the adapter drops their messages already; this holds whatever the channel).
"""

from __future__ import annotations

from ..commands import canonical, is_admin_command
from ..context import Env, Facts
from ..effects import ConversationState, Outcome, Reply
from ..events import Attachment, Choice, Command, Inbound, Text
from ..inbound import CANCEL_WORDS
from ..parsing import normalize
from . import menu, staff
from .tracking import whole_code

HELP = "staff.room.help"
#: Staff commands that start a citizen's questions (a hotline call is recorded with the
#: complaint questions): one-to-one only, never in the room, where every officer would see
#: them; like every citizen command there, they get the room's help.
CITIZEN_FLOWS = frozenset({"hotline"})


def handle(state: ConversationState, event: Inbound, env: Env, facts: Facts) -> Outcome | None:
    """The room's own answer to ``event``, or None where the staff handling every chat shares
    applies unchanged (an administrator's command, a case button, the text an action waits
    for, a hotline call being recorded)."""
    if not facts.admin:
        return Outcome((), state=state)
    if isinstance(event, Command):
        return _command(state, event)
    if isinstance(event, Choice):
        prefix = event.id.partition(":")[0]
        if prefix == "case" or (prefix == staff.NOTE and state.flow == staff.FLOW):
            return None
        if state.flow is not None and state.flow != staff.FLOW:
            return None  # a hotline call's buttons
        return Outcome((Reply(HELP),), state=state, ack="close")
    if state.flow == staff.FLOW:
        if isinstance(event, Text) and normalize(event.text) in CANCEL_WORDS:
            return Outcome((Reply("cancel.done"),), state=menu.idle(state))
        if isinstance(event, Text) and not event.reply_to:
            # A mention of the bot, not a reply to its prompt: only a reply carries the text
            # an action waits for, so a word to the bot never answers a citizen by accident.
            return Outcome((Reply(HELP),), state=state)
        if isinstance(event, Text | Attachment):
            return staff.handle_note(state, event, env, facts, facts.sender)
        return None
    if state.flow is not None:
        return None  # a hotline call being recorded
    stale = staff.stale_prompt(state, event)
    if stale is not None:
        return stale
    if isinstance(event, Text):
        code = whole_code(event.text)
        if code is not None:
            return staff.show(state, env, facts, code)
    return Outcome((Reply(HELP),), state=state)


def _command(state: ConversationState, event: Command) -> Outcome | None:
    name = canonical(event.name)
    if is_admin_command(name) and name not in CITIZEN_FLOWS:
        return None
    if name == "huy":
        if state.flow == staff.FLOW:
            return Outcome((Reply("cancel.done"),), state=menu.idle(state), ack="close")
        if state.flow is not None:
            return None  # a hotline call: cancelled as in a private chat
        return Outcome((Reply("staff.room.nothing_pending"),), state=state)
    return Outcome((Reply(HELP),), state=state)
