"""The citizen's side after filing: look a case up, send what staff asked for, rate the answer."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from ..context import Env, Facts
from ..daily_counts import LOOKUP_MISSES
from ..effects import (
    Change,
    ChoiceOption,
    ConversationState,
    FileRef,
    Notify,
    Outcome,
    RateComplaint,
    Ref,
    Reply,
    UpdateComplaint,
)
from ..events import Attachment, Choice, Inbound, Text
from ..limits import MAX_NOTE_CHARS
from ..normalise import clean
from ..parsing import is_ascii_number, is_done
from ..phone import normalize_phone
from ..text_limits import TextLimit, register
from . import menu
from .cards import citizen_view, staff_card
from .complaint import file_refusal
from .complaint_files import file_record

LOOKUP = "lookup"
SUPPLEMENT = "supplement"
#: A tracking code as citizens type it: any case, the groups joined by any separator a
#: keyboard offers (dashes, spaces, dots, slashes, colons, commas, underscores, "#") or by
#: nothing (``PA-2026-000123``, ``pa 2026 000123``, ``PA/2026/000123``, ``PA2026000123``).
_GAP = r"[\s\-‐‑–—._/\\:,#+|]{0,3}"
CODE_PATTERN = re.compile(rf"\bPA{_GAP}(\d{{4}}){_GAP}(\d{{6}})(?!\d)", re.IGNORECASE)
#: A whole message that is nothing but a tracking code (perhaps after "mã", "mã số").
_WHOLE_CODE = re.compile(
    r"\s*(?:m[ãa](?:\s*(?:s[ốo]|tra\s*c[ứu]u))?\s*[:#]?\s*)?(.{0,40}?)[\s.!?]*", re.IGNORECASE
)
#: Wrong phone numbers a chat may give in lookups in one day.
MAX_LOOKUP_MISSES = 5


#: Dashes a phone or a word processor puts for "-" (hyphen, non-breaking hyphen, figure,
#: en and em dashes, minus sign, full-width hyphen-minus).
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))


def find_code(text: str) -> str | None:
    """The first tracking code in ``text``, spelled ``PA-2026-000123``; None if none.
    Any case, the parts joined by dashes, spaces, dots or nothing; full-width letters and
    digits, digits of any script and look-alike dashes are read as ASCII (NFKC, then
    :func:`normalise.clean`), so such a code is no failed lookup."""
    match = CODE_PATTERN.search(code_text(text))
    return f"PA-{match.group(1)}-{match.group(2)}" if match else None


def codes_in(text: str) -> set[str]:
    """Every tracking code in ``text`` (read as :func:`find_code` does), as ``PA-2026-000123``."""
    return {f"PA-{year}-{number}" for year, number in CODE_PATTERN.findall(code_text(text))}


def whole_code(text: str) -> str | None:
    """The tracking code a message consists of (``pa 2026 000123``, ``mã PA-2026-000123``),
    spelled ``PA-2026-000123``; None when the message says anything else."""
    if len(text) > 60:
        return None
    outer = _WHOLE_CODE.fullmatch(unicodedata.normalize("NFC", code_text(text)))
    inner = outer.group(1) if outer else ""
    match = CODE_PATTERN.fullmatch(inner)
    return f"PA-{match.group(1)}-{match.group(2)}" if match else None


def looks_like_code(text: str) -> bool:
    """Whether ``text`` is a try at a tracking code that :func:`find_code` cannot read
    ("PA-2026-12345", "pa2026"): it begins with PA and has digits."""
    squeezed = re.sub(r"[\W_]+", "", code_text(text)).upper()
    return squeezed.startswith("PA") and any(ch.isdigit() for ch in squeezed)


def code_text(text: str) -> str:
    """``text`` as tracking codes are looked for in it (see :func:`find_code`)."""
    return clean(unicodedata.normalize("NFKC", text)).translate(_DASHES)


# --- lookup ---------------------------------------------------------------------------


def lookup(state: ConversationState, env: Env, facts: Facts, arg: str) -> Outcome:
    """``/tracuu [CODE]``: the chat that filed it sees it at once; anyone else needs the phone."""
    code = find_code(arg)
    if code is None:
        new = replace(state, flow=LOOKUP, step="l.code", data=_guard(state), expires_at=None)
        ask = Reply("lookup.ask_code", choices=_cancel("l.code"))
        # "/tracuu PA-2026-12345": what was typed is no code; say what one looks like.
        bad = (Reply("lookup.bad_code"),) if clean(arg) else ()
        return Outcome((*bad, ask), state=new)
    case = facts.complaints.get(code)
    if case is not None and case.owned:
        view = citizen_view(case, env)
        return Outcome((*view, menu.again()), state=menu.idle(state))
    if case is not None and case.phone is None:
        return _refused(state)  # no phone to prove who is asking
    if state.daily.today(env.today, LOOKUP_MISSES) >= MAX_LOOKUP_MISSES:
        hint = Reply("lookup.too_many", (("max", MAX_LOOKUP_MISSES),))
        return Outcome((hint, menu.again()), state=menu.idle(state))
    data = {**_guard(state), "code": code}
    new = replace(state, flow=LOOKUP, step="l.phone", data=data, expires_at=None)
    return Outcome((Reply("lookup.ask_phone", choices=_cancel("l.phone")),), state=new)


def _guard(state: ConversationState) -> dict[str, object]:
    return {key: state.data[key] for key in menu.KEPT if key in state.data}


def handle_lookup(state: ConversationState, event: Inbound, env: Env, facts: Facts) -> Outcome:
    if isinstance(event, Choice) and event.id.endswith(":cancel"):
        return Outcome((Reply("cancel.done"), menu.again()), state=menu.idle(state), ack="close")
    if not isinstance(event, Text):
        return _reask_lookup(state, "common.please_choose")
    if state.step == "l.code":
        if find_code(event.text) is None:
            return _reask_lookup(state, "lookup.bad_code")
        return lookup(state, env, facts, event.text)
    code = str(state.data.get("code", ""))
    case = facts.complaints.get(code)
    phone = normalize_phone(event.text)
    if phone is None:
        return _reask_lookup(state, "complaint.bad_phone")
    if case is None or case.phone != phone:
        # The same answer for "no such case" and "not your phone"; misses are counted, so
        # nobody can try phone numbers against a known code (codes are public in Open311).
        return _refused(replace(state, daily=state.daily.plus_one(env.today, LOOKUP_MISSES)))
    view = citizen_view(case, env)
    return Outcome((*view, menu.again()), state=menu.idle(state))


def _refused(state: ConversationState) -> Outcome:
    return Outcome((Reply("lookup.refused"), menu.again()), state=menu.idle(state))


def _reask_lookup(state: ConversationState, hint: str) -> Outcome:
    return Outcome((Reply(hint), *prompt(state)), state=state)


def prompt(state: ConversationState) -> list[Reply]:
    """The question a lookup (the code, or the phone) or a supplement is waiting on."""
    if state.flow == SUPPLEMENT:
        files = state.data.get("files")
        return [_supplement_prompt(len(files) if isinstance(files, list) else 0)]
    step = state.step or "l.code"
    key = "lookup.ask_code" if step == "l.code" else "lookup.ask_phone"
    return [Reply(key, choices=_cancel(step))]


def _cancel(step: str) -> tuple[ChoiceOption, ...]:
    return (ChoiceOption(f"{step}:cancel", "complaint.cancel"),)


# --- rating ---------------------------------------------------------------------------


def rate(state: ConversationState, env: Env, facts: Facts, code: str, value: str) -> Outcome:
    # Every answer offers the menu after it, as the thanks does (no dead end); mid-task the
    # engine puts the task's question in its place (engine._rated).
    case = facts.complaints.get(code)
    if case is None or not case.owned:
        return _unknown_code(state, menu.again())
    if case.status != "resolved" or not is_ascii_number(value):
        return Outcome((Reply("rating.not_now"), menu.again()), state=state)
    rating = int(value)
    if not 1 <= rating <= 5:
        return Outcome((Reply("rating.not_now"), menu.again()), state=state)
    if case.rating is not None:
        return Outcome((Reply("rating.already"), menu.again()), state=state)
    change = RateComplaint(code, rating, env.now)
    return Outcome((Reply("rating.thanks"), menu.again()), changes=(change,), state=state)


def _unknown_code(state: ConversationState, *then: Reply) -> Outcome:
    """A button naming a case that does not exist or is not this chat's (forged, or from a
    chat whose data was deleted): the answer a lookup of an unknown code gets, so the button
    tells nothing about which cases exist or what state they are in."""
    return Outcome((Reply("lookup.refused"), *then), state=state)


def rating_choices(code: str) -> tuple[ChoiceOption, ...]:
    return tuple(
        ChoiceOption(f"rate:{code}:{v}", "survey.level", (("n", v), ("label", Ref(f"scale.{v}"))))
        for v in (1, 2, 3, 4, 5)
    )


# --- sending what staff asked for -----------------------------------------------------


def supplement(state: ConversationState, env: Env, facts: Facts, code: str) -> Outcome:
    case = facts.complaints.get(code)
    if case is None or not case.owned:
        return _unknown_code(state, menu.again())
    if case.status != "waiting_citizen":
        return Outcome((Reply("supplement.not_now"), menu.again()), state=state)
    data: dict[str, object] = {"case": code, "files": []}
    new = replace(state, flow=SUPPLEMENT, step="sup.text", data=data, expires_at=None)
    return Outcome((_supplement_prompt(0),), state=new)


def _supplement_prompt(files: int) -> Reply:
    return Reply(
        "supplement.ask",
        (("n", files),),
        (
            ChoiceOption("sup.text:done", "complaint.files_done"),
            ChoiceOption("sup.text:cancel", "complaint.cancel"),
        ),
    )


#: What a citizen adds to a case staff asked more of.
SUPPLEMENT_LIMIT = TextLimit("complaint.text_long", MAX_NOTE_CHARS)


@register(SUPPLEMENT)
def text_limit(state: ConversationState) -> TextLimit | None:
    return SUPPLEMENT_LIMIT


def handle_supplement(state: ConversationState, event: Inbound, env: Env, facts: Facts) -> Outcome:
    code = str(state.data.get("case", ""))
    raw_files = state.data.get("files")
    files = [f for f in raw_files if isinstance(f, dict)] if isinstance(raw_files, list) else []
    case = facts.complaints.get(code)
    if isinstance(event, Choice) and event.id == "sup.text:cancel":
        return Outcome((Reply("cancel.done"), menu.again()), state=menu.idle(state), ack="close")
    if case is None or case.status != "waiting_citizen":
        return Outcome((Reply("supplement.not_now"), menu.again()), state=menu.idle(state))
    if isinstance(event, Attachment):
        refusal = file_refusal(event, len(files))
        if refusal is not None:
            return Outcome((refusal, _supplement_prompt(len(files))), state=state)
        # Its caption is kept with it, as at a complaint's files step: nothing typed is lost.
        files.append(file_record(event, event.caption))
        new = replace(state, data={"case": code, "files": files})
        return Outcome((_supplement_prompt(len(files)),), state=new)
    # "Done" pressed, or typed in any of the words the other steps take for it ("hoàn tất",
    # "ok"): not every such word is the button's label, which the engine reads before this.
    done = (isinstance(event, Choice) and event.id == "sup.text:done") or (
        isinstance(event, Text) and is_done(event.text)
    )
    note: str | None = None
    if isinstance(event, Text) and not done:
        note = event.text.strip()
        if len(note) > SUPPLEMENT_LIMIT.max:
            hint = SUPPLEMENT_LIMIT.hint(len(note))
            return Outcome((hint, _supplement_prompt(len(files))), state=state)
    elif not done:
        return Outcome((Reply("common.please_choose"), _supplement_prompt(len(files))), state=state)
    if not note and not files:
        return Outcome((Reply("supplement.empty"), _supplement_prompt(0)), state=state)
    refs = tuple(
        FileRef(str(f["media"]), int(str(f.get("size", 0))), str(f["file_id"]),
                str(f.get("name", "")), str(f.get("mime", "")), str(f.get("note", "")))
        for f in files
    )  # fmt: skip
    update = UpdateComplaint(
        code=code,
        from_status=case.status,
        to_status="in_progress",
        note=note,
        public=False,
        actor="citizen",
        at=env.now,
        files=refs,
    )
    updated = replace(case, status="in_progress", files=case.files + len(refs))
    alert = Reply("staff.supplemented", (("code", code),))
    cards = tuple(Notify("admins", part, code) for part in staff_card(updated, env))
    changes: tuple[Change, ...] = (update, Notify("admins", alert, code), *cards)
    replies = (Reply("supplement.received", (("code", code),)), menu.again())
    return Outcome(replies, changes=changes, state=menu.idle(state), ack="close")
