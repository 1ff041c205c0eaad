"""Staff side of complaints: the case list, one case, actions with their notes, hotline cases.

Every entry point here is reached only when the adapter vouched that the sender is one of the
configured administrators (``Facts.admin``); the engine checks that again on each step.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import cache

from ..catalog import LANGUAGES, default_catalog
from ..context import CaseNote, ComplaintFacts, Env, Facts
from ..deadlines import Missed, missed_by
from ..effects import (
    Change,
    ChoiceOption,
    ConversationState,
    Lines,
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
from ..paging import Block, paginate
from ..parsing import normalize
from ..workdays import WorkCalendar, load_calendar
from . import complaint, menu
from .cards import ACTIONS, TEAM_ACTIONS, staff_card
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
NEEDS_NOTE = frozenset({"ask", "answer", "oos", "dup", "note"})
#: State key: the card whose button started the action (its message id on the channel).
CARD = "card"
LIST_BUTTONS = 10
#: ``/hoso`` filters, by every accepted spelling (Vietnamese first, English second), as
#: normalised: no diacritics, lower case, no separators ("của tôi", "cua-toi", "cuatoi").
FILTERS = {
    "cuatoi": "mine",
    "mine": "mine",
    "chuanhan": "unassigned",
    "unassigned": "unassigned",
    "quahan": "overdue",
    "overdue": "overdue",
}


def actor(env_admin: str) -> str:
    return f"staff:{env_admin}"[:40]


def list_filter(arg: str) -> str | None:
    """The ``/hoso`` filter an argument names (mine, unassigned, overdue), or None."""
    word = "".join(normalize(arg[:40]).replace("-", " ").replace("_", " ").split())
    return FILTERS.get(word)


def _filtered(
    cases: list[ComplaintFacts], which: str | None, env: Env, me: str
) -> list[ComplaintFacts]:
    if which == "mine":
        return [c for c in cases if c.assignee == me]
    if which == "unassigned":
        return [c for c in cases if c.assignee is None]
    if which == "overdue":
        return [c for c in cases if missed_by(c, env.today)]
    return cases


def missed_line(missed: tuple[Missed, ...], today: date, calendar: WorkCalendar) -> Reply:
    """The deadlines a case missed, on one line: which, its day, and how many working days
    late ("quá hạn báo thụ lý 10/03 (3 ngày); quá hạn giải quyết ...")."""
    parts = tuple(
        Lines(
            (
                Reply(
                    f"law2.missed.{m.kind}",
                    (
                        ("due", f"{m.due:%d/%m}"),
                        ("days", max(1, calendar.workdays_between(m.due, today))),
                    ),
                ),
            )
        )
        for m in missed
    )
    names = ("a", "b", "c")
    return Reply(f"law2.join.{len(parts)}", tuple(zip(names, parts, strict=False)))


def case_list(
    state: ConversationState, env: Env, facts: Facts, which: str | None = None
) -> Outcome:
    """``/hoso``: open cases, overdue first, then by due date; ``which`` keeps only the
    sender's cases ("mine"), those nobody took ("unassigned") or the overdue ones."""
    cases = _filtered(list(facts.open_cases or ()), which, env, actor(facts.sender))
    if not cases:
        if which is not None:
            return Outcome((Reply(f"staff.no_cases.{which}"),), state=state)
        return Outcome((Reply("staff.no_open_cases"),), state=state)
    today = env.today
    missed = {c.code: missed_by(c, today) for c in cases}
    # Overdue first (the longest missed deadline first), then by the day to resolve.
    cases.sort(
        key=lambda c: (
            not missed[c.code],
            missed[c.code][0].due if missed[c.code] else c.due_on,
            c.due_on,
            c.created_at,
        )
    )
    calendar = env.calendar or load_calendar()
    lines = []
    for case in cases:
        late = missed[case.code]
        key = "law2.list_line_overdue" if late else "staff.list_line"
        params: tuple[tuple[str, str | int | Ref | Lines], ...] = (
            ("code", case.code),
            ("category", Ref(f"category.{case.category}")),
            ("status", Ref(f"status.{case.status}")),
            ("due", f"{case.due_on:%d/%m}"),
        )
        if late:
            params = (*params, ("missed", Lines((missed_line(late, today, calendar),))))
        if case.assignee_name:
            key, params = f"{key}_assigned", (*params, ("name", case.assignee_name))
        lines.append(Reply(key, params))
    buttons = tuple(
        ChoiceOption(f"case:{c.code}:view", "staff.open_case", (("code", c.code),))
        for c in cases[:LIST_BUTTONS]
    )

    def head(body: Lines, part: Lines) -> Reply:
        if which is not None:
            heading = (("count", len(cases)), ("filter", Ref(f"staff.filter.{which}")))
            return Reply("staff.list_filtered", (*heading, ("part", part), ("lines", body)))
        return Reply("staff.list", (("count", len(cases)), ("part", part), ("lines", body)))

    def more(body: Lines, part: Lines) -> Reply:
        return Reply("staff.list_more", (("part", part), ("lines", body)))

    replies = paginate(head, more, [Block(line) for line in lines], buttons)
    return Outcome(replies, state=state)


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
    if act == "take":
        if case.assignee == me:
            return Outcome((Reply("staff.already_yours", (("code", code),)),), state=state)
        return _assign(state, env, facts, case, "takeover" if case.assignee else "take")
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
        return Outcome((_ask_note(code, act),), state=new, ack="keep")
    return Outcome((Reply("common.stale_choice"),), state=state)


