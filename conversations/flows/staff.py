"""Staff side of complaints: one case, actions with their notes, hotline cases (the case list
is in ``staff_list``, the prompts staff answer in ``staff_prompts``; both importable from here).

Every entry point here is reached only when the adapter vouched that the sender is one of the
configured administrators (``Facts.admin``); the engine checks that again on each step.
"""

from __future__ import annotations

from dataclasses import replace

from ..context import CaseNote, ComplaintFacts, Env, Facts
from ..effects import (
    Change,
    ChoiceOption,
    ConversationState,
    Notify,
    Outcome,
    RedrawCard,
    Ref,
    Reply,
    SendFile,
    UpdateComplaint,
)
from ..events import Choice, Inbound, Text
from ..limits import MAX_NOTE_CHARS
from ..text_limits import TextLimit, register
from . import complaint, menu
from .cards import ACTIONS, TEAM_ACTIONS, staff_card
from .staff_list import FILTERS as FILTERS
from .staff_list import LIST_BUTTONS as LIST_BUTTONS
from .staff_list import actor
from .staff_list import case_list as case_list
from .staff_list import list_filter as list_filter
from .staff_list import missed_line as missed_line
from .staff_prompts import NEEDS_NOTE as NEEDS_NOTE
from .staff_prompts import NOTE as NOTE
from .staff_prompts import ask_note, prompt_case
from .staff_prompts import prompt as prompt
from .staff_prompts import prompt_action as prompt_action
from .staff_prompts import prompt_heads as prompt_heads
from .staff_prompts import stale_prompt as stale_prompt
from .tracking import find_code, rating_choices

FLOW = "staff"
#: action -> the status it leads to; actions needing a note are asked for it first.
TARGET = {
    "take": "in_progress",
    "ask": "waiting_citizen",
    "answer": "resolved",
    "oos": "out_of_scope",
    "dup": "duplicate",
}
#: State key: the card whose button started the action (its message id on the channel).
CARD = "card"


def _file_caption(code: str, note: str | None) -> str:
    """A file as staff get it: the case's code, and the citizen's caption if there was one."""
    return f"{code}: {note}" if note else code


def show(state: ConversationState, env: Env, facts: Facts, code: str) -> Outcome:
    case = facts.complaints.get(code)
    if case is None:
        return Outcome((Reply("staff.unknown_case", (("code", code),)),), state=state)
    files = tuple(
        SendFile(file_id, _file_caption(case.code, case.file_notes.get(file_id)))
        for file_id in case.stored_files
    )
    return Outcome(staff_card(case, env), changes=files, state=state)


def action(
    state: ConversationState, env: Env, facts: Facts, code: str, act: str, admin_id: str
) -> Outcome:
    """A button on a case card (or on the ``/hoso`` list: ``view``).

    The card a button sits on may be shared by a staff group, so it stays usable ("keep")
    while one officer types a note, and is redrawn in place ("refresh") when who has the case
    changes. What an officer is typing is kept in their own conversation (one per officer,
    even in a group), so two officers work on two cases at once.
    """
    case = facts.complaints.get(code)
    if case is None:
        return Outcome((Reply("staff.unknown_case", (("code", code),)),), state=state)
    if act == "view":
        return replace(show(state, env, facts, code), ack="keep")
    if act not in ACTIONS and act not in TEAM_ACTIONS:
        return Outcome((Reply("common.stale_choice"),), state=state)
    if not case.is_open:
        closed = _closed(code, case.status)
        return Outcome((closed,), state=state, ack="close")
    me = actor(admin_id)
    if act in ("take", "takeover"):
        if case.assignee == me:
            return Outcome((Reply("staff.already_yours", (("code", code),)),), state=state)
        if case.assignee is None:
            return _assign(state, env, facts, case, "take")
        if act == "take":
            # «Nhận xử lý» pressed on a card drawn before a colleague took the case: who has
            # it, and «Nhận thay» to take it over (recorded); never a silent takeover.
            held = Reply(
                "staff5.held_by",
                (("code", code), ("name", case.assignee_name or "?")),
                (ChoiceOption(f"case:{code}:takeover", "staff.action.takeover"),),
            )
            return Outcome((held,), state=state, ack="keep")
        return _assign(state, env, facts, case, "takeover")
    if act == "release":
        if case.assignee is None:
            return Outcome((Reply("staff.not_assigned", (("code", code),)),), state=state)
        if case.assignee != me:
            # Only the holder hands a case back; a colleague takes it over instead (recorded).
            holder = case.assignee_name or "?"
            refused = Reply("staff.release_not_yours", (("code", code), ("name", holder)))
            return Outcome((refused,), state=state)
        return _assign(state, env, facts, case, "release")
    if act in NEEDS_NOTE:
        data: dict[str, object] = {"case": code, "act": act}
        if facts.pressed:
            data[CARD] = facts.pressed[:32]  # redrawn once the action is done
        new = replace(state, flow=FLOW, step=NOTE, data=data, expires_at=None)
        return Outcome((ask_note(code, act),), state=new, ack="keep")
    return Outcome((Reply("common.stale_choice"),), state=state)


