"""Filing a complaint (góp ý, phản ánh, kiến nghị): category, description, files, identity,
confirmation, tracking code. Staff use the same steps to record a hotline call.

The rules (../shared/reference/LAW-2026.md): a named submission states name, address and phone
(NĐ 20/2008, Điều 7(1)), after a short privacy notice (Luật 91/2025/QH15); every case gets the
deadline to tell the person it is accepted (10 working days, Luật Tiếp công dân, Điều 28(1)),
the deadline to forward it if out of remit (5 working days, NĐ 20/2008, Điều 9(1)(d)) and its
category's target to resolve; a tố cáo is explained, not filed (Luật Tố cáo, Điều 25)."""

from __future__ import annotations

from dataclasses import replace

from ..categories import categories, category
from ..context import Env, Facts
from ..effects import ConversationState, Lines, Outcome, Ref, Reply
from ..events import Attachment, Choice, Inbound, Text
from ..limits import (
    MAX_ADDRESS_CHARS,
    MAX_COMPLAINT_CHARS,
    MAX_COMPLAINT_FILES,
    MAX_NAME_CHARS,
    MIN_ADDRESS_CHARS,
    MIN_COMPLAINT_CHARS,
)
from ..parsing import is_done, match_label, nav_word, parse_number
from ..phone import normalize_phone
from ..text_limits import TextLimit, register
from . import menu
from .complaint_albums import album_part, takes_album
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
from .complaint_files import attachment, disguised_name, file_refusal, keep_file
from .complaint_prompt import after, goto, prompt, reask
from .complaint_submit import submit

#: The names other modules import from here (the flow was one module before it was split).
__all__ = [
    "ADDRESS", "BACK", "CANCEL", "CATEGORY", "CONFIRM", "FILES", "FLOW", "NAME", "PHONE",
    "SKIP", "TEXT", "WHO", "ZNS", "Draft", "cancel", "disguised_name", "edited", "file_refusal",
    "handle", "prompt", "start", "via",
]  # fmt: skip

_ORDER = (CATEGORY, TEXT, FILES, WHO, NAME, PHONE, ZNS, ADDRESS, CONFIRM)
#: The steps that take what is typed as content: a navigation word there is never stored.
_FREE_TEXT = frozenset({TEXT, NAME, PHONE, ADDRESS})


#: The steps that keep typed text, with their limits: the description in its own words; a
#: name or an address far over its limit (a refusal of the engine's, before the step reads
#: it) in the common words, with the step's limit.
_LIMITS = {
    TEXT: TextLimit("complaint.text_long", MAX_COMPLAINT_CHARS),
    NAME: TextLimit("common.too_long", MAX_NAME_CHARS),
    ADDRESS: TextLimit("common.too_long", MAX_ADDRESS_CHARS),
}


@register(FLOW)
def text_limit(state: ConversationState) -> TextLimit | None:
    return _LIMITS.get(state.step or "")


def start(state: ConversationState, env: Env, *, hotline: bool = False) -> Outcome:
    draft = Draft(draft=env.new_id(), hotline=hotline)
    new = replace(state, flow=FLOW, step=CATEGORY, data=draft.dump(), expires_at=None)
    return Outcome(tuple(prompt(new, env)), state=new)


def cancel(state: ConversationState) -> Outcome:
    return Outcome((Reply("complaint.cancelled"), menu.again()), state=menu.idle(state))


def handle(state: ConversationState, event: Inbound, env: Env, facts: Facts) -> Outcome:
    draft = Draft.load(state.data)
    step = state.step or CATEGORY
    option: str | None = None
    text: str | None = None
    if isinstance(event, Choice):
        prefix, _, option = event.id.partition(":")
        if prefix != step:
            return reask(state, env, "common.stale_choice")
    elif isinstance(event, Text):
        text = event.text.strip()
        nav = nav_word(text)
        if nav == BACK:
            option = BACK
        elif nav is not None and step in _FREE_TEXT:
            # "bỏ qua", "xong", "ok" typed where a name or an address is asked: navigation,
            # never content (a named complaint would otherwise carry "bỏ qua" as its address).
            option, text = SKIP, None
    elif isinstance(event, Attachment):
        if event.group and takes_album(state):
            return album_part(state, draft, env, event, lambda s, t: handle(s, Text(t), env, facts))
        if event.caption and step == TEXT:
            return _captioned(state, draft, env, facts, event)
        return attachment(state, draft, env, event)
    else:
        return reask(state, env, "common.please_choose")
    if option == CANCEL:
        return cancel(state)
    if option == BACK:
        return goto(state, draft, env, _previous(step, draft))
    if option == SKIP:
        return _skip(state, draft, env, step)
    if step == CATEGORY:
        return _category(state, draft, env, option, text)
    if step == TEXT:
        return _description(state, _taken(draft, "text", event), env, text)
    if step == FILES:
        if option == "done" or (text is not None and nav_word(text) in ("done", SKIP)):
            return goto(state, draft, env, WHO)
        return reask(state, env, "complaint.files_hint")
    if step == WHO:
        return _who(state, draft, env, option, text)
    if step == NAME:
        return _name(state, _taken(draft, "name", event), env, text)
    if step == PHONE:
        return _phone(state, _taken(draft, "phone", event), env, text)
    if step == ZNS:
        return _zns(state, draft, env, option, text)
    if step == ADDRESS:
        return _address(state, _taken(draft, "address", event), env, text)
    if option == "send" or (text is not None and is_done(text)):
        return submit(state, draft, env, facts)
    return reask(state, env, "complaint.confirm_hint")