def prompt(state: ConversationState) -> list[Reply]:
    """The question a staff note is waiting on: the action's own prompt, its case named."""
    act = str(state.data.get("act", ""))
    if act not in NEEDS_NOTE:
        return [Reply("common.waiting_input")]  # a state stored by an older version
    return [_ask_note(str(state.data.get("case", "")), act)]


def _ask_note(code: str, act: str) -> Reply:
    """The prompt for an action's text: a cancel button in a private chat, a reply field
    (with the case code in its hint) where the bot only sees replies to it."""
    return Reply(
        f"staff.ask_note.{act}",
        (("code", code),),
        (ChoiceOption(f"{NOTE}:cancel", "complaint.cancel"),),
        placeholder=Reply(f"staff.placeholder.{act}", (("code", code),)),
    )


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
    update = _record(env, facts, case, to, act, assign=act != "release", unassign=act == "release")
    changes: list[Change] = [update]
    told = any(step.to_status == "in_progress" for step in case.history)
    if to == "in_progress" and not told and case.reachable:
        changes.append(Notify("reporter", _citizen_notice(case, to, None, None), case.code))
    after = _after(case, update)
    card = staff_card(after, env)
    changes.extend(_in_rooms(after, card[-1], facts.pressed))
    return Outcome(card, changes=tuple(changes), state=state, ack="refresh")


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
        return Outcome((_ask_note(code, act),), state=state)
    note = event.text.strip()
    if len(note) > MAX_NOTE_CHARS:
        hint = Reply("complaint.text_long", (("got", len(note)), ("max", MAX_NOTE_CHARS)))
        return Outcome((hint, _ask_note(code, act)), state=state)
    original: str | None = None
    if act == "dup":
        original = find_code(note)
        if original is None or original == code or original not in facts.complaints:
            hint = Reply("staff.dup_unknown", (("code", code),))
            return Outcome((hint, _ask_note(code, act)), state=state)
    if not case.is_open:
        closed = _closed(code, case.status)
        return Outcome((closed,), state=menu.idle(state))
    card = state.data.get(CARD)
    if act == "note":
        done = _note(menu.idle(state), env, facts, case, note)
    else:
        done = _apply(menu.idle(state), env, facts, case, act, note, original, admin_id)
    return _redrawn(done, env, case, card if isinstance(card, str) else None)


def prompt_case(event: Inbound) -> str | None:
    """The case the bot's message that ``event`` replies to names (a prompt, a card), or
    None when the text replies to none of its messages or to one naming no case."""
    if isinstance(event, Text) and event.reply_to:
        return find_code(event.reply_to)
    return None


def prompt_action(event: Inbound, code: str) -> str | None:
    """The action whose prompt for case ``code`` the text replies to, or None when it replies
    to no such prompt. A prompt carries its action in its head, the words before the case
    code ("Trả lời & đóng phản ánh PA-…"), the same in every prompt of that action whatever
    the case: the head is looked up, nothing is rendered."""
    if not isinstance(event, Text) or not event.reply_to:
        return None
    seen = " ".join(event.reply_to.split())
    at = seen.find(code)
    if at < 0:
        return None
    return prompt_heads().get(seen[:at].strip())


@cache
def prompt_heads() -> dict[str, str]:
    """Each prompt's head (its words before the case code), in every language -> its action.
    Read once from the catalogs; two actions sharing a head would be ambiguous, so such a
    head names none (a catalog test keeps them apart)."""
    catalog = default_catalog()
    heads: dict[str, str] = {}
    ambiguous: set[str] = set()
    for act in sorted(NEEDS_NOTE):
        for lang in LANGUAGES:
            template = catalog.text(lang, f"staff.ask_note.{act}")
            head = " ".join(template.partition("{code}")[0].split())
            if heads.get(head, act) != act:
                ambiguous.add(head)
            heads[head] = act
    return {head: act for head, act in heads.items() if head not in ambiguous}


def stale_prompt(state: ConversationState, event: Inbound) -> Outcome | None:
    """Text answering a prompt (it names its case) while no action waits for text: the
    prompt was answered or cancelled already; nothing is done, the officer is told how to
    start again. None when the text answers no such prompt."""
    named = prompt_case(event)
    if named is None:
        return None
    return Outcome((Reply("staff.prompt_stale_idle", (("named", named),)),), state=state)


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


def _redrawn(outcome: Outcome, env: Env, case: ComplaintFacts, card: str | None) -> Outcome:
    """The action's card shows the case as it now stands (in place, where it was pressed);
    without one, an open case's card follows the answer, with what can be done next."""
    updates = [c for c in outcome.changes if isinstance(c, UpdateComplaint)]
    if not updates:
        return outcome
    after = case
    for update in updates:  # a takeover, then the action
        after = _after(after, update)
    shown = staff_card(after, env)
    outcome = replace(outcome, changes=(*outcome.changes, *_in_rooms(after, shown[-1], card)))
    if card is not None:
        return replace(outcome, changes=(*outcome.changes, RedrawCard(card, shown[-1])))
    if after.is_open:
        return replace(outcome, replies=(*outcome.replies, *shown))
    return outcome


def _in_rooms(after: ComplaintFacts, card: Reply, here: str | None) -> tuple[RedrawCard, ...]:
    """The case's cards in staff rooms, redrawn as it now stands, whoever changed it from
    whichever chat (a Zalo officer, a private chat); ``here``: the card pressed, redrawn
    where it is already."""
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
        changes.append(Notify("reporter", notice, case.code))
    key = "staff.done_unreachable"
    if case.reachable:
        key = {"held": "staff.done_held", "template": "staff.done_template"}.get(
            case.reach, "staff.done"
        )
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
