"""Filing a complaint (góp ý, phản ánh, kiến nghị): category, description, files, identity,
confirmation, tracking code. Staff use the same steps to record a hotline call.

The rules (../shared/reference/LAW-2026.md): a named submission states name, address and phone
(NĐ 20/2008, Điều 7(1)), after a short privacy notice (Luật 91/2025/QH15); every case gets the
deadline to tell the person it is accepted (10 working days, Luật Tiếp công dân, Điều 28(1)),
the deadline to forward it if out of remit (5 working days, NĐ 20/2008, Điều 9(1)(d)) and its
category's target to resolve; a tố cáo is explained, not filed (Luật Tố cáo, Điều 25)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from ..categories import case_due_dates, categories, category
from ..context import Env, Facts
from ..effects import (
    Change,
    ChoiceOption,
    ConversationState,
    FileRef,
    Lines,
    Notify,
    OpenComplaint,
    Outcome,
    Params,
    Ref,
    Reply,
)
from ..events import Attachment, Choice, Inbound, Text
from ..limits import (
    ALLOWED_DOCUMENT_TYPES,
    DOCUMENT_EXTENSIONS,
    EXECUTABLE_EXTENSIONS,
    MAX_ADDRESS_CHARS,
    MAX_COMPLAINT_CHARS,
    MAX_COMPLAINT_FILES,
    MAX_FILE_BYTES,
    MAX_FILE_ID_CHARS,
    MAX_FILE_NOTE_CHARS,
    MAX_NAME_CHARS,
    MIN_ADDRESS_CHARS,
    MIN_COMPLAINT_CHARS,
)
from ..parsing import is_done, match_label, nav_word, parse_number
from ..phone import mask_phone, normalize_phone
from ..workdays import load_calendar
from . import menu
from .cards import case_card, history_line, law_lines

FLOW = "complaint"
CATEGORY, TEXT, FILES, WHO, NAME, PHONE, ADDRESS, CONFIRM = (
    "c.cat", "c.text", "c.files", "c.who", "c.name", "c.phone", "c.addr", "c.confirm",
)  # fmt: skip
BACK, CANCEL, SKIP = "back", "cancel", "skip"
_ORDER = (CATEGORY, TEXT, FILES, WHO, NAME, PHONE, ADDRESS, CONFIRM)
#: The steps that take what is typed as content: a navigation word there is never stored.
_FREE_TEXT = frozenset({TEXT, NAME, PHONE, ADDRESS})


@dataclass(slots=True)
class Draft:
    """The complaint being written (JSON in the conversation state)."""

    draft: int = 0
    cat: str | None = None
    text: str | None = None
    files: list[dict[str, object]] = field(default_factory=list)
    anon: bool | None = None
    name: str | None = None
    phone: str | None = None
    hotline: bool = False
    address: str | None = None
    #: The channel's message ids of the texts taken, by what they gave ("text", "name",
    #: "phone"), so an edit of one of them before «Gửi» can replace it.
    msgs: dict[str, str] = field(default_factory=dict)
    #: The album being received at the files step: its id, files taken, refusals.
    album: dict[str, object] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: dict[str, object]) -> Draft:
        files = raw.get("files")
        anon = raw.get("anon")
        return cls(
            draft=int(d) if isinstance(d := raw.get("draft"), int) else 0,
            cat=c if isinstance(c := raw.get("cat"), str) else None,
            text=t if isinstance(t := raw.get("text"), str) else None,
            files=[f for f in files if isinstance(f, dict)] if isinstance(files, list) else [],
            anon=anon if isinstance(anon, bool) else None,
            name=n if isinstance(n := raw.get("name"), str) else None,
            phone=p if isinstance(p := raw.get("phone"), str) else None,
            hotline=raw.get("hotline") is True,
            address=ad if isinstance(ad := raw.get("address"), str) else None,
            msgs={str(k): str(v) for k, v in m.items()}
            if isinstance(m := raw.get("msgs"), dict)
            else {},
            album=dict(a) if isinstance(a := raw.get("album"), dict) else {},
        )

    def dump(self) -> dict[str, object]:
        return {
            "draft": self.draft,
            "cat": self.cat,
            "text": self.text,
            "files": list(self.files),
            "anon": self.anon,
            "name": self.name,
            "phone": self.phone,
            "hotline": self.hotline,
            "address": self.address,
            "msgs": dict(self.msgs),
            "album": dict(self.album),
        }

    def file_refs(self) -> tuple[FileRef, ...]:
        return tuple(
            FileRef(
                media=str(f.get("media", "document")),
                size=int(s) if isinstance(s := f.get("size"), int) else 0,
                file_id=str(f.get("file_id", "")),
                name=str(f.get("name", "")),
                mime=str(f.get("mime", "")),
                note=str(f.get("note", "")),
            )
            for f in self.files
        )


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
            return _reask(state, env, "common.stale_choice")
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
        if event.caption and step == TEXT:
            return _captioned(state, draft, env, facts, event)
        return _attachment(state, draft, env, event)
    else:
        return _reask(state, env, "common.please_choose")
    if option == CANCEL:
        return cancel(state)
    if option == BACK:
        return _goto(state, draft, env, _previous(step, draft))
    if option == SKIP:
        return _skip(state, draft, env, step)
    if step == CATEGORY:
        return _category(state, draft, env, option, text)
    if step == TEXT:
        return _description(state, _taken(draft, "text", event), env, text)
    if step == FILES:
        if option == "done" or (text is not None and nav_word(text) in ("done", SKIP)):
            return _goto(state, draft, env, WHO)
        return _reask(state, env, "complaint.files_hint")
    if step == WHO:
        return _who(state, draft, env, option, text)
    if step == NAME:
        return _name(state, _taken(draft, "name", event), env, text)
    if step == PHONE:
        return _phone(state, _taken(draft, "phone", event), env, text)
    if step == ADDRESS:
        return _address(state, _taken(draft, "address", event), env, text)
    if option == "send" or (text is not None and is_done(text)):
        return _submit(state, draft, env, facts)
    return _reask(state, env, "complaint.confirm_hint")


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
    _keep_file(later, replace(event, caption=""))  # its caption is the description already
    kept = replace(new, data=later.dump())
    received = Reply(
        "complaint.file_received", (("n", len(later.files)), ("max", MAX_COMPLAINT_FILES))
    )
    return replace(
        answered, replies=(Reply("input.caption_taken"), received, *prompt(kept, env)), state=kept
    )


def _keep_file(draft: Draft, event: Attachment) -> None:
    draft.files.append(
        {
            "media": event.media,
            "size": event.size,
            "file_id": event.file_id,
            "name": event.name[:200],
            "mime": event.mime[:100],
            "note": event.caption[:MAX_FILE_NOTE_CHARS],
        }
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
            return _reask(state, env, "input.edit_refused")
        draft.text = text
    elif what == "name":
        name = _valid_name(text)
        if name is None:
            return _reask(state, env, "input.edit_refused")
        draft.name = name
    elif what == "address":
        address = " ".join(text.split())
        if not MIN_ADDRESS_CHARS <= len(address) <= MAX_ADDRESS_CHARS or nav_word(address):
            return _reask(state, env, "input.edit_refused")
        draft.address = address
    else:
        phone = normalize_phone(text)
        if phone is None:
            return _reask(state, env, "input.edit_refused")
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
        return _goto(state, draft, env, CONFIRM)
    if step in (NAME, PHONE, ADDRESS):
        return _reask(state, env, "law3.named_required")
    return _reask(state, env, "law3.text_required")


def _previous(step: str, draft: Draft) -> str:
    if step == CONFIRM:
        return ADDRESS if draft.anon is not None else WHO
    if step == ADDRESS and draft.anon:
        return WHO
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
        return _reask(state, env, "common.please_choose")
    found = category(code)
    if found is not None and found.denunciation:
        # Luật Tố cáo 25/2018, Điều 25: not taken anonymously in chat; say how and where.
        where = (
            Lines((Reply("law3.at_address", (("address", env.agency_address),)),))
            if env.agency_address
            else Lines(())
        )
        params = (("agency", env.agency), ("where", where))
        if draft.hotline:  # the officer is told what to tell the caller, and stays staff
            explain = Reply("law5.hotline_denunciation", params)
            return Outcome((explain, _next(draft)), state=menu.idle(state), ack="close")
        explain = Reply("law.denunciation", params)
        return Outcome((explain, menu.again()), state=menu.idle(state), ack="close")
    draft.cat = code
    return _goto(state, draft, env, TEXT)


def _description(state: ConversationState, draft: Draft, env: Env, text: str | None) -> Outcome:
    if text is None:
        return _reask(state, env, "complaint.text_hint")
    if len(text) < MIN_COMPLAINT_CHARS:
        hint = Reply("complaint.text_short", (("min", MIN_COMPLAINT_CHARS),))
        return Outcome((hint, *prompt(state, env)), state=state)
    if len(text) > MAX_COMPLAINT_CHARS:
        hint = Reply("complaint.text_long", (("got", len(text)), ("max", MAX_COMPLAINT_CHARS)))
        return Outcome((hint, *prompt(state, env)), state=state)
    draft.text = text
    return _goto(state, draft, env, FILES)


def _attachment(state: ConversationState, draft: Draft, env: Env, event: Attachment) -> Outcome:
    if state.step != FILES:
        return _reask(state, env, "complaint.file_not_now")
    refusal = file_refusal(event, len(draft.files))
    if refusal is None:
        _keep_file(draft, event)
    if not event.group:
        new = replace(state, data=draft.dump())
        if refusal is not None:
            return Outcome((refusal, *prompt(new, env)), state=new)
        received = Reply(
            "complaint.file_received", (("n", len(draft.files)), ("max", MAX_COMPLAINT_FILES))
        )
        return Outcome((received, *prompt(new, env)), state=new)
    return _album_file(state, draft, env, event.group, refusal)


def _album_file(
    state: ConversationState, draft: Draft, env: Env, group: str, refusal: Reply | None
) -> Outcome:
    """One file of an album: the reply counts the whole album so far, so that the runtime,
    which sends only the last reply of an album's files, acknowledges the album once."""
    if draft.album.get("id") != group:
        draft.album = {"id": group, "got": 0}
    before = draft.album.get("got")
    got = (before if isinstance(before, int) else 0) + (refusal is None)
    draft.album["got"] = got
    if refusal is not None:
        draft.album["refused"] = [refusal.key, [list(p) for p in refusal.params]]
    new = replace(state, data=draft.dump())
    replies: list[Reply] = []
    if draft.album["got"]:
        params = (
            ("count", draft.album["got"]),
            ("n", len(draft.files)),
            ("max", MAX_COMPLAINT_FILES),
        )
        replies.append(Reply("input.album_received", params))  # type: ignore[arg-type]
    refused = draft.album.get("refused")
    if isinstance(refused, list) and len(refused) == 2:
        key, params = refused
        replies.append(Reply(str(key), tuple((str(n), v) for n, v in params)))
    return Outcome((*replies, *prompt(new, env)), state=new)