def _taken(draft: Draft, what: str, event: Inbound) -> Draft:
    """Notes which message gave ``what`` (its edits may replace it until «Gửi»)."""
    if isinstance(event, Text) and event.message_id:
        draft.msgs[what] = event.message_id
    return draft


def _captioned(
    state: ConversationState, draft: Draft, env: Env, facts: Facts, event: Attachment
) -> Outcome:
    """A photo or file with a caption at the description: the caption is the description,
    and the file is kept for the files step that comes next (or why not is said). At the
    other steps that wait for text the engine reads the caption and says the file is not
    kept."""
    answered = handle(state, Text(event.caption), env, facts)
    new = answered.state
    moved_on = state.step == TEXT and new is not None and new.step == FILES
    if not moved_on or new is None:
        return replace(answered, replies=(Reply("input.file_not_kept"), *answered.replies))
    later = Draft.load(new.data)
    refusal = file_refusal(event, len(later.files))
    if refusal is not None:
        return replace(answered, replies=(refusal, *answered.replies))
    keep_file(later, replace(event, caption=""))  # its caption is the description already
    kept = replace(new, data=later.dump())
    received = Reply(
        "complaint.file_received", (("n", len(later.files)), ("max", MAX_COMPLAINT_FILES))
    )
    return replace(
        answered, replies=(Reply("input.caption_taken"), received, *prompt(kept, env)), state=kept
    )


def edited(state: ConversationState, event: Text, env: Env) -> Outcome | None:
    """An edited message before «Gửi»: an edit of the description (or of the name, the
    phone) replaces it and the summary says so. None when the edit is of nothing pending."""
    if state.flow != FLOW or not event.message_id:
        return None
    draft = Draft.load(state.data)
    what = next((w for w, m in draft.msgs.items() if m == event.message_id), None)
    if what is None:
        return None
    return _replace_edited(state, draft, env, what, event.text)


def _replace_edited(
    state: ConversationState, draft: Draft, env: Env, what: str, text: str
) -> Outcome:
    if what == "text":
        if not MIN_COMPLAINT_CHARS <= len(text) <= MAX_COMPLAINT_CHARS:
            return reask(state, env, "input.edit_refused")
        draft.text = text
    elif what == "name":
        name = _valid_name(text)
        if name is None:
            return reask(state, env, "input.edit_refused")
        draft.name = name
    elif what == "address":
        address = " ".join(text.split())
        if not MIN_ADDRESS_CHARS <= len(address) <= MAX_ADDRESS_CHARS or nav_word(address):
            return reask(state, env, "input.edit_refused")
        draft.address = address
    else:
        phone = normalize_phone(text)
        if phone is None:
            return reask(state, env, "input.edit_refused")
        draft.phone = phone
    new = replace(state, data=draft.dump())
    note = Reply("input.edit_taken", (("what", Ref(f"input.edit_what.{what}")),))
    return Outcome((note, *prompt(new, env)), state=new)


def _skip(state: ConversationState, draft: Draft, env: Env, step: str) -> Outcome:
    """«Bỏ qua» (pressed or typed) at a step that takes text: only an anonymous sender's
    address may be left out; a named submission states name, phone and address (NĐ 20/2008,
    Điều 7(1)), and a complaint needs its description."""
    if step == ADDRESS and draft.anon:
        draft.address = None
        return goto(state, draft, env, CONFIRM)
    if step in (NAME, PHONE, ADDRESS):
        return reask(state, env, "law3.named_required")
    return reask(state, env, "law3.text_required")


def _previous(step: str, draft: Draft) -> str:
    if step == CONFIRM:
        return ADDRESS if draft.anon is not None else WHO
    if step == ADDRESS and draft.anon:
        return WHO
    if step == ADDRESS:
        return ZNS if draft.zns is not None else PHONE
    if step == WHO:
        return FILES
    index = _ORDER.index(step) if step in _ORDER else 0
    return _ORDER[max(0, index - 1)]


def _category(
    state: ConversationState, draft: Draft, env: Env, option: str | None, text: str | None
) -> Outcome:
    codes = [c.code for c in categories()]
    code: str | None = option if option in codes else None
    if text is not None:
        number = parse_number(text)
        if number is not None and 1 <= number <= len(codes):
            code = codes[number - 1]
        else:
            code = match_label(text, {c.code: c.names.values() for c in categories()})
    if code is None:
        return reask(state, env, "common.please_choose")
    found = category(code)
    if found is not None and found.denunciation:
        # Luật Tố cáo 25/2018, Điều 25: not taken anonymously in chat; say how and where.
        where = (
            Lines((Reply("law3.at_address", (("address", env.agency_address),)),))
            if env.agency_address
            else Lines(())
        )
        params = (("agency", env.agency), ("where", where))
        key = "law5.hotline_denunciation" if draft.hotline else "law.denunciation"
        # On a hotline call the officer is told what to tell the caller, and stays staff.
        return Outcome((Reply(key, params), after(draft)), state=menu.idle(state), ack="close")
    draft.cat = code
    return goto(state, draft, env, TEXT)


