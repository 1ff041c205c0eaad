"""The complaint's questions: each step's prompt and buttons, and moving to a step.
Moved out of ``complaint.py`` unchanged."""

from __future__ import annotations

from dataclasses import replace

from ..categories import categories
from ..context import Env
from ..effects import ChoiceOption, ConversationState, Lines, Outcome, Params, Ref, Reply
from ..limits import MAX_COMPLAINT_CHARS, MAX_COMPLAINT_FILES
from ..phone import mask_phone
from . import menu
from .complaint_draft import (
    ADDRESS,
    BACK,
    CANCEL,
    CATEGORY,
    CONFIRM,
    FILES,
    FLOW,
    NAME,
    PHONE,
    SKIP,
    TEXT,
    WHO,
    ZNS,
    Draft,
)


def goto(state: ConversationState, draft: Draft, env: Env, step: str) -> Outcome:
    new = replace(state, flow=FLOW, step=step, data=draft.dump())
    return Outcome(tuple(prompt(new, env)), state=new, ack="close")


def reask(state: ConversationState, env: Env, hint: str) -> Outcome:
    return Outcome((Reply(hint), *prompt(state, env)), state=state)


def _nav(step: str, back: bool = True) -> tuple[ChoiceOption, ...]:
    cancel_option = ChoiceOption(f"{step}:{CANCEL}", "complaint.cancel")
    if not back:
        return (cancel_option,)
    return (ChoiceOption(f"{step}:{BACK}", "survey.back"), cancel_option)


def prompt(state: ConversationState, env: Env) -> list[Reply]:
    draft = Draft.load(state.data)
    step = state.step or CATEGORY
    if step == CATEGORY:
        options = tuple(ChoiceOption(f"{CATEGORY}:{c.code}", c.key) for c in categories())
        key = "complaint.ask_category_hotline" if draft.hotline else "complaint.ask_category"
        return [Reply(key, choices=options + _nav(CATEGORY, back=False))]
    if step == TEXT:
        return [Reply("complaint.ask_text", (("max", MAX_COMPLAINT_CHARS),), _nav(TEXT))]
    if step == FILES:
        done = ChoiceOption(f"{FILES}:done", "complaint.files_done")
        params = (("n", len(draft.files)), ("max", MAX_COMPLAINT_FILES))
        return [Reply("complaint.ask_files", params, (done, *_nav(FILES)))]
    if step == WHO:
        options = (
            ChoiceOption(f"{WHO}:named", "complaint.who_named"),
            ChoiceOption(f"{WHO}:anon", "complaint.who_anon"),
        )
        key = "complaint.ask_who_hotline" if draft.hotline else "complaint.ask_who"
        return [Reply(key, choices=options + _nav(WHO))]
    if step == NAME:
        return [Reply("complaint.ask_name", choices=_nav(NAME))]
    if step == PHONE:
        return [Reply("complaint.ask_phone", choices=_nav(PHONE))]
    if step == ZNS:
        options = (ChoiceOption(f"{ZNS}:yes", "zns5.yes"), ChoiceOption(f"{ZNS}:no", "zns5.no"))
        return [Reply("zns5.ask_consent", (("agency", env.agency),), options + _nav(ZNS))]
    if step == ADDRESS:
        if draft.anon:
            skip = ChoiceOption(f"{ADDRESS}:{SKIP}", "survey.skip")
            return [Reply("law3.ask_address_optional", choices=(skip, *_nav(ADDRESS)))]
        return [Reply("law.ask_address", choices=_nav(ADDRESS))]
    who: Reply
    if draft.anon and draft.address:
        who = Reply("law3.summary_anonymous_address", (("address", draft.address),))
    elif draft.anon:
        who = Reply("complaint.summary_anonymous")
    else:
        who = Reply(
            "law.summary_named",
            (
                ("name", draft.name or ""),
                ("phone", mask_phone(draft.phone or "")),
                ("address", draft.address or ""),
            ),
        )
    text = draft.text or ""
    summary: Params = (
        ("category", Ref(f"category.{draft.cat}")),
        ("text", text if len(text) <= 300 else text[:300] + "…"),
        ("files", _files(len(draft.files))),
        ("who", Lines((who,))),
    )
    send = ChoiceOption(f"{CONFIRM}:send", "complaint.send")
    return [Reply("complaint.confirm", summary, (send, *_nav(CONFIRM)))]


def _files(count: int) -> int | Lines:
    """The files counted in the summary: they are only read and checked (type, size) after
    sending, so the count says so, and that a refused one will be told."""
    return Lines((Reply("harden5.files_checked", (("n", count),)),)) if count else count


def after(draft: Draft) -> Reply:
    """What follows a finished complaint (filed, or a tố cáo explained): the citizen's menu,
    or for an officer recording a call, the staff commands to go on with."""
    return Reply("law5.hotline_done") if draft.hotline else menu.again()
