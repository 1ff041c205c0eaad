"""The complaint sent: its deadlines, the case opened, staff alerted, the tracking code.
Moved out of ``complaint.py`` unchanged."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from ..categories import case_due_dates, category
from ..context import Env, Facts
from ..effects import Change, ConversationState, Notify, OpenComplaint, Outcome, Reply
from ..workdays import load_calendar
from . import menu
from .cards import case_card, history_line, law_lines
from .complaint_draft import CATEGORY, Draft
from .complaint_prompt import after, goto, prompt


def submit(state: ConversationState, draft: Draft, env: Env, facts: Facts) -> Outcome:
    found = category(draft.cat or "")
    if found is None or draft.text is None or draft.anon is None:
        return goto(state, draft, env, CATEGORY)  # a draft from an older version: start over
    if not draft.hotline and facts.complaints_today >= env.complaints_per_day:
        local = env.now.astimezone(env.tz)
        tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), env.tz)
        hint = Reply(
            "complaint.limit",
            (("max", env.complaints_per_day), ("when", f"{tomorrow:%d/%m/%Y}")),
        )
        return Outcome((hint, *prompt(state, env)), state=state)
    calendar = env.calendar or load_calendar()
    dues = case_due_dates(env.now, found.days, calendar, env.tz)
    due, accept = dues.resolve, dues.accept
    code = env.new_code(env.today.year)
    opened = OpenComplaint(
        draft_id=draft.draft,
        code=code,
        category=found.code,
        description=draft.text,
        anonymous=draft.anon,
        name=draft.name,
        phone=draft.phone,
        source="hotline" if draft.hotline else "chat",
        due_on=due,
        at=env.now,
        language=state.language,
        actor="staff" if draft.hotline else "citizen",
        files=draft.file_refs(),
        address=draft.address,
        accept_due_on=accept,
        forward_due_on=dues.forward,
        zns_consent=bool(draft.zns) and not draft.anon and draft.phone is not None,
    )
    cards = case_card(
        code=code,
        category_code=found.code,
        status="new",
        due=due,
        today=env.today,
        name=draft.name,
        phone=draft.phone,
        description=draft.text,
        files=len(draft.files),
        hotline=draft.hotline,
        calendar=calendar,
        # As ``/hoso CODE`` shows it: when it came in, local time.
        history=(history_line(env.now, "new", None, env),),
        rules=law_lines(address=draft.address, accept=accept, forward=opened.forward_due_on),
    )
    alerts = tuple(Notify("admins", part, code) for part in cards)
    changes: tuple[Change, ...] = (opened, *alerts)
    key = (
        "law.hotline_filed"
        if draft.hotline
        else ("complaint.filed_anonymous" if draft.anon else "law.filed")
    )
    filed = Reply(
        key, (("code", code), ("due", f"{due:%d/%m/%Y}"), ("accept", f"{accept:%d/%m/%Y}"))
    )
    return Outcome((filed, after(draft)), changes=changes, state=menu.idle(state), ack="close")