def _description(state: ConversationState, draft: Draft, env: Env, text: str | None) -> Outcome:
    if text is None:
        return reask(state, env, "complaint.text_hint")
    if len(text) < MIN_COMPLAINT_CHARS:
        hint = Reply("complaint.text_short", (("min", MIN_COMPLAINT_CHARS),))
        return Outcome((hint, *prompt(state, env)), state=state)
    if len(text) > _LIMITS[TEXT].max:
        return Outcome((_LIMITS[TEXT].hint(len(text)), *prompt(state, env)), state=state)
    draft.text = text
    return goto(state, draft, env, FILES)


def _who(
    state: ConversationState, draft: Draft, env: Env, option: str | None, text: str | None
) -> Outcome:
    if text is not None:
        number = parse_number(text)
        option = {1: "named", 2: "anon"}.get(number or 0) or match_label(
            text, {"named": ("ghi ten", "co ten", "named"), "anon": ("an danh", "anonymous")}
        )
    if option not in ("named", "anon"):
        return reask(state, env, "common.please_choose")
    if option == "named":
        draft.anon = False
        moved = goto(state, draft, env, NAME)
    else:
        # The address is optional for an anonymous góp ý (issue 14): asked, «Bỏ qua» allowed.
        draft.anon, draft.name, draft.phone, draft.zns = True, None, None, None
        moved = goto(state, draft, env, ADDRESS)
    # The notice comes before any personal data is asked (Luật 91/2025/QH15), an anonymous
    # sender's address included; on a hotline call, the officer reads it to the caller.
    if draft.hotline:
        key = "law5.hotline_privacy"
    else:
        key = "law5.privacy_anonymous" if draft.anon else "law3.privacy"
    notice = Reply(key, (("agency", env.agency), ("via", via(env))))
    return replace(moved, replies=(notice, *moved.replies))


#: The channels :func:`via` names apart (any other is "other").
VIA_CHANNELS = ("telegram", "zalo", "web", "other")


def via(env: Env) -> Ref:
    """What the messages of this chat pass through, named for the notices: the platform's
    servers for Telegram and Zalo, the agency's own page or server otherwise."""
    known = env.channel if env.channel in VIA_CHANNELS else "other"
    return Ref(f"law3.via.{known}")


def _valid_name(text: str) -> str | None:
    """A person's name: 2–100 characters with at least two letters, no digit. The text is
    already cleaned (no invisible or direction-changing characters)."""
    name = " ".join(text.split())
    letters = sum(ch.isalpha() for ch in name)
    if not (2 <= len(name) <= MAX_NAME_CHARS) or letters < 2 or nav_word(name):
        return None
    return None if any(ch.isdigit() for ch in name) else name


def _name(state: ConversationState, draft: Draft, env: Env, text: str | None) -> Outcome:
    name = _valid_name(text or "")
    if name is None:
        return reask(state, env, "complaint.bad_name")
    draft.name = name
    return goto(state, draft, env, PHONE)


def _phone(state: ConversationState, draft: Draft, env: Env, text: str | None) -> Outcome:
    phone = normalize_phone(text or "")
    if phone is None:
        return reask(state, env, "complaint.bad_phone")
    draft.phone = phone
    # On Zalo with ZNS configured, a citizen's own number may carry notices after the 7-day
    # window: asked once, with its purpose and carrier (Luật 91/2025/QH15); staff recording
    # a call are not asked.
    return goto(state, draft, env, ZNS if env.zns and not draft.hotline else ADDRESS)


def _zns(
    state: ConversationState, draft: Draft, env: Env, option: str | None, text: str | None
) -> Outcome:
    """Consent to ZNS notices to the phone given: yes or no, and on to the address."""
    if text is not None:
        number = parse_number(text)
        option = {1: "yes", 2: "no"}.get(number or 0) or match_label(
            text, {"yes": ("dong y", "co", "yes", "agree"), "no": ("khong", "no", "refuse")}
        )
    if option not in ("yes", "no"):
        return reask(state, env, "zns5.please_choose")
    draft.zns = option == "yes"
    return goto(state, draft, env, ADDRESS)


def _address(state: ConversationState, draft: Draft, env: Env, text: str | None) -> Outcome:
    """NĐ 20/2008, Điều 7(1): a named submission states its sender's address."""
    address = " ".join((text or "").split())
    if not (MIN_ADDRESS_CHARS <= len(address) <= MAX_ADDRESS_CHARS):
        hint = Reply("law.bad_address", (("max", MAX_ADDRESS_CHARS),))
        return Outcome((hint, *prompt(state, env)), state=state)
    draft.address = address
    return goto(state, draft, env, CONFIRM)
