"""Staff's list of open cases (``/hoso``): filtered (mine, nobody's, overdue), overdue first,
each with its deadline, the deadlines it missed and who has it."""

from __future__ import annotations

from datetime import date

from ..context import ComplaintFacts, Env, Facts
from ..deadlines import Missed, missed_by
from ..effects import ChoiceOption, ConversationState, Lines, Outcome, Ref, Reply
from ..paging import Block, paginate
from ..parsing import normalize
from ..workdays import WorkCalendar, load_calendar

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