def _assign(
    state: ConversationState, env: Env, facts: Facts, case: ComplaintFacts, act: str
) -> Outcome:
    """Take (or take over) a case, or hand it back; the card is redrawn to show who has it.
    A first take moves a new case to "in progress", and its reporter is told (once: a case
    handed back is "new" again, nobody's, and taking it anew tells the reporter nothing)."""
    to = case.status
    if act == "take" and case.status == "new":
        to = "in_progress"
    elif act == "release" and case.status == "in_progress":
        to = "new"
    # A case waiting for its citizen, handed back, still waits for them (the request for
    # more stands), nobody's: their supplement brings its card to every staff chat.
    update = _record(env, facts, case, to, act, assign=act != "release", unassign=act == "release")
    changes: list[Change] = [update]
    told = any(step.to_status == "in_progress" for step in case.history)
    if to == "in_progress" and not told and case.reachable:
        notice = _citizen_notice(case, to, None, None)
        changes.append(Notify("reporter", notice, case.code, status=to))
    after = _after(case, update)
    card = staff_card(after, env)
    changes.extend(_in_rooms(after, card[-1], facts.pressed if facts.room else None))
    return Outcome(card, changes=tuple(changes), state=state, ack="refresh")


#: A staff note's limit (an answer, a request for documents, where to go instead).
NOTE_LIMIT = TextLimit("complaint.text_long", MAX_NOTE_CHARS)


@register(FLOW)
def text_limit(state: ConversationState) -> TextLimit | None:
    """Every staff state waits for a note."""
    return NOTE_LIMIT


