"""How a complaint is shown: the staff card with its action buttons, the citizen's view."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from ..context import ComplaintFacts, Env
from ..effects import ChoiceOption, Lines, Ref, Reply
from ..paging import Block, Build, paginate
from ..phone import mask_phone
from ..workdays import WorkCalendar, load_calendar

#: Staff actions on an open case, in button order.
ACTIONS = ("take", "ask", "answer", "oos", "dup")
#: Team actions: take over a colleague's case (its own button: a stale «Nhận xử lý» never
#: does), hand the case back to the team, an internal note (never sent to the citizen).
TEAM_ACTIONS = ("takeover", "release", "note")
OPEN_STATUSES = ("new", "in_progress", "waiting_citizen")


def staff_choices(code: str, status: str, assignee: str | None = None) -> tuple[ChoiceOption, ...]:
    """The actions that make sense now. Before anyone took the case: take it (or act on it
    at once); once taken: the outcomes, another officer taking it over, handing it back.
    An internal note at any time. A card in a staff group is shared, so it offers what any
    officer may do."""
    if status not in OPEN_STATUSES:
        return ()
    note = ChoiceOption(f"case:{code}:note", "staff.action.note")
    if assignee is None:
        acts = tuple(ChoiceOption(f"case:{code}:{a}", f"staff.action.{a}") for a in ACTIONS)
        return (*acts, note)
    outcomes = tuple(
        ChoiceOption(f"case:{code}:{a}", f"staff.action.{a}") for a in ACTIONS if a != "take"
    )
    return (
        *outcomes,
        ChoiceOption(f"case:{code}:takeover", "staff.action.takeover"),
        ChoiceOption(f"case:{code}:release", "staff.action.release"),
        note,
    )


def card_case(choice_ids: Iterable[str]) -> str | None:
    """The case whose card carries these button ids (its ``case:CODE:action`` buttons), or
    None (a list of cases, a closed case with no buttons). A staff room's card is remembered
    by the channel so it can be redrawn when the case changes from another chat."""
    codes = {
        cid.split(":")[1]
        for cid in choice_ids
        if cid.startswith("case:") and cid.count(":") == 2 and not cid.endswith(":view")
    }
    return codes.pop() if len(codes) == 1 else None


def due_line(due: date, today: date, status: str, calendar: WorkCalendar | None) -> Reply:
    """The deadline, and how late the case is (derived, never stored)."""
    cal = calendar or load_calendar()
    if status in ("new", "in_progress", "waiting_citizen") and today > due:
        late = max(1, cal.workdays_between(due, today))
        return Reply("case.due_overdue", (("due", f"{due:%d/%m/%Y}"), ("days", late)))
    return Reply("case.due", (("due", f"{due:%d/%m/%Y}"),))


def case_card(
    *,
    code: str,
    category_code: str,
    status: str,
    due: date,
    today: date,
    name: str | None,
    phone: str | None,
    description: str,
    files: int,
    hotline: bool = False,
    calendar: WorkCalendar | None = None,
    history: tuple[Reply, ...] = (),
    rules: tuple[Reply, ...] = (),
    assignee: str | None = None,
    assignee_name: str | None = None,
) -> tuple[Reply, ...]:
    """The card staff see for a case: everything they need, with the actions as buttons.

    A long card (a long description, a long history) is several messages; the buttons come
    with the last one. ``rules``: the lines of ``law_lines`` (address, legal deadlines).
    """
    if name:
        who = Reply("case.reporter", (("name", name), ("phone", phone or "")))
    else:
        who = Reply("case.reporter_anonymous")
    params = (
        ("code", code),
        ("source", Ref("case.source_hotline" if hotline else "case.source_chat")),
        ("category", Ref(f"category.{category_code}")),
        ("status", Ref(f"status.{status}")),
        ("due", Lines((due_line(due, today, status, calendar), *_owner(status, assignee_name)))),
        ("who", Lines((who,))),
    )
    blocks = (
        Block(Reply("case.text", (("text", description),)), long="text"),
        Block(Reply("case.files", (("files", files),))),
        *(Block(line) for line in rules),
        *(Block(line, long="note") for line in history),
    )

    def head(body: Lines, part: Lines) -> Reply:
        return Reply("staff.case", (*params, ("part", part), ("body", body)))

    return paginate(head, _more(code), blocks, staff_choices(code, status, assignee))


def _owner(status: str, name: str | None) -> tuple[Reply, ...]:
    """Who has an open case (a closed one says nothing: its history does)."""
    if status not in OPEN_STATUSES:
        return ()
    if name:
        return (Reply("case.assignee", (("name", name),)),)
    return (Reply("case.unassigned"),)


def _more(code: str) -> Build:
    def more(body: Lines, part: Lines) -> Reply:
        return Reply("case.more", (("code", code), ("part", part), ("body", body)))

    return more


def history_line(
    at: datetime,
    status: str,
    note: str | None,
    env: Env,
    action: str | None = None,
    name: str | None = None,
) -> Reply:
    """One change of a case, at the local time it happened (stored in UTC); a team action
    (take, takeover, release, an internal note) says who did it."""
    when = ("at", f"{env.local(at):%d/%m %H:%M}")
    if action in ("take", "takeover", "release", "note"):
        return Reply(f"case.history_{action}", (when, ("name", name or "?"), ("note", note or "")))
    if not note:  # "— Mới tiếp nhận", not "— Mới tiếp nhận: " with nothing after it
        return Reply("law3.history_line_bare", (when, ("status", Ref(f"status.{status}"))))
    return Reply(
        "case.history_line",
        (when, ("status", Ref(f"status.{status}")), ("note", note)),
    )


def staff_card(case: ComplaintFacts, env: Env) -> tuple[Reply, ...]:
    history = tuple(
        history_line(h.at, h.to_status, h.note, env, h.action, h.actor_name) for h in case.history
    )
    return case_card(
        code=case.code,
        category_code=case.category,
        status=case.status,
        due=case.due_on,
        today=env.today,
        name=case.name,
        phone=case.phone,
        description=case.description,
        files=case.files,
        hotline=case.source == "hotline",
        calendar=env.calendar,
        history=history,
        rules=law_lines(
            address=case.address,
            accept=case.accept_due_on,
            forward=case.forward_due_on,
            forwarded_to=case.forwarded_to,
            forwarded_on=case.forwarded_on,
        ),
        assignee=case.assignee,
        assignee_name=case.assignee_name,
    )


def law_lines(
    *,
    address: str | None,
    accept: date | None,
    forward: date | None,
    forwarded_to: str | None = None,
    forwarded_on: date | None = None,
) -> tuple[Reply, ...]:
    """The staff card's lines the rules require (LAW-2026.md): the sender's address (NĐ
    20/2008, Điều 7), the day to tell the person it is accepted (Luật Tiếp công dân, Điều 28)
    and the day to forward it if out of remit (NĐ 20/2008, Điều 9), or where it went."""
    lines: list[Reply] = []
    if address:
        lines.append(Reply("law.case_address", (("address", address),)))
    if accept is not None:
        lines.append(Reply("law.case_accept", (("due", f"{accept:%d/%m/%Y}"),)))
    if forwarded_to:
        on = f"{forwarded_on:%d/%m/%Y}" if forwarded_on else ""
        lines.append(Reply("law.case_forwarded", (("body", forwarded_to), ("on", on))))
    elif forward is not None:
        lines.append(Reply("law.case_forward", (("due", f"{forward:%d/%m/%Y}"),)))
    return tuple(lines)


def citizen_view(case: ComplaintFacts, env: Env) -> tuple[Reply, ...]:
    """What the reporter may see: status, deadline and the public notes, no staff names."""
    notes = tuple(
        Block(
            Reply(
                # A forwarding's note is the body's name: the line says what happened to it.
                "law3.public_note_forwarded"
                if h.to_status == "out_of_scope"
                else "case.public_note",
                (("at", f"{env.local(h.at):%d/%m/%Y}"), ("note", h.note or "")),
            ),
            long="note",
        )
        for h in case.history
        if h.public and h.note
    )
    due: Reply = due_line(case.due_on, env.today, case.status, env.calendar)
    if case.status == "out_of_scope" and case.forwarded_to:
        # Forwarded: our day to resolve no longer applies; the competent body resolves it.
        on = f"{case.forwarded_on:%d/%m/%Y}" if case.forwarded_on else ""
        due = Reply("law3.lookup_forwarded", (("body", case.forwarded_to), ("on", on)))
    params = (
        ("code", case.code),
        ("category", Ref(f"category.{case.category}")),
        ("status", Ref(f"status.{case.status}")),
        ("due", Lines((due,))),
    )

    def head(body: Lines, part: Lines) -> Reply:
        return Reply("lookup.card", (*params, ("part", part), ("notes", body)))

    return paginate(head, _more(case.code), notes)


def masked(phone: str | None) -> str:
    return mask_phone(phone) if phone else ""
