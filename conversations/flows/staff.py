"""Staff side of complaints: the case list, one case, actions with their notes, hotline cases.

Every entry point here is reached only when the adapter vouched that the sender is one of the
configured administrators (``Facts.admin``); the engine checks that again on each step.
"""

from __future__ import annotations

from dataclasses import replace

from ..context import ComplaintFacts, Env, Facts
from ..effects import (
    Change,
    ChoiceOption,
    ConversationState,
    Lines,
    Notify,
    Outcome,
    Ref,
    Reply,
    SendFile,
    UpdateComplaint,
)
from ..events import Choice, Inbound, Text
from ..limits import MAX_NOTE_CHARS
from ..paging import Block, paginate
from ..workdays import load_calendar
from . import complaint, menu
from .cards import ACTIONS, staff_card
from .tracking import find_code, rating_choices

FLOW = "staff"
NOTE = "s.note"
#: action -> the status it leads to; actions needing a note are asked for it first.
TARGET = {
    "take": "in_progress",
    "ask": "waiting_citizen",
    "answer": "resolved",
    "oos": "out_of_scope",
    "dup": "duplicate",
}
NEEDS_NOTE = frozenset({"ask", "answer", "oos", "dup"})
LIST_BUTTONS = 10


def actor(env_admin: str) -> str:
    return f"staff:{env_admin}"[:40]


def case_list(state: ConversationState, env: Env, facts: Facts) -> Outcome:
    """``/hoso``: open cases, overdue first, then by due date."""
    cases = list(facts.open_cases or ())
    if not cases:
        return Outcome((Reply("staff.no_open_cases"),), state=state)
    today = env.today
    cases.sort(key=lambda c: (not today > c.due_on, c.due_on, c.created_at))
    calendar = env.calendar or load_calendar()
    lines = []
    for case in cases:
        late = calendar.workdays_between(case.due_on, today) if today > case.due_on else 0
        key = "staff.list_line_overdue" if late else "staff.list_line"
        lines.append(
            Reply(
                key,
                (
                    ("code", case.code),
                    ("category", Ref(f"category.{case.category}")),
                    ("status", Ref(f"status.{case.status}")),
                    ("due", f"{case.due_on:%d/%m}"),
                    ("days", late),
                ),
            )
        )
    buttons = tuple(
        ChoiceOption(f"case:{c.code}:view", "staff.open_case", (("code", c.code),))
        for c in cases[:LIST_BUTTONS]
    )

    def head(body: Lines, part: Lines) -> Reply:
        return Reply("staff.list", (("count", len(cases)), ("part", part), ("lines", body)))

    def more(body: Lines, part: Lines) -> Reply:
        return Reply("staff.list_more", (("part", part), ("lines", body)))

    replies = paginate(head, more, [Block(line) for line in lines], buttons)
    return Outcome(replies, state=state)


def show(state: ConversationState, env: Env, facts: Facts, code: str) -> Outcome:
    case = facts.complaints.get(code)
    if case is None:
        return Outcome((Reply("staff.unknown_case", (("code", code),)),), state=state)
    files = tuple(SendFile(file_id, case.code) for file_id in case.stored_files)
    return Outcome(staff_card(case, env), changes=files, state=state)


def action(
    state: ConversationState, env: Env, facts: Facts, code: str, act: str, admin_id: str
) -> Outcome:
    """A button on a case card."""
    case = facts.complaints.get(code)
    if case is None:
        return Outcome((Reply("staff.unknown_case", (("code", code),)),), state=state)
    if act == "view":
        return show(state, env, facts, code)
    if act not in ACTIONS:
        return Outcome((Reply("common.stale_choice"),), state=state)
    if not case.is_open:
        closed = _closed(code, case.status)
        return Outcome((closed,), state=state, ack="close")
    if act == "take" and case.status == "in_progress":
        return Outcome((Reply("staff.already_taken", (("code", code),)),), state=state)
    if act in NEEDS_NOTE:
        data: dict[str, object] = {"case": code, "act": act}
        new = replace(state, flow=FLOW, step=NOTE, data=data, expires_at=None)
        ask = Reply(
            f"staff.ask_note.{act}",
            (("code", code),),
            (ChoiceOption(f"{NOTE}:cancel", "complaint.cancel"),),
        )
        return Outcome((ask,), state=new, ack="close")
    return _apply(state, env, case, act, None, None, admin_id)


def handle_note(
    state: ConversationState, event: Inbound, env: Env, facts: Facts, admin_id: str
) -> Outcome:
    """The text staff type after choosing an action that needs one."""
    code = str(state.data.get("case", ""))
    act = str(state.data.get("act", ""))
    if isinstance(event, Choice) and event.id == f"{NOTE}:cancel":
        return Outcome((Reply("cancel.done"),), state=menu.idle(state), ack="close")
    case = facts.complaints.get(code)
    if case is None or act not in NEEDS_NOTE:
        return Outcome((Reply("staff.unknown_case", (("code", code),)),), state=menu.idle(state))
    if not isinstance(event, Text) or not event.text.strip():
        return Outcome((Reply(f"staff.ask_note.{act}", (("code", code),)),), state=state)
    note = event.text.strip()
    if len(note) > MAX_NOTE_CHARS:
        hint = Reply("complaint.text_long", (("got", len(note)), ("max", MAX_NOTE_CHARS)))
        return Outcome((hint, Reply(f"staff.ask_note.{act}", (("code", code),))), state=state)
    original: str | None = None
    if act == "dup":
        original = find_code(note)
        if original is None or original == code or original not in facts.complaints:
            hint = Reply("staff.dup_unknown", (("code", code),))
            return Outcome((hint,), state=state)
    if not case.is_open:
        closed = _closed(code, case.status)
        return Outcome((closed,), state=menu.idle(state))
    return _apply(menu.idle(state), env, case, act, note, original, admin_id)


def _apply(
    state: ConversationState,
    env: Env,
    case: ComplaintFacts,
    act: str,
    note: str | None,
    original: str | None,
    admin_id: str,
) -> Outcome:
    to = TARGET[act]
    # Out of remit: forwarded to the body the note names, today (NĐ 20/2008, Điều 9(1)(d)).
    forward = act == "oos"
    update = UpdateComplaint(
        code=case.code,
        from_status=case.status,
        to_status=to,
        note=note,
        public=True,
        actor=actor(admin_id),
        at=env.now,
        duplicate_of=original,
        forwarded_to=note if forward else None,
        forwarded_on=env.today if forward else None,
    )
    changes: list[Change] = [update]
    if case.reachable:
        notice = _citizen_notice(case, to, note, original)
        if forward:
            on = f"{env.today:%d/%m/%Y}"
            notice = Reply(
                "law.notice_forwarded", (("code", case.code), ("body", note or ""), ("on", on))
            )
        changes.append(Notify("reporter", notice, case.code))
    key = "staff.done" if case.reachable else "staff.done_unreachable"
    done = Reply(key, (("code", case.code), ("status", Ref(f"status.{to}"))))
    return Outcome((done,), changes=tuple(changes), state=state, ack="close")


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