def handle_note(
    state: ConversationState, event: Inbound, env: Env, facts: Facts, admin_id: str
) -> Outcome:
    """The text staff type after choosing an action that needs one."""
    code = str(state.data.get("case", ""))
    act = str(state.data.get("act", ""))
    if isinstance(event, Choice) and event.id == f"{NOTE}:cancel":
        return Outcome((Reply("cancel.done"),), state=menu.idle(state), ack="close")
    named = prompt_case(event)
    if named is not None and named != code:
        # An answer to an older prompt (another case's): never applied to the case pending.
        stale = Reply("staff.prompt_stale", (("named", named), ("code", code)))
        return Outcome((stale,), state=state)
    answered = prompt_action(event, code)
    if answered is not None and answered != act:
        # An answer to an older prompt of another action on the same case: never applied
        # as the action pending; the officer presses that action's button again.
        other = Reply(
            "staff.prompt_other_action",
            (
                ("code", code),
                ("named", Ref(f"staff.action.{answered}")),
                ("pending", Ref(f"staff.action.{act}")),
            ),
        )
        return Outcome((other,), state=state)
    if answered is None and isinstance(event, Text) and event.reply_to:
        # A reply to the card or to any other message is talk among colleagues (a group
        # sees the card too): only a reply to the pending prompt, or plain text, is the note.
        aside = Reply(
            "staff.prompt_not_prompt", (("code", code), ("pending", Ref(f"staff.action.{act}")))
        )
        return Outcome((aside,), state=state)
    case = facts.complaints.get(code)
    if case is None or act not in NEEDS_NOTE:
        return Outcome((Reply("staff.unknown_case", (("code", code),)),), state=menu.idle(state))
    if not isinstance(event, Text) or not event.text.strip():
        return Outcome((ask_note(code, act),), state=state)
    note = event.text.strip()
    if len(note) > NOTE_LIMIT.max:
        # A staff room reaches here before the engine's own check: a text a channel cut
        # is told by its real length.
        hint = NOTE_LIMIT.hint(max(event.length, len(note)))
        return Outcome((hint, ask_note(code, act)), state=state)
    original: str | None = None
    if act == "dup":
        original = find_code(note)
        if original is None or original == code or original not in facts.complaints:
            hint = Reply("staff.dup_unknown", (("code", code),))
            return Outcome((hint, ask_note(code, act)), state=state)
    if not case.is_open:
        closed = _closed(code, case.status)
        return Outcome((closed,), state=menu.idle(state))
    card = state.data.get(CARD)
    if act == "note":
        done = _note(menu.idle(state), env, facts, case, note)
    else:
        done = _apply(menu.idle(state), env, facts, case, act, note, original, admin_id)
    return _redrawn(done, env, case, card if isinstance(card, str) else None, facts.room)


def _after(case: ComplaintFacts, update: UpdateComplaint) -> ComplaintFacts:
    """The case as it stands once ``update`` is recorded (for its card, drawn before that)."""
    step = CaseNote(
        update.at, update.to_status, update.note, update.actor, update.public, update.action,
        update.actor_name,
    )  # fmt: skip
    if update.unassign:
        owner: tuple[str | None, str | None] = (None, None)
    elif update.assign:
        owner = (update.actor, update.actor_name)
    else:
        owner = (case.assignee, case.assignee_name)
    return replace(
        case,
        status=update.to_status,
        history=(*case.history, step),
        assignee=owner[0],
        assignee_name=owner[1],
        accepted_at=case.accepted_at or (update.at if update.to_status != "new" else None),
    )


def _redrawn(
    outcome: Outcome, env: Env, case: ComplaintFacts, card: str | None, in_room: bool
) -> Outcome:
    """The action's card shows the case as it now stands (in place, where it was pressed);
    without one, an open case's card follows the answer, with what can be done next."""
    updates = [c for c in outcome.changes if isinstance(c, UpdateComplaint)]
    if not updates:
        return outcome
    after = case
    for update in updates:  # a takeover, then the action
        after = _after(after, update)
    shown = staff_card(after, env)
    pressed_in_room = card if in_room else None
    outcome = replace(
        outcome, changes=(*outcome.changes, *_in_rooms(after, shown[-1], pressed_in_room))
    )
    if card is not None:
        return replace(outcome, changes=(*outcome.changes, RedrawCard(card, shown[-1])))
    if after.is_open:
        return replace(outcome, replies=(*outcome.replies, *shown))
    return outcome


def _in_rooms(after: ComplaintFacts, card: Reply, here: str | None) -> tuple[RedrawCard, ...]:
    """The case's cards in staff rooms, redrawn as it now stands, whoever changed it from
    whichever chat (a Zalo officer, a private chat); ``here``: the card pressed in a staff
    room, redrawn where it is already. A card pressed in a private chat is no room card, even
    when its message id equals one (Telegram numbers messages per chat), so it is None then."""
    return tuple(
        RedrawCard(message_id, card, room=(channel, room))
        for channel, room, message_id in after.cards
        if message_id != here
    )