def file_refusal(event: Attachment, already: int) -> Reply | None:
    """Why a file cannot be taken (too many, too big, a type we do not keep), or None."""
    if already >= MAX_COMPLAINT_FILES:
        return Reply("complaint.file_too_many", (("max", MAX_COMPLAINT_FILES),))
    if event.media == "other" or not event.file_id or len(event.file_id) > MAX_FILE_ID_CHARS:
        return Reply("complaint.file_type")
    if event.media == "document" and event.mime not in ALLOWED_DOCUMENT_TYPES:
        return Reply("complaint.file_type")
    if disguised_name(event.name):
        return Reply("complaint.file_name_refused")
    if event.size > MAX_FILE_BYTES:
        return Reply("complaint.file_too_big", (("max", MAX_FILE_BYTES // (1024 * 1024)),))
    return None


def disguised_name(name: str) -> bool:
    """True for a file name that carries a program's extension anywhere, or two extensions
    (``hoa-don.pdf.scr``, ``x.pdf.docx``). The name decides nothing else: the file's type is
    read from its bytes when it is copied (``jobs/attachments``)."""
    parts = [p.strip().lower() for p in name.strip().rstrip(". ").split(".")][1:]
    if any(p in EXECUTABLE_EXTENSIONS for p in parts):
        return True
    return len(parts) >= 2 and parts[-2] in DOCUMENT_EXTENSIONS


def _who(
    state: ConversationState, draft: Draft, env: Env, option: str | None, text: str | None
) -> Outcome:
    if text is not None:
        number = parse_number(text)
        option = {1: "named", 2: "anon"}.get(number or 0) or match_label(
            text, {"named": ("ghi ten", "co ten", "named"), "anon": ("an danh", "anonymous")}
        )
    if option not in ("named", "anon"):
        return _reask(state, env, "common.please_choose")
    if option == "named":
        draft.anon = False
        moved = _goto(state, draft, env, NAME)
    else:
        # The address is optional for an anonymous góp ý (issue 14): asked, «Bỏ qua» allowed.
        draft.anon, draft.name, draft.phone = True, None, None
        moved = _goto(state, draft, env, ADDRESS)
    # The notice comes before any personal data is asked (Luật 91/2025/QH15), an anonymous
    # sender's address included; on a hotline call, the officer reads it to the caller.
    if draft.hotline:
        key = "law5.hotline_privacy"
    else:
        key = "law5.privacy_anonymous" if draft.anon else "law3.privacy"
    notice = Reply(key, (("agency", env.agency), ("via", via(env))))
    return replace(moved, replies=(notice, *moved.replies))


def _next(draft: Draft) -> Reply:
    """What follows a finished step out of the flow: the citizen's menu, or for an officer
    recording a call, the staff commands to go on with."""
    return Reply("law5.hotline_done") if draft.hotline else menu.again()


def via(env: Env) -> Ref:
    """What the messages of this chat pass through, named for the notices: the platform's
    servers for Telegram and Zalo, the agency's own page or server otherwise."""
    known = env.channel if env.channel in ("telegram", "zalo", "web") else "other"
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
        return _reask(state, env, "complaint.bad_name")
    draft.name = name
    return _goto(state, draft, env, PHONE)


def _phone(state: ConversationState, draft: Draft, env: Env, text: str | None) -> Outcome:
    phone = normalize_phone(text or "")
    if phone is None:
        return _reask(state, env, "complaint.bad_phone")
    draft.phone = phone
    return _goto(state, draft, env, ADDRESS)


def _address(state: ConversationState, draft: Draft, env: Env, text: str | None) -> Outcome:
    """NĐ 20/2008, Điều 7(1): a named submission states its sender's address."""
    address = " ".join((text or "").split())
    if not (MIN_ADDRESS_CHARS <= len(address) <= MAX_ADDRESS_CHARS):
        hint = Reply("law.bad_address", (("max", MAX_ADDRESS_CHARS),))
        return Outcome((hint, *prompt(state, env)), state=state)
    draft.address = address
    return _goto(state, draft, env, CONFIRM)


def _submit(state: ConversationState, draft: Draft, env: Env, facts: Facts) -> Outcome:
    found = category(draft.cat or "")
    if found is None or draft.text is None or draft.anon is None:
        return _goto(state, draft, env, CATEGORY)  # a draft from an older version: start over
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
    return Outcome((filed, _next(draft)), changes=changes, state=menu.idle(state), ack="close")


def _goto(state: ConversationState, draft: Draft, env: Env, step: str) -> Outcome:
    new = replace(state, flow=FLOW, step=step, data=draft.dump())
    return Outcome(tuple(prompt(new, env)), state=new, ack="close")


def _reask(state: ConversationState, env: Env, hint: str) -> Outcome:
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
        ("files", len(draft.files)),
        ("who", Lines((who,))),
    )
    send = ChoiceOption(f"{CONFIRM}:send", "complaint.send")
    return [Reply("complaint.confirm", summary, (send, *_nav(CONFIRM)))]