def _note(
    state: ConversationState, env: Env, facts: Facts, case: ComplaintFacts, note: str
) -> Outcome:
    """An internal note: kept in the case's history for staff, never sent to the citizen."""
    update = _record(env, facts, case, case.status, "note", note=note)
    done = Reply("staff.noted", (("code", case.code),))
    return Outcome((done,), changes=(update,), state=state)


def _apply(
    state: ConversationState,
    env: Env,
    facts: Facts,
    case: ComplaintFacts,
    act: str,
    note: str | None,
    original: str | None,
    admin_id: str,
) -> Outcome:
    """An outcome for the citizen (ask for more, answer, out of remit, duplicate): recorded,
    told to the reporter; a case nobody had becomes the actor's."""
    to = TARGET[act]
    # Out of remit: forwarded to the body the note names, today (NĐ 20/2008, Điều 9(1)(d)).
    forward = act == "oos"
    me = actor(admin_id)
    changes: list[Change] = []
    if case.assignee is not None and case.assignee != me:
        # A colleague's case acted on without «Nhận thay»: the takeover is recorded first,
        # so the history says who took it from whom and the case is the actor's from now.
        changes.append(_record(env, facts, case, case.status, "takeover", assign=True))
    update = replace(
        _record(env, facts, case, to, None, note=note, public=True, assign=True),
        duplicate_of=original,
        forwarded_to=note if forward else None,
        forwarded_on=env.today if forward else None,
    )
    changes.append(update)
    if case.reachable:
        notice = _citizen_notice(case, to, note, original)
        if forward:
            on = f"{env.today:%d/%m/%Y}"
            notice = Reply(
                "law.notice_forwarded", (("code", case.code), ("body", note or ""), ("on", on))
            )
        changes.append(Notify("reporter", notice, case.code, status=to))
    key = "staff.done_unreachable"
    if case.reachable:
        key = {
            "held": "staff.done_held",
            "template": "staff.done_template",
            "held48": "zalo6.done_held_48h",
            "template48": "zalo6.done_template_48h",
        }.get(case.reach, "staff.done")
    done = Reply(key, (("code", case.code), ("status", Ref(f"status.{to}"))))
    return Outcome((done,), changes=tuple(changes), state=state, ack="close")


def _record(
    env: Env,
    facts: Facts,
    case: ComplaintFacts,
    to: str,
    act: str | None,
    *,
    note: str | None = None,
    public: bool = False,
    assign: bool = False,
    unassign: bool = False,
) -> UpdateComplaint:
    """What the sender did to ``case`` as its history keeps it: by whom (id and name), when,
    the status it leads to; ``assign``: the case is the sender's from now."""
    return UpdateComplaint(
        code=case.code,
        from_status=case.status,
        to_status=to,
        note=note,
        public=public,
        actor=actor(facts.sender),
        at=env.now,
        action=act,
        actor_name=facts.sender_name or facts.sender,
        assign=assign,
        unassign=unassign,
    )


def _closed(code: str, status: str) -> Reply:
    return Reply("staff.already_closed", (("code", code), ("status", Ref(f"status.{status}"))))


def _citizen_notice(case: ComplaintFacts, to: str, note: str | None, original: str | None) -> Reply:
    params = (
        ("code", case.code),
        ("status", Ref(f"status.{to}")),
        ("note", note or ""),
        ("original", original or ""),
    )
    if to == "resolved":
        return Reply("notice.resolved", params, rating_choices(case.code))
    if to == "waiting_citizen":
        supplement = ChoiceOption(f"supp:{case.code}", "notice.send_more")
        return Reply("notice.waiting_citizen", params, (supplement,))
    return Reply(f"notice.{to}", params)


def hotline(state: ConversationState, env: Env) -> Outcome:
    """``/hotline``: record a call on a citizen's behalf, with the same steps as in chat."""
    return complaint.start(state, env, hotline=True)
