"""The engine's entry (``conversations/engine.py``), pinned exactly (issue 17: the mutants of
that module).

Each row names a conversation state, one inbound event and the facts looked up for it, and
the whole outcome ``engine.handle`` must give: every reply in order with its parameters (the
question asked again is the flow's own prompt, rendered on the state the row expects), the
state after it, the changes, the ack and the message a pressed button becomes. The rows go
through every branch of the module: the clock's events (expiry, reminder) in a survey and
elsewhere; a staff room (a stray group, a member who is no administrator, the room's help,
prompts named after their officer); commands, and a plain message a channel read as one;
edited messages; cancel words; the inbound length limit and the cleaning before it; empty
texts; files, stickers and captions at each step; every global button (language, forget,
a task kept for later, the switch question, the menu, case cards from an administrator and
from anyone else, ratings, a supplement, a dossier's follow, stop and invitation buttons) at
rest and mid-task, with the question asked again after a one-off answer or a stale button;
double taps and a survey's last buttons pressed again; the switch question answered by
typing; an officer's typed option; a re-sent rating request answered by typing; options
typed instead of pressed, ambiguous ones; and each flow reached (survey, complaint, lookup,
supplement, staff note). A second table pins the rows whose answer is a flow's own (a case
card, a staff action) as that flow's outcome with only the engine's additions.

Every call goes through the module (``engine.handle``), never a name imported from it, so
that a mutant swapped into the module is the one run. Pure: no database, a fixed clock and
fixed ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from conversations import engine
from conversations.asking import prompt
from conversations.catalog import default_catalog
from conversations.context import ComplaintFacts, DossierFacts, Env, Facts
from conversations.daily_counts import WRONG_CODES
from conversations.effects import (
    Change,
    ConversationState,
    EndResponse,
    FollowDossier,
    ForgetContact,
    Lines,
    MarkSurveyed,
    Outcome,
    Params,
    RateComplaint,
    RecordConsent,
    Ref,
    Reply,
    SaveAnswer,
    SetLanguage,
    StartResponse,
    UnfollowDossier,
)
from conversations.events import Attachment, Choice, Command, Expired, Inbound, Text, TimedOut
from conversations.flows import staff, staff_typed, tracking
from conversations.flows.complaint_draft import Draft
from conversations.flows.staff_prompts import ask_note
from conversations.flows.survey_data import SurveyData

NOW = datetime(2026, 11, 30, 3, tzinfo=UTC)  # 10:00 in Hanoi
TODAY = date(2026, 11, 30)
AGENCY = "Sở Thử Nghiệm"
ENV = Env(now=NOW, new_id=lambda: 7, agency=AGENCY)
TTL = NOW + timedelta(days=7)  # Env's survey_ttl from now
REMIND = NOW + timedelta(hours=24)  # Env's survey_remind_after from now
OLD = NOW - timedelta(hours=1)  # a deadline passed
CODE = "PA-2026-000123"
OTHER = "PA-2026-000999"

IDLE = ConversationState("vi")
CONSENT = ConversationState(
    "vi", flow="survey", step="consent", data=SurveyData(form="sipas-1001").dump(), expires_at=TTL
)
SURVEY = ConversationState(
    "vi",
    flow="survey",
    step="channel",
    data=SurveyData(rid=5, form="sipas-1001").dump(),
    expires_at=TTL,
    remind_at=OLD,
)
SUMMARY = replace(SURVEY, step="summary")
EXPIRED_SURVEY = replace(SURVEY, expires_at=OLD)
COMPLAINT = ConversationState(
    "vi", flow="complaint", step="c.text", data=Draft(draft=3, cat="capphep").dump()
)
AT_CAT = replace(COMPLAINT, step="c.cat")
FILES = ConversationState(
    "vi", flow="complaint", step="c.files", data=Draft(draft=3, cat="capphep", text="x" * 20).dump()
)
AT_WHO = replace(FILES, step="c.who")
EDITED = replace(
    FILES, data=Draft(draft=3, cat="capphep", text="x" * 20, msgs={"text": "9"}).dump()
)
LOOKUP = ConversationState("vi", flow="lookup", step="l.code")
SUPP = ConversationState("vi", flow="supplement", step="sup.text", data={"case": CODE, "files": []})
NOTE = ConversationState("vi", flow="staff", step="s.note", data={"case": CODE, "act": "answer"})


def case(status: str = "new", *, owned: bool = False, **more: object) -> ComplaintFacts:
    """The complaint ``CODE`` in ``status`` (filed from this chat, or not)."""
    return ComplaintFacts(
        code=CODE, category="khac", status=status, description="…", source="telegram",
        anonymous=False, name="A", phone="0903111222", language="vi",
        created_at=NOW - timedelta(days=1), due_on=date(2026, 12, 10), owned=owned,
        reachable=True, **more,  # type: ignore[arg-type]
    )  # fmt: skip


NEW = case()
RESOLVED = case("resolved", owned=True)
WAITING = case("waiting_citizen", owned=True)
ADMIN = Facts(admin=True, sender="u1", complaints={CODE: NEW})
ROOM = Facts(admin=True, room=True, sender="u1", complaints={CODE: NEW})
NAMED_ROOM = replace(ROOM, sender_name="Lan")
NAMED = replace(ADMIN, sender_name="Lan")
CITIZEN = Facts(complaints={CODE: NEW})
OWNER = Facts(complaints={CODE: RESOLVED})
ASKED_MORE = Facts(complaints={CODE: WAITING})
DOSSIER = DossierFacts(
    id=42,
    code="HS-2026-0042",
    token="Tok0123456789abcdefghijk",
    procedure="1.009972",
    received_on=date(2026, 11, 2),
    due_on=date(2026, 12, 2),
    status="handed_over",
    followed=True,
    invite="invited",
    invite_expires_at=NOW + timedelta(days=1),
)
INVITED = Facts(dossiers={42: DOSSIER})
LINKED = Facts(dossier=replace(DOSSIER, followed=False, status="received"))
#: At rest, a rating request for ``CODE`` just re-sent (Zalo's window reopened).
RESENT = replace(IDLE, data={"asked": f"rate:{CODE}", "resent": True})
#: At rest, that request still the live question (the next message).
LIVE = replace(IDLE, data={"asked": f"rate:{CODE}"})
#: The survey's consent screen opened by the message that met a re-sent rating request.
RATE_TOO = replace(CONSENT, data={**CONSENT.data, "rate_too": CODE})
#: A complaint half written with a lookup kept for after it.
KEPT = replace(COMPLAINT, data={**COMPLAINT.data, "later": {"name": "tracuu", "arg": ""}})
#: At rest, that lookup offered.
OFFERED = replace(IDLE, data={"later": {"name": "tracuu", "arg": ""}})
#: A complaint waiting for the answer to "keep it or drop it?" about ``/khaosat``.
PENDING = replace(COMPLAINT, data={**COMPLAINT.data, "switch_to": {"name": "khaosat", "arg": ""}})
#: The survey's first question, its consent button just taken.
TAPPED = replace(SURVEY, data={**SURVEY.data, "last_choice": "consent:yes"})
#: An officer's chat that was shown a case card's buttons (its number read against them).
SHOWN = replace(
    IDLE,
    data={
        "staff_shown": {
            "at": (NOW - timedelta(minutes=5)).isoformat(),
            "choices": [
                [f"case:{CODE}:take", "staff.action.take", {}],
                [f"case:{CODE}:release", "staff.action.release", {}],
            ],
        }
    },
)
#: A survey opened by the invitation of dossier 42.
ITS_SURVEY = replace(SURVEY, data=SurveyData(rid=5, form="sipas-1001", dossier=42).dump())
#: A complaint at the question whose words name the agency (consent to ZNS notices).
AT_ZNS = replace(COMPLAINT, step="c.zns")
#: A staff note stored by an older version (its question has no button).
OLD_NOTE = replace(NOTE, data={"case": CODE, "act": "x"})
#: A rating request re-sent for a case whose code (forged) holds a colon.
COLON_RATE_TOO = replace(CONSENT, data={**CONSENT.data, "rate_too": "X:Y"})
#: At the ZNS question, the phone number given in message 9 (an edit of it replaces it).
ZNS_EDITED = replace(
    AT_ZNS,
    data=Draft(
        draft=3,
        cat="capphep",
        text="x" * 20,
        anon=False,
        name="An",
        phone="0903111222",
        msgs={"phone": "9"},
    ).dump(),
)


class _Asked:
    """In a row's replies: the question the state after the event waits on, asked again."""


ASKED = _Asked()
Expected = str | tuple[str, Params] | Reply | _Asked


def asked(state: ConversationState) -> tuple[Reply, ...]:
    """The question ``state`` waits on, as the engine asks it again."""
    return tuple(prompt(state, ENV))


@dataclass(frozen=True)
class Row:
    """An event met in ``state``, and the whole outcome it must give."""

    id: str
    state: ConversationState
    event: Inbound
    #: Each reply: its key (no parameters), its key and parameters, or the whole reply;
    #: ``ASKED``: the question of the state after it.
    replies: tuple[Expected, ...]
    #: The state after it; None: ``state`` itself, unchanged.
    after: ConversationState | None = None
    changes: tuple[Change, ...] = ()
    ack: str | None = None
    #: None: the engine is called without facts (its default).
    facts: Facts | None = None
    closed: Reply | None = None


def _expected(row: Row) -> list[Reply | tuple[str, Params]]:
    after = row.state if row.after is None else row.after
    out: list[Reply | tuple[str, Params]] = []
    for item in row.replies:
        if isinstance(item, _Asked):
            out.extend(asked(after))
        elif isinstance(item, str):
            out.append((item, ()))
        else:
            out.append(item)
    return out


def _check(outcome: Outcome, row: Row) -> None:
    expected = _expected(row)
    got = [
        r if isinstance(e, Reply) else (r.key, r.params)
        for r, e in zip(outcome.replies, expected, strict=False)
    ]
    assert tuple(r.key for r in outcome.replies) == tuple(
        e.key if isinstance(e, Reply) else e[0] for e in expected
    )
    assert got == expected
    assert all(default_catalog().has(r.key) for r in outcome.replies)
    assert outcome.state == (row.state if row.after is None else row.after)
    assert outcome.changes == row.changes
    assert outcome.ack == row.ack
    assert outcome.closed == row.closed


ROWS = [
    # --- the clock's events ---
    Row(
        "expired-at-rest",
        IDLE,
        Expired(),
        (),
    ),
    Row(
        "expired-survey",
        EXPIRED_SURVEY,
        Expired(),
        ("survey.expired",),
        after=replace(
            EXPIRED_SURVEY, flow=None, step=None, data={}, expires_at=None, remind_at=None
        ),
        changes=(EndResponse(response_id=5, status="expired", at=NOW, receipt_id=None),),
    ),
    Row(
        "expired-survey-not-yet",
        SURVEY,
        Expired(),
        (),
    ),
    Row(
        "expired-complaint",
        COMPLAINT,
        Expired(),
        (),
    ),
    Row(
        "timed-out-at-rest",
        IDLE,
        TimedOut(),
        (),
    ),
    Row(
        "timed-out-survey",
        SURVEY,
        TimedOut(),
        ("survey.reminder", ASKED),
        after=replace(
            SURVEY,
            data={"ans": {}, "hist": [], "rid": 5, "form": "sipas-1001", "reminded": True},
            remind_at=None,
        ),
    ),
    Row(
        "timed-out-lookup",
        LOOKUP,
        TimedOut(),
        (),
    ),
    # --- staff rooms ---
    Row(
        "stray-room",
        IDLE,
        Text("hi"),
        (("staff5.not_a_room", (("chat", "-100123"),)),),
        ack="close",
        facts=Facts(admin=True, room=True, stray_room="-100123"),
    ),
    Row(
        "room-non-admin",
        IDLE,
        Text("hi"),
        (),
        facts=Facts(room=True),
    ),
    Row(
        "room-admin-text",
        IDLE,
        Text("hi"),
        ("staff.room.help",),
        facts=ROOM,
    ),
    Row(
        "room-admin-command",
        IDLE,
        Command("trogiup"),
        ("staff.room.help",),
        facts=ROOM,
    ),
    Row(
        "room-case-button-ask",
        IDLE,
        Choice("case:PA-2026-000123:answer"),
        (("staff5.prompt_for", (("prompt", Lines((ask_note(CODE, "answer"),))), ("name", "Lan"))),),
        after=replace(
            IDLE, flow="staff", step="s.note", data={"case": "PA-2026-000123", "act": "answer"}
        ),
        ack="keep",
        facts=NAMED_ROOM,
    ),
    Row(
        "room-case-button-ask-unnamed",
        IDLE,
        Choice("case:PA-2026-000123:answer"),
        (ASKED,),
        after=replace(
            IDLE, flow="staff", step="s.note", data={"case": "PA-2026-000123", "act": "answer"}
        ),
        ack="keep",
        facts=ROOM,
    ),
    Row(
        "private-case-button-ask-named",
        IDLE,
        Choice("case:PA-2026-000123:answer"),
        (ASKED,),
        after=replace(
            IDLE, flow="staff", step="s.note", data={"case": "PA-2026-000123", "act": "answer"}
        ),
        ack="keep",
        facts=NAMED,
    ),
    Row(
        "private-case-button-ask",
        IDLE,
        Choice("case:PA-2026-000123:answer"),
        (ASKED,),
        after=replace(
            IDLE, flow="staff", step="s.note", data={"case": "PA-2026-000123", "act": "answer"}
        ),
        ack="keep",
        facts=ADMIN,
    ),
    Row(
        "citizen-case-button",
        IDLE,
        Choice("case:PA-2026-000123:take"),
        (("menu.welcome", (("agency", "Sở Thử Nghiệm"),)),),
        ack="close",
        facts=CITIZEN,
    ),
    Row(
        "citizen-case-button-no-facts",
        IDLE,
        Choice("case:PA-2026-000123:take"),
        (("menu.welcome", (("agency", "Sở Thử Nghiệm"),)),),
        ack="close",
    ),
    # --- commands ---
    Row(
        "command",
        IDLE,
        Command("trogiup"),
        ("help.text", ASKED),
    ),
    Row(
        "command-spelled-otherwise",
        IDLE,
        Command(" TroGiup "),
        ("help.text", ASKED),
    ),
    Row(
        "typed-code-read-as-text",
        LOOKUP,
        Command("start", arg="4821773015", typed="4821773015"),
        ("lookup.bad_code", ASKED),
    ),
    Row(
        "typed-code-at-rest",
        IDLE,
        Command("start", arg="4821773015", typed="4821773015"),
        ("receipt.unknown", ASKED),
        after=replace(IDLE, daily=IDLE.daily.plus_one(TODAY, WRONG_CODES)),
    ),
    # --- edits, cancel words, length, empty ---
    Row(
        "edited-not-read",
        COMPLAINT,
        Text("abc", message_id="9", edited=True),
        ("input.edit_not_read", ASKED),
    ),
    Row(
        "edited-at-rest",
        IDLE,
        Text("abc", message_id="9", edited=True),
        ("input.edit_not_read", ASKED),
    ),
    Row(
        "edited-taken",
        EDITED,
        Text("mô tả mới đủ dài rồi", message_id="9", edited=True),
        (("input.edit_taken", (("what", Ref(key="input.edit_what.text")),)), ASKED),
        after=replace(
            EDITED,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": "mô tả mới đủ dài rồi",
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {"text": "9"},
                "album": {},
            },
        ),
    ),
    Row(
        "cancel-word-complaint",
        COMPLAINT,
        Text("Hủy"),
        ("complaint.cancelled", ASKED),
        after=replace(COMPLAINT, flow=None, step=None, data={}),
    ),
    Row(
        "cancel-word-at-rest",
        IDLE,
        Text("cancel"),
        ("cancel.nothing", ASKED),
    ),
    Row(
        "cancel-word-lookup",
        LOOKUP,
        Text("  huy bo "),
        ("cancel.done", ASKED),
        after=replace(LOOKUP, flow=None, step=None),
    ),
    Row(
        "cancel-word-survey",
        SURVEY,
        Text("HUỶ"),
        ("cancel.survey", ASKED),
        after=replace(SURVEY, flow=None, step=None, data={}, expires_at=None, remind_at=None),
        changes=(EndResponse(response_id=5, status="abandoned", at=NOW, receipt_id=None),),
    ),
    Row(
        "too-long-at-rest",
        IDLE,
        Text("x" * 4097),
        (("common.too_long", (("got", 4097), ("max", 4096))), ASKED),
    ),
    Row(
        "too-long-cut",
        IDLE,
        Text("x" * 4097, length=5000),
        (("common.too_long", (("got", 5000), ("max", 4096))), ASKED),
    ),
    Row(
        "too-long-in-survey",
        SURVEY,
        Text("x" * 4097),
        (("common.too_long", (("got", 4097), ("max", 4096))), ASKED),
    ),
    Row(
        "too-long-supplement",
        SUPP,
        Text("x" * 4097),
        (("complaint.text_long", (("got", 4097), ("max", 2000))), ASKED),
        facts=ASKED_MORE,
    ),
    Row(
        "longest",
        IDLE,
        Text("x" * 4096),
        ("menu.unknown",),
    ),
    Row(
        "longest-after-cleaning",
        IDLE,
        Text("x" * 4096 + "   "),
        ("menu.unknown",),
    ),
    Row(
        "empty-at-rest",
        IDLE,
        Text(""),
        ("input.empty", ASKED),
    ),
    Row(
        "blank-complaint",
        COMPLAINT,
        Text(" \u200b "),
        ("input.empty", ASKED),
    ),
    Row(
        "empty-survey",
        SURVEY,
        Text(""),
        ("survey.invalid_option", ASKED),
        after=replace(SURVEY, remind_at=REMIND),
    ),
    Row(
        "empty-note",
        NOTE,
        Text(""),
        (ASKED,),
        facts=ADMIN,
    ),
    Row(
        "empty-lookup",
        LOOKUP,
        Text(""),
        ("input.empty", ASKED),
    ),
    # --- global buttons ---
    Row(
        "lang:en-idle",
        IDLE,
        Choice("lang:en"),
        ("language.set", ASKED),
        after=replace(IDLE, language="en"),
        changes=(SetLanguage(language="en"),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "lang:vi-idle",
        IDLE,
        Choice("lang:vi"),
        ("language.set", ASKED),
        changes=(SetLanguage(language="vi"),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "lang:fr-idle",
        IDLE,
        Choice("lang:fr"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "forget:yes-idle",
        IDLE,
        Choice("forget:yes"),
        ("forget.done", ASKED),
        changes=(ForgetContact(response_id=None, receipt_id=None),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "forget:no-idle",
        IDLE,
        Choice("forget:no"),
        ("forget.kept", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "forget:maybe-idle",
        IDLE,
        Choice("forget:maybe"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "later:yes-idle",
        IDLE,
        Choice("later:yes"),
        ("common.already_answered", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "later:no-idle",
        IDLE,
        Choice("later:no"),
        ("common.already_answered", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "later:x-idle",
        IDLE,
        Choice("later:x"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "switch:keep-idle",
        IDLE,
        Choice("switch:keep"),
        ("input.switch_kept", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "switch:drop-idle",
        IDLE,
        Choice("switch:drop"),
        ("input.switch_kept", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "switch:x-idle",
        IDLE,
        Choice("switch:x"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "menu:survey-idle",
        IDLE,
        Choice("menu:survey"),
        (ASKED,),
        after=replace(
            IDLE,
            flow="survey",
            step="consent",
            data={"ans": {}, "hist": [], "form": "sipas-1001"},
            expires_at=TTL,
        ),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:complaint-idle",
        IDLE,
        Choice("menu:complaint"),
        (ASKED,),
        after=replace(
            IDLE,
            flow="complaint",
            step="c.cat",
            data={
                "draft": 7,
                "cat": None,
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
            },
        ),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:lookup-idle",
        IDLE,
        Choice("menu:lookup"),
        (ASKED,),
        after=replace(IDLE, flow="lookup", step="l.code"),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:help-idle",
        IDLE,
        Choice("menu:help"),
        ("help.text", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:language-idle",
        IDLE,
        Choice("menu:language"),
        ("language.ask",),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:x-idle",
        IDLE,
        Choice("menu:x"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "rate:PA-2026-000123:5-idle",
        IDLE,
        Choice("rate:PA-2026-000123:5"),
        ("rating.thanks", ASKED),
        changes=(RateComplaint(code="PA-2026-000123", rating=5, at=NOW),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "rate:PA-2026-000123:9-idle",
        IDLE,
        Choice("rate:PA-2026-000123:9"),
        ("rating.not_now", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "rate:PA-2026-000999:5-idle",
        IDLE,
        Choice("rate:PA-2026-000999:5"),
        ("lookup.refused", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "supp:PA-2026-000123-idle",
        IDLE,
        Choice("supp:PA-2026-000123"),
        ("supplement.not_now", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dfol:Tok:yes-idle",
        IDLE,
        Choice("dfol:Tok:yes"),
        ("dossier.unknown", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dunf:42-idle",
        IDLE,
        Choice("dunf:42"),
        ("dossier.not_following_any", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dinv:42-idle",
        IDLE,
        Choice("dinv:42"),
        ("dossier.invite_unknown", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dinv:43-idle",
        IDLE,
        Choice("dinv:43"),
        ("dossier.invite_unknown", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "zzz:1-idle",
        IDLE,
        Choice("zzz:1"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "lang-idle",
        IDLE,
        Choice("lang"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "menu-idle",
        IDLE,
        Choice("menu"),
        ("menu.unknown",),
        facts=OWNER,
    ),
    Row(
        "lang:en-complaint",
        COMPLAINT,
        Choice("lang:en"),
        ("language.set", ASKED),
        after=replace(COMPLAINT, language="en"),
        changes=(SetLanguage(language="en"),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "lang:vi-complaint",
        COMPLAINT,
        Choice("lang:vi"),
        ("language.set", ASKED),
        changes=(SetLanguage(language="vi"),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "lang:fr-complaint",
        COMPLAINT,
        Choice("lang:fr"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "forget:yes-complaint",
        COMPLAINT,
        Choice("forget:yes"),
        ("forget.done", ASKED),
        after=replace(COMPLAINT, flow=None, step=None, data={}),
        changes=(ForgetContact(response_id=None, receipt_id=None),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "forget:no-complaint",
        COMPLAINT,
        Choice("forget:no"),
        ("forget.kept", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "forget:maybe-complaint",
        COMPLAINT,
        Choice("forget:maybe"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "later:yes-complaint",
        COMPLAINT,
        Choice("later:yes"),
        ("common.already_answered", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "later:no-complaint",
        COMPLAINT,
        Choice("later:no"),
        ("common.already_answered", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "later:x-complaint",
        COMPLAINT,
        Choice("later:x"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "switch:keep-complaint",
        COMPLAINT,
        Choice("switch:keep"),
        ("input.switch_kept", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "switch:drop-complaint",
        COMPLAINT,
        Choice("switch:drop"),
        ("input.switch_kept", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "switch:x-complaint",
        COMPLAINT,
        Choice("switch:x"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "menu:survey-complaint",
        COMPLAINT,
        Choice("menu:survey"),
        (
            (
                "input.switch_ask",
                (
                    ("task", Ref(key="input.task.complaint")),
                    ("new", Ref(key="input.task.survey")),
                    ("if_dropped", Ref(key="input.switch_lost.other")),
                ),
            ),
        ),
        after=replace(
            COMPLAINT,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
                "switch_to": {"name": "khaosat", "arg": ""},
            },
        ),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:complaint-complaint",
        COMPLAINT,
        Choice("menu:complaint"),
        (("input.busy", (("task", Ref(key="input.task.complaint")),)), ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:lookup-complaint",
        COMPLAINT,
        Choice("menu:lookup"),
        (
            (
                "input.switch_ask",
                (
                    ("task", Ref(key="input.task.complaint")),
                    ("new", Ref(key="input.task.lookup")),
                    ("if_dropped", Ref(key="input.switch_lost.other")),
                ),
            ),
        ),
        after=replace(
            COMPLAINT,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
                "switch_to": {"name": "tracuu", "arg": ""},
            },
        ),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:help-complaint",
        COMPLAINT,
        Choice("menu:help"),
        ("help.text", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:language-complaint",
        COMPLAINT,
        Choice("menu:language"),
        ("language.ask",),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "menu:x-complaint",
        COMPLAINT,
        Choice("menu:x"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "rate:PA-2026-000123:5-complaint",
        COMPLAINT,
        Choice("rate:PA-2026-000123:5"),
        ("rating.thanks", ASKED),
        changes=(RateComplaint(code="PA-2026-000123", rating=5, at=NOW),),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "rate:PA-2026-000123:9-complaint",
        COMPLAINT,
        Choice("rate:PA-2026-000123:9"),
        ("rating.not_now", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "rate:PA-2026-000999:5-complaint",
        COMPLAINT,
        Choice("rate:PA-2026-000999:5"),
        ("lookup.refused", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "supp:PA-2026-000123-complaint",
        COMPLAINT,
        Choice("supp:PA-2026-000123"),
        (("input.busy", (("task", Ref(key="input.task.complaint")),)), ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dfol:Tok:yes-complaint",
        COMPLAINT,
        Choice("dfol:Tok:yes"),
        ("dossier.unknown", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dunf:42-complaint",
        COMPLAINT,
        Choice("dunf:42"),
        ("dossier.not_following_any", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dinv:42-complaint",
        COMPLAINT,
        Choice("dinv:42"),
        ("dossier.invite_unknown", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "dinv:43-complaint",
        COMPLAINT,
        Choice("dinv:43"),
        ("dossier.invite_unknown", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "zzz:1-complaint",
        COMPLAINT,
        Choice("zzz:1"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "lang-complaint",
        COMPLAINT,
        Choice("lang"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "menu-complaint",
        COMPLAINT,
        Choice("menu"),
        ("common.stale_choice", ASKED),
        facts=OWNER,
    ),
    Row(
        "forget-yes-survey",
        SURVEY,
        Choice("forget:yes"),
        ("forget.done", ASKED),
        after=replace(SURVEY, flow=None, step=None, data={}, expires_at=None, remind_at=None),
        changes=(ForgetContact(response_id=5, receipt_id=None),),
        ack="close",
    ),
    Row(
        "later-yes",
        OFFERED,
        Choice("later:yes"),
        (ASKED,),
        after=replace(OFFERED, flow="lookup", step="l.code", data={}),
        ack="close",
    ),
    Row(
        "later-no",
        OFFERED,
        Choice("later:no"),
        (("input7.later_dropped", (("command", "/tracuu"),)), ASKED),
        after=replace(OFFERED, data={}),
        ack="close",
    ),
    Row(
        "switch-keep",
        PENDING,
        Choice("switch:keep"),
        (("input7.kept_for_later", (("new", Ref(key="input.task.survey")),)), ASKED),
        after=replace(
            PENDING,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
                "later": {"name": "khaosat", "arg": ""},
            },
        ),
        ack="close",
    ),
    Row(
        "switch-drop",
        PENDING,
        Choice("switch:drop"),
        ("complaint.cancelled", ASKED),
        after=replace(
            PENDING,
            flow="survey",
            step="consent",
            data={"ans": {}, "hist": [], "form": "sipas-1001"},
            expires_at=TTL,
        ),
        ack="close",
    ),
    Row(
        "supp-at-rest",
        IDLE,
        Choice("supp:PA-2026-000123"),
        (ASKED,),
        after=replace(
            IDLE, flow="supplement", step="sup.text", data={"case": "PA-2026-000123", "files": []}
        ),
        ack="close",
        facts=ASKED_MORE,
    ),
    Row(
        "supp-mid-survey",
        SURVEY,
        Choice("supp:PA-2026-000123"),
        (("input.busy", (("task", Ref(key="input.task.survey")),)), ASKED),
        ack="close",
        facts=ASKED_MORE,
    ),
    Row(
        "dfol-yes",
        IDLE,
        Choice("dfol:Tok:yes"),
        (
            ("dossier.followed", (("code", "HS-2026-0042"),)),
            (
                "dossier.card",
                (
                    ("code", "HS-2026-0042"),
                    ("procedure", "1.009972"),
                    ("received", "02/11/2026"),
                    (
                        "due",
                        Lines(
                            items=(
                                Reply(
                                    key="dossier.due",
                                    params=(("due", "02/12/2026"),),
                                    choices=(),
                                    placeholder=None,
                                ),
                            )
                        ),
                    ),
                    ("status", Ref(key="dossier.status.received")),
                ),
            ),
            ASKED,
        ),
        changes=(
            RecordConsent(
                purpose="dossier", given=True, at=NOW, wording="dossier/b3dfe78df7a14cdb"
            ),
            FollowDossier(dossier_id=42, at=NOW),
        ),
        ack="close",
        facts=LINKED,
    ),
    Row(
        "dfol-no",
        IDLE,
        Choice("dfol:Tok:no"),
        ("dossier.not_followed", ASKED),
        changes=(
            RecordConsent(
                purpose="dossier", given=False, at=NOW, wording="dossier/b3dfe78df7a14cdb"
            ),
        ),
        ack="close",
        facts=LINKED,
    ),
    Row(
        "dfol-yes-mid-complaint",
        COMPLAINT,
        Choice("dfol:Tok:yes"),
        (
            ("dossier.followed", (("code", "HS-2026-0042"),)),
            (
                "dossier.card",
                (
                    ("code", "HS-2026-0042"),
                    ("procedure", "1.009972"),
                    ("received", "02/11/2026"),
                    (
                        "due",
                        Lines(
                            items=(
                                Reply(
                                    key="dossier.due",
                                    params=(("due", "02/12/2026"),),
                                    choices=(),
                                    placeholder=None,
                                ),
                            )
                        ),
                    ),
                    ("status", Ref(key="dossier.status.received")),
                ),
            ),
            ASKED,
        ),
        changes=(
            RecordConsent(
                purpose="dossier", given=True, at=NOW, wording="dossier/b3dfe78df7a14cdb"
            ),
            FollowDossier(dossier_id=42, at=NOW),
        ),
        ack="close",
        facts=LINKED,
    ),
    Row(
        "dunf",
        IDLE,
        Choice("dunf:42"),
        (("dossier.unfollowed", (("code", "HS-2026-0042"),)), ASKED),
        changes=(UnfollowDossier(dossier_id=42),),
        ack="close",
        facts=INVITED,
    ),
    Row(
        "dunf-mid-complaint",
        COMPLAINT,
        Choice("dunf:42"),
        (("dossier.unfollowed", (("code", "HS-2026-0042"),)), ASKED),
        changes=(UnfollowDossier(dossier_id=42),),
        ack="close",
        facts=INVITED,
    ),
    Row(
        "dinv",
        IDLE,
        Choice("dinv:42"),
        (ASKED,),
        after=replace(
            IDLE,
            flow="survey",
            step="consent",
            data={
                "ans": {},
                "hist": [],
                "proc": "1.009972",
                "dossier": 42,
                "month": "2026-11",
                "form": "sipas-1001",
            },
            expires_at=TTL,
        ),
        ack="close",
        facts=INVITED,
    ),
    Row(
        "dinv-mid-complaint",
        COMPLAINT,
        Choice("dinv:42"),
        (("input.busy", (("task", Ref(key="input.task.complaint")),)), ASKED),
        ack="close",
        facts=INVITED,
    ),
    Row(
        "dinv-closed",
        IDLE,
        Choice("dinv:42"),
        (("dossier.invite_closed", (("code", "HS-2026-0042"),)), ASKED),
        ack="close",
        facts=Facts(dossiers={42: replace(DOSSIER, invite="ended")}),
    ),
    Row(
        "dinv-closed-mid-complaint",
        COMPLAINT,
        Choice("dinv:42"),
        (("dossier.invite_closed", (("code", "HS-2026-0042"),)), ASKED),
        ack="close",
        facts=Facts(dossiers={42: replace(DOSSIER, invite="ended")}),
    ),
    # --- double taps, survey ends ---
    Row(
        "double-tap",
        TAPPED,
        Choice("consent:yes"),
        ("common.already_answered",),
    ),
    Row(
        "tap-other",
        TAPPED,
        Choice("channel:inperson"),
        (ASKED,),
        after=replace(
            TAPPED,
            step="info",
            data={
                "ans": {"channel": "inperson"},
                "hist": ["channel"],
                "rid": 5,
                "form": "sipas-1001",
                "last_choice": "channel:inperson",
            },
            remind_at=REMIND,
        ),
        changes=(SaveAnswer(response_id=5, item="channel", value="inperson"),),
        ack="close",
    ),
    Row(
        "submit-at-rest",
        IDLE,
        Choice("summary:submit"),
        ("survey.none_to_submit",),
    ),
    Row(
        "consent-no-at-rest",
        IDLE,
        Choice("consent:no"),
        ("common.already_answered",),
    ),
    Row(
        "consent-yes-at-rest",
        IDLE,
        Choice("consent:yes"),
        ("menu.unknown",),
    ),
    Row(
        "submit-mid-complaint",
        COMPLAINT,
        Choice("summary:submit"),
        ("common.stale_choice", ASKED),
    ),
    Row(
        "survey-choice",
        SURVEY,
        Choice("channel:inperson"),
        (ASKED,),
        after=replace(
            SURVEY,
            step="info",
            data={
                "ans": {"channel": "inperson"},
                "hist": ["channel"],
                "rid": 5,
                "form": "sipas-1001",
                "last_choice": "channel:inperson",
            },
            remind_at=REMIND,
        ),
        changes=(SaveAnswer(response_id=5, item="channel", value="inperson"),),
        ack="close",
    ),
    Row(
        "survey-consent-yes",
        CONSENT,
        Choice("consent:yes"),
        (ASKED,),
        after=replace(
            CONSENT,
            step="channel",
            data={
                "ans": {},
                "hist": [],
                "rid": 7,
                "form": "sipas-1001",
                "last_choice": "consent:yes",
            },
            remind_at=REMIND,
        ),
        changes=(
            RecordConsent(
                purpose="survey", given=True, at=NOW, wording="sipas-1001/da29061998d83d93"
            ),
            StartResponse(
                response_id=7,
                questionnaire="sipas-1001",
                started_at=NOW,
                receipt_id=None,
                procedure=None,
                field=None,
                handed_over_month=None,
            ),
        ),
        ack="close",
    ),
    Row(
        "survey-consent-no",
        CONSENT,
        Choice("consent:no"),
        ("survey.declined", ASKED),
        after=replace(CONSENT, flow=None, step=None, data={}, expires_at=None),
        changes=(
            RecordConsent(
                purpose="survey", given=False, at=NOW, wording="sipas-1001/da29061998d83d93"
            ),
        ),
        ack="close",
    ),
    Row(
        "survey-cancel-button",
        SURVEY,
        Choice("channel:cancel"),
        ("survey.invalid_option", ASKED),
        after=replace(SURVEY, remind_at=REMIND),
    ),
    Row(
        "complaint-choice",
        AT_CAT,
        Choice("c.cat:khac"),
        (ASKED,),
        after=replace(
            AT_CAT,
            step="c.text",
            data={
                "draft": 3,
                "cat": "khac",
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
                "last_choice": "c.cat:khac",
            },
        ),
        ack="close",
    ),
    Row(
        "complaint-cancel",
        AT_CAT,
        Choice("c.cat:cancel"),
        ("complaint.cancelled", ASKED),
        after=replace(AT_CAT, flow=None, step=None, data={}),
    ),
    Row(
        "lookup-cancel",
        LOOKUP,
        Choice("l.code:cancel"),
        ("cancel.done", ASKED),
        after=replace(LOOKUP, flow=None, step=None, data={"last_choice": "l.code:cancel"}),
        ack="close",
    ),
    Row(
        "supp-cancel",
        SUPP,
        Choice("sup.text:cancel"),
        ("cancel.done", ASKED),
        after=replace(SUPP, flow=None, step=None, data={"last_choice": "sup.text:cancel"}),
        ack="close",
        facts=ASKED_MORE,
    ),
    Row(
        "note-cancel",
        NOTE,
        Choice("s.note:cancel"),
        ("cancel.done",),
        after=replace(NOTE, flow=None, step=None, data={"last_choice": "s.note:cancel"}),
        ack="close",
        facts=ADMIN,
    ),
    Row(
        "note-cancel-citizen",
        NOTE,
        Choice("s.note:cancel"),
        ("menu.unknown",),
        after=replace(NOTE, flow=None, step=None, data={}),
        facts=CITIZEN,
    ),
    Row(
        "note-citizen-text",
        NOTE,
        Text("trả lời"),
        ("menu.unknown",),
        after=replace(NOTE, flow=None, step=None, data={}),
        facts=CITIZEN,
    ),
    # --- switch question pending ---
    Row(
        "pending-typed-keep",
        PENDING,
        Text("Tiếp tục"),
        (("input7.kept_for_later", (("new", Ref(key="input.task.survey")),)), ASKED),
        after=replace(
            PENDING,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
                "later": {"name": "khaosat", "arg": ""},
            },
        ),
    ),
    Row(
        "pending-typed-number",
        PENDING,
        Text("2"),
        ("complaint.cancelled", ASKED),
        after=replace(
            PENDING,
            flow="survey",
            step="consent",
            data={"ans": {}, "hist": [], "form": "sipas-1001"},
            expires_at=TTL,
        ),
        ack="close",
    ),
    Row(
        "pending-typed-other",
        PENDING,
        Text("xin chào"),
        (
            "input.switch_unclear",
            (
                "input.switch_ask",
                (
                    ("task", Ref(key="input.task.complaint")),
                    ("new", Ref(key="input.task.survey")),
                    ("if_dropped", Ref(key="input.switch_lost.other")),
                ),
            ),
        ),
    ),
    Row(
        "pending-photo",
        PENDING,
        Attachment(media="photo", size=10, file_id="f1", mime="image/jpeg"),
        (
            "input.switch_unclear",
            (
                "input.switch_ask",
                (
                    ("task", Ref(key="input.task.complaint")),
                    ("new", Ref(key="input.task.survey")),
                    ("if_dropped", Ref(key="input.switch_lost.other")),
                ),
            ),
        ),
    ),
    Row(
        "pending-command",
        PENDING,
        Command("trogiup"),
        ("help.text", ASKED),
    ),
    Row(
        "pending-choice-flow",
        PENDING,
        Choice("c.text:back"),
        (ASKED,),
        after=replace(
            PENDING,
            step="c.cat",
            data={
                "draft": 3,
                "cat": "capphep",
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
                "last_choice": "c.text:back",
            },
        ),
        ack="close",
    ),
    # --- an officer's typed option ---
    Row(
        "admin-typed-release",
        SHOWN,
        Text("2"),
        (("staff.not_assigned", (("code", "PA-2026-000123"),)),),
        facts=ADMIN,
    ),
    Row(
        "admin-typed-no-card",
        IDLE,
        Text("1"),
        ("staff5.typed_no_card",),
        facts=ADMIN,
    ),
    Row(
        "admin-typed-4digits",
        IDLE,
        Text("1234"),
        ("menu.unknown",),
        facts=ADMIN,
    ),
    Row(
        "citizen-typed-number-shown",
        SHOWN,
        Text("1"),
        (ASKED,),
        after=replace(
            SHOWN,
            flow="survey",
            step="consent",
            data={"ans": {}, "hist": [], "form": "sipas-1001"},
            expires_at=TTL,
        ),
    ),
    Row(
        "admin-typed-in-room",
        SHOWN,
        Text("1"),
        ("staff.room.help",),
        facts=ROOM,
    ),
    Row(
        "admin-typed-mid-lookup",
        LOOKUP,
        Text("1"),
        ("lookup.bad_code", ASKED),
        facts=ADMIN,
    ),
    # --- a re-sent rating request ---
    Row(
        "rate-too-digit",
        RATE_TOO,
        Text("5"),
        ("rating.thanks", ASKED),
        after=replace(RATE_TOO, data={"ans": {}, "hist": [], "form": "sipas-1001"}),
        changes=(RateComplaint(code="PA-2026-000123", rating=5, at=NOW),),
        facts=OWNER,
    ),
    Row(
        "rate-too-label",
        RATE_TOO,
        Text("Rất hài lòng"),
        ("rating.thanks", ASKED),
        after=replace(RATE_TOO, data={"ans": {}, "hist": [], "form": "sipas-1001"}),
        changes=(RateComplaint(code="PA-2026-000123", rating=5, at=NOW),),
        facts=OWNER,
    ),
    Row(
        "rate-too-consent",
        RATE_TOO,
        Text("Đồng ý"),
        (ASKED,),
        after=replace(
            RATE_TOO,
            step="channel",
            data={
                "ans": {},
                "hist": [],
                "rid": 7,
                "form": "sipas-1001",
                "last_choice": "consent:yes",
            },
            remind_at=REMIND,
        ),
        changes=(
            RecordConsent(
                purpose="survey", given=True, at=NOW, wording="sipas-1001/da29061998d83d93"
            ),
            StartResponse(
                response_id=7,
                questionnaire="sipas-1001",
                started_at=NOW,
                receipt_id=None,
                procedure=None,
                field=None,
                handed_over_month=None,
            ),
        ),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "rate-too-digit-unknown",
        RATE_TOO,
        Text("4"),
        ("lookup.refused", ASKED),
        after=replace(RATE_TOO, data={"ans": {}, "hist": [], "form": "sipas-1001"}),
    ),
    Row(
        "resent-digit",
        RESENT,
        Text("5"),
        ("rating.thanks", ASKED),
        after=replace(RESENT, data={}),
        changes=(RateComplaint(code="PA-2026-000123", rating=5, at=NOW),),
        facts=OWNER,
    ),
    Row(
        "resent-other",
        RESENT,
        Text("xin chào"),
        (("zalo7.resent_rate", (("code", "PA-2026-000123"),)),),
        after=replace(RESENT, data={"asked": "rate:PA-2026-000123"}),
        facts=OWNER,
    ),
    Row(
        "live-other",
        LIVE,
        Text("xin chào"),
        ("zalo7.unclear", ASKED),
        facts=OWNER,
    ),
    Row(
        "resent-code",
        RESENT,
        Command("khaosat"),
        (ASKED,),
        after=replace(
            RESENT,
            flow="survey",
            step="consent",
            data={"ans": {}, "hist": [], "form": "sipas-1001", "rate_too": "PA-2026-000123"},
            expires_at=TTL,
        ),
        facts=OWNER,
    ),
    # --- typed options ---
    Row(
        "typed-menu-number",
        IDLE,
        Text("1"),
        (ASKED,),
        after=replace(
            IDLE,
            flow="survey",
            step="consent",
            data={"ans": {}, "hist": [], "form": "sipas-1001"},
            expires_at=TTL,
        ),
    ),
    Row(
        "typed-menu-label",
        IDLE,
        Text("tra cuu"),
        (ASKED,),
        after=replace(IDLE, flow="lookup", step="l.code"),
    ),
    Row(
        "typed-menu-word",
        IDLE,
        Text("khiếu nại"),
        (ASKED,),
        after=replace(
            IDLE,
            flow="complaint",
            step="c.cat",
            data={
                "draft": 7,
                "cat": None,
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
            },
        ),
    ),
    # "phản ánh" is part of two of the menu's labels; at rest it is a word the menu knows
    # (a complaint), not a choice to ask which of the two was meant (that is mid-task only).
    Row(
        "typed-words-of-two-menu-labels-at-rest",
        IDLE,
        Text("phản ánh"),
        (ASKED,),
        after=replace(
            IDLE,
            flow="complaint",
            step="c.cat",
            data={
                "draft": 7,
                "cat": None,
                "text": None,
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
            },
        ),
    ),
    Row(
        "typed-option-survey",
        SURVEY,
        Text("1"),
        (ASKED,),
        after=replace(
            SURVEY,
            step="info",
            data={
                "ans": {"channel": "inperson"},
                "hist": ["channel"],
                "rid": 5,
                "form": "sipas-1001",
                "last_choice": "channel:inperson",
            },
            remind_at=REMIND,
        ),
        changes=(SaveAnswer(response_id=5, item="channel", value="inperson"),),
        ack="close",
    ),
    Row(
        "typed-ambiguous",
        SURVEY,
        Text("Trực tuyến"),
        (
            (
                "input4.ambiguous",
                (
                    ("typed", "Trực tuyến"),
                    (
                        "choices",
                        Lines(
                            items=(
                                Reply(
                                    key="sipas-1001/q.channel.online_partial",
                                    params=(),
                                    choices=(),
                                    placeholder=None,
                                ),
                                Reply(
                                    key="sipas-1001/q.channel.online_full",
                                    params=(),
                                    choices=(),
                                    placeholder=None,
                                ),
                            )
                        ),
                    ),
                ),
            ),
            ASKED,
        ),
    ),
    Row(
        "typed-ambiguous-at-rest",
        IDLE,
        Text("Trực tuyến"),
        ("menu.unknown",),
    ),
    Row(
        "typed-later-yes",
        OFFERED,
        Text("có"),
        (ASKED,),
        after=replace(OFFERED, flow="lookup", step="l.code", data={}),
    ),
    Row(
        "typed-code-at-rest-2",
        IDLE,
        Text("mã PA 2026 000123"),
        (
            (
                "lookup.card",
                (
                    ("code", "PA-2026-000123"),
                    ("category", Ref(key="category.khac")),
                    ("status", Ref(key="status.resolved")),
                    (
                        "due",
                        Lines(
                            items=(
                                Reply(
                                    key="case.due",
                                    params=(("due", "10/12/2026"),),
                                    choices=(),
                                    placeholder=None,
                                ),
                            )
                        ),
                    ),
                    ("part", Lines(items=())),
                    ("notes", Lines(items=())),
                ),
            ),
            ASKED,
        ),
        facts=OWNER,
    ),
    Row(
        "typed-nothing",
        IDLE,
        Text("xin chào"),
        ("menu.unknown",),
    ),
    Row(
        "typed-complaint-text",
        COMPLAINT,
        Text("Đường bị hỏng nặng ở phường"),
        (ASKED,),
        after=replace(
            COMPLAINT,
            step="c.files",
            data={
                "draft": 3,
                "cat": "capphep",
                "text": "Đường bị hỏng nặng ở phường",
                "files": [],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
            },
        ),
        ack="close",
    ),
    Row(
        "typed-lookup-code",
        LOOKUP,
        Text("PA-2026-000123"),
        (
            (
                "lookup.card",
                (
                    ("code", "PA-2026-000123"),
                    ("category", Ref(key="category.khac")),
                    ("status", Ref(key="status.resolved")),
                    (
                        "due",
                        Lines(
                            items=(
                                Reply(
                                    key="case.due",
                                    params=(("due", "10/12/2026"),),
                                    choices=(),
                                    placeholder=None,
                                ),
                            )
                        ),
                    ),
                    ("part", Lines(items=())),
                    ("notes", Lines(items=())),
                ),
            ),
            ASKED,
        ),
        after=replace(LOOKUP, flow=None, step=None),
        facts=OWNER,
    ),
    Row(
        "typed-supp-done",
        SUPP,
        Text("xong"),
        ("supplement.empty", ASKED),
        facts=ASKED_MORE,
    ),
    Row(
        "stale-prompt-idle-admin",
        IDLE,
        Text("ok", reply_to="Trả lời PA-2026-000123"),
        (("staff.prompt_stale_idle", (("named", "PA-2026-000123"),)),),
        facts=ADMIN,
    ),
    Row(
        "stale-prompt-idle-citizen",
        IDLE,
        Text("ok", reply_to="Trả lời PA-2026-000123"),
        ("menu.unknown",),
    ),
    Row(
        "dinv-in-its-survey",
        ITS_SURVEY,
        Choice("dinv:42"),
        ("survey.resume", ASKED),
        ack="close",
        facts=INVITED,
    ),
    Row(
        "submit-in-survey",
        SUMMARY,
        Choice("summary:submit"),
        (("survey.thanks", (("agency", "Sở Thử Nghiệm"),)), ASKED),
        after=replace(SUMMARY, flow=None, step=None, data={}, expires_at=None, remind_at=None),
        changes=(
            EndResponse(response_id=5, status="completed", at=NOW, receipt_id=None),
            MarkSurveyed(period="2026-11", unasked=True),
        ),
        ack="close",
        closed=Reply(key="survey.summary.sent", params=(), choices=(), placeholder=None),
    ),
    # --- files, stickers, captions ---
    Row(
        "photo-at-rest",
        IDLE,
        Attachment(media="photo"),
        ("menu.unknown",),
    ),
    Row(
        "sticker-at-rest",
        IDLE,
        Attachment(media="other", what="sticker"),
        (("input.stray", (("what", Ref(key="input.what.sticker")),)), ASKED),
    ),
    Row(
        "other-nowhat-at-rest",
        IDLE,
        Attachment(media="other"),
        (("input.stray", (("what", Ref(key="input.what.other")),)), ASKED),
    ),
    Row(
        "sticker-at-files",
        FILES,
        Attachment(media="other", what="sticker"),
        (("input.stray_at_files", (("what", Ref(key="input.what.sticker")),)), ASKED),
    ),
    Row(
        "unknown-file-at-files",
        FILES,
        Attachment(media="other"),
        ("complaint.file_type", ASKED),
    ),
    Row(
        "sticker-at-text",
        COMPLAINT,
        Attachment(media="other", what="location"),
        (("input.stray", (("what", Ref(key="input.what.location")),)), ASKED),
    ),
    Row(
        "photo-at-text",
        COMPLAINT,
        Attachment(media="photo", size=10, file_id="f1", mime="image/jpeg"),
        ("complaint.file_not_now", ASKED),
    ),
    Row(
        "photo-caption-at-text",
        COMPLAINT,
        Attachment(
            media="photo",
            size=10,
            file_id="f1",
            mime="image/jpeg",
            caption="mô tả dài hơn mười ký tự",
        ),
        ("input.caption_taken", ("complaint.file_received", (("n", 1), ("max", 5))), ASKED),
        after=replace(
            COMPLAINT,
            step="c.files",
            data={
                "draft": 3,
                "cat": "capphep",
                "text": "mô tả dài hơn mười ký tự",
                "files": [
                    {
                        "media": "photo",
                        "size": 10,
                        "file_id": "f1",
                        "name": "",
                        "mime": "image/jpeg",
                        "note": "",
                    }
                ],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
            },
        ),
        ack="close",
    ),
    Row(
        "photo-caption-at-rest",
        IDLE,
        Attachment(media="photo", size=10, file_id="f1", caption="tra cứu"),
        ("input.file_not_kept", ASKED),
        after=replace(IDLE, flow="lookup", step="l.code"),
    ),
    Row(
        "photo-caption-in-survey",
        SURVEY,
        Attachment(media="photo", size=10, file_id="f1", caption="Trực tiếp"),
        ("input.file_not_kept", ASKED),
        after=replace(
            SURVEY,
            step="info",
            data={
                "ans": {"channel": "inperson"},
                "hist": ["channel"],
                "rid": 5,
                "form": "sipas-1001",
                "last_choice": "channel:inperson",
            },
            remind_at=REMIND,
        ),
        changes=(SaveAnswer(response_id=5, item="channel", value="inperson"),),
        ack="close",
    ),
    Row(
        "photo-in-survey",
        SURVEY,
        Attachment(media="photo", size=10, file_id="f1"),
        ("common.no_files", ASKED),
        after=replace(SURVEY, remind_at=REMIND),
    ),
    Row(
        "photo-at-files",
        FILES,
        Attachment(media="photo", size=10, file_id="f1", mime="image/jpeg"),
        (("complaint.file_received", (("n", 1), ("max", 5))), ASKED),
        after=replace(
            FILES,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": "xxxxxxxxxxxxxxxxxxxx",
                "files": [
                    {
                        "media": "photo",
                        "size": 10,
                        "file_id": "f1",
                        "name": "",
                        "mime": "image/jpeg",
                        "note": "",
                    }
                ],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
            },
        ),
    ),
    Row(
        "photo-caption-at-files",
        FILES,
        Attachment(media="photo", size=10, file_id="f1", mime="image/jpeg", caption="ghi chú"),
        (("complaint.file_received", (("n", 1), ("max", 5))), ASKED),
        after=replace(
            FILES,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": "xxxxxxxxxxxxxxxxxxxx",
                "files": [
                    {
                        "media": "photo",
                        "size": 10,
                        "file_id": "f1",
                        "name": "",
                        "mime": "image/jpeg",
                        "note": "ghi chú",
                    }
                ],
                "anon": None,
                "name": None,
                "phone": None,
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {},
                "album": {},
            },
        ),
    ),
    Row(
        "photo-supplement",
        SUPP,
        Attachment(media="photo", size=10, file_id="f1", mime="image/jpeg"),
        (ASKED,),
        after=replace(
            SUPP,
            data={
                "case": "PA-2026-000123",
                "files": [
                    {
                        "media": "photo",
                        "size": 10,
                        "file_id": "f1",
                        "name": "",
                        "mime": "image/jpeg",
                        "note": "",
                    }
                ],
            },
        ),
        facts=ASKED_MORE,
    ),
    Row(
        "photo-caption-supplement",
        SUPP,
        Attachment(media="photo", size=10, file_id="f1", mime="image/jpeg", caption="tra cứu"),
        (ASKED,),
        after=replace(
            SUPP,
            data={
                "case": "PA-2026-000123",
                "files": [
                    {
                        "media": "photo",
                        "size": 10,
                        "file_id": "f1",
                        "name": "",
                        "mime": "image/jpeg",
                        "note": "tra cứu",  # kept with the file, not lost
                    }
                ],
            },
        ),
        facts=ASKED_MORE,
    ),
    Row(
        "sticker-supplement",
        SUPP,
        Attachment(media="other", what="sticker"),
        ("complaint.file_type", ASKED),
        facts=ASKED_MORE,
    ),
    Row(
        "photo-caption-at-category",
        AT_CAT,
        Attachment(media="photo", size=10, file_id="f1", caption="xyz"),
        ("input.file_not_kept", "common.please_choose", ASKED),
    ),
    Row(
        "photo-at-category",
        AT_CAT,
        Attachment(media="photo", size=10, file_id="f1"),
        ("complaint.file_not_now", ASKED),
    ),
    Row(
        "document-caption-at-who",
        AT_WHO,
        Attachment(media="document", size=10, file_id="f1", caption="xyz"),
        ("input.file_not_kept", "common.please_choose", ASKED),
    ),
    Row(
        "location-caption-at-rest",
        IDLE,
        Attachment(media="other", caption="tra cứu", what="location"),
        (("input.stray", (("what", Ref(key="input.what.location")),)), ASKED),
    ),
    Row(
        "unknown-file-caption-at-files",
        FILES,
        Attachment(media="other", caption="ghi chú"),
        ("complaint.file_type", ASKED),
    ),
    Row(
        "unknown-file-caption-at-text",
        COMPLAINT,
        Attachment(media="other", caption="mô tả dài hơn mười ký tự"),
        (("input.stray", (("what", Ref(key="input.what.other")),)), ASKED),
    ),
    Row(
        "unknown-file-at-text",
        COMPLAINT,
        Attachment(media="other"),
        (("input.stray", (("what", Ref(key="input.what.other")),)), ASKED),
    ),
    Row(
        "photo-caption-at-rest-admin",
        SHOWN,
        Attachment(media="photo", size=10, file_id="f1", caption="2"),
        ("input.file_not_kept", ("staff.not_assigned", (("code", "PA-2026-000123"),))),
        facts=ADMIN,
    ),
    Row(
        "photo-note",
        NOTE,
        Attachment(media="photo", size=10, file_id="f1"),
        (ASKED,),
        facts=ADMIN,
    ),
    # --- the engine's own words mid-task ---
    Row(
        "rate-bad-mid-lookup",
        LOOKUP,
        Choice("rate:PA-2026-000123:9"),
        ("rating.not_now", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "rate-code-colon",
        IDLE,
        Choice("rate:PA-2026-000123:x:5"),
        ("lookup.refused", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "case-colon-code",
        IDLE,
        Choice("case:PA-2026-000123:x:view"),
        (("staff.unknown_case", (("code", "PA-2026-000123:x"),)),),
        ack="close",
        facts=ADMIN,
    ),
    Row(
        "switch-typed-drop-colon",
        PENDING,
        Text("Bỏ, làm việc mới"),
        (
            "input.switch_unclear",
            (
                "input.switch_ask",
                (
                    ("task", Ref(key="input.task.complaint")),
                    ("new", Ref(key="input.task.survey")),
                    ("if_dropped", Ref(key="input.switch_lost.other")),
                ),
            ),
        ),
    ),
    # --- the question asked again where it names the agency (it needs the environment) ---
    Row(
        "edited-at-zns",
        AT_ZNS,
        Text("abc", message_id="9", edited=True),
        ("input.edit_not_read", ASKED),
    ),
    Row(
        "too-long-at-zns",
        AT_ZNS,
        Text("x" * 4097),
        (("common.too_long", (("got", 4097), ("max", 4096))), ASKED),
    ),
    Row(
        "blank-at-zns",
        AT_ZNS,
        Text("\u200b"),
        ("input.empty", ASKED),
    ),
    Row(
        "sticker-at-zns",
        AT_ZNS,
        Attachment(media="other", what="sticker"),
        (("input.stray", (("what", Ref(key="input.what.sticker")),)), ASKED),
    ),
    Row(
        "rate-unknown-at-zns",
        AT_ZNS,
        Choice("rate:PA-2026-000999:5"),
        ("lookup.refused", ASKED),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "case-citizen-at-zns",
        AT_ZNS,
        Choice("case:PA-2026-000123:take"),
        ("common.stale_choice", ASKED),
        ack="close",
        facts=CITIZEN,
    ),
    Row(
        "lang-at-zns",
        AT_ZNS,
        Choice("lang:en"),
        ("language.set", ASKED),
        after=replace(AT_ZNS, language="en"),
        changes=(SetLanguage(language="en"),),
        ack="close",
    ),
    Row(
        "supp-at-zns",
        AT_ZNS,
        Choice("supp:PA-2026-000123"),
        (("input.busy", (("task", Ref(key="input.task.complaint")),)), ASKED),
        ack="close",
        facts=ASKED_MORE,
    ),
    Row(
        "dinv-at-zns",
        AT_ZNS,
        Choice("dinv:42"),
        (("input.busy", (("task", Ref(key="input.task.complaint")),)), ASKED),
        ack="close",
        facts=INVITED,
    ),
    Row(
        "dinv-closed-at-zns",
        AT_ZNS,
        Choice("dinv:42"),
        (("dossier.invite_closed", (("code", "HS-2026-0042"),)), ASKED),
        ack="close",
        facts=Facts(dossiers={42: replace(DOSSIER, invite="ended")}),
    ),
    Row(
        "dfol-at-zns",
        AT_ZNS,
        Choice("dfol:Tok:no"),
        ("dossier.not_followed", ASKED),
        changes=(
            RecordConsent(
                purpose="dossier", given=False, at=NOW, wording="dossier/b3dfe78df7a14cdb"
            ),
        ),
        ack="close",
        facts=LINKED,
    ),
    Row(
        "dunf-at-zns",
        AT_ZNS,
        Choice("dunf:42"),
        (("dossier.unfollowed", (("code", "HS-2026-0042"),)), ASKED),
        changes=(UnfollowDossier(dossier_id=42),),
        ack="close",
        facts=INVITED,
    ),
    Row(
        "later-at-zns",
        AT_ZNS,
        Choice("later:no"),
        ("common.already_answered", ASKED),
        ack="close",
    ),
    Row(
        "typed-at-zns",
        AT_ZNS,
        Text("xin chào"),
        ("zns5.please_choose", ASKED),
    ),
    # --- the rest ---
    Row(
        "later-yes-lookup",
        replace(OFFERED, data={"later": {"name": "tracuu", "arg": CODE}}),
        Choice("later:yes"),
        (
            (
                "lookup.card",
                (
                    ("code", "PA-2026-000123"),
                    ("category", Ref(key="category.khac")),
                    ("status", Ref(key="status.resolved")),
                    (
                        "due",
                        Lines(
                            items=(
                                Reply(
                                    key="case.due",
                                    params=(("due", "10/12/2026"),),
                                    choices=(),
                                    placeholder=None,
                                ),
                            )
                        ),
                    ),
                    ("part", Lines(items=())),
                    ("notes", Lines(items=())),
                ),
            ),
            ASKED,
        ),
        after=replace(replace(OFFERED, data={"later": {"name": "tracuu", "arg": CODE}}), data={}),
        ack="close",
        facts=OWNER,
    ),
    Row(
        "already-yours",
        IDLE,
        Choice("case:PA-2026-000123:take"),
        (("staff.already_yours", (("code", "PA-2026-000123"),)),),
        ack="close",
        facts=replace(
            ADMIN, complaints={CODE: replace(NEW, status="in_progress", assignee="staff:u1")}
        ),
    ),
    Row(
        "dfol-colon",
        IDLE,
        Choice("dfol:Tok:x:no"),
        ("dossier.not_followed", ASKED),
        changes=(
            RecordConsent(
                purpose="dossier", given=False, at=NOW, wording="dossier/b3dfe78df7a14cdb"
            ),
        ),
        ack="close",
        facts=LINKED,
    ),
    Row(
        "rate-too-colon",
        COLON_RATE_TOO,
        Text("5"),
        ("rating.thanks", ASKED),
        after=replace(COLON_RATE_TOO, data={"ans": {}, "hist": [], "form": "sipas-1001"}),
        changes=(RateComplaint(code="X:Y", rating=5, at=NOW),),
        facts=Facts(complaints={"X:Y": replace(RESOLVED, code="X:Y")}),
    ),
    Row(
        "menu-word-surveyed",
        IDLE,
        Text("danh gia"),
        ("survey.open_used", ASKED),
        facts=Facts(surveyed=True),
    ),
    Row(
        "idle-data-kept",
        replace(IDLE, data={"x": 1}),
        Text("xin chào"),
        ("menu.unknown",),
    ),
    Row(
        "old-note-language",
        OLD_NOTE,
        Choice("lang:en"),
        ("language.set", ASKED),
        after=replace(OLD_NOTE, language="en"),
        changes=(SetLanguage(language="en"),),
        ack="close",
        facts=ADMIN,
    ),
    Row(
        "citizen-case-mid-complaint",
        COMPLAINT,
        Choice("case:PA-2026-000123:take"),
        ("common.stale_choice", ASKED),
        ack="close",
        facts=CITIZEN,
    ),
    Row(
        "ambiguous-live",
        OFFERED,
        Text("làm"),
        (ASKED,),
        after=replace(OFFERED, flow="lookup", step="l.code", data={}),
    ),
    Row(
        "ambiguous-live2",
        LIVE,
        Text("hài lòng"),
        ("lookup.refused", "menu.again"),
        after=IDLE,  # the menu offered: the rating question is no longer the one asked
    ),
    Row(
        "menu-word-rate-surveyed",
        IDLE,
        Text("rate"),
        ("survey.open_used", ASKED),
        facts=Facts(surveyed=True),
    ),
    Row(
        "menu-word-khaosat-surveyed",
        IDLE,
        Text("khao sat"),
        ("survey.open_used", ASKED),
        facts=Facts(surveyed=True),
    ),
    Row(
        "edited-phone-at-zns",
        ZNS_EDITED,
        Text("0912345678", message_id="9", edited=True),
        (("input.edit_taken", (("what", Ref(key="input.edit_what.phone")),)), ASKED),
        after=replace(
            ZNS_EDITED,
            data={
                "draft": 3,
                "cat": "capphep",
                "text": "xxxxxxxxxxxxxxxxxxxx",
                "files": [],
                "anon": False,
                "name": "An",
                "phone": "0912345678",
                "hotline": False,
                "address": None,
                "zns": None,
                "msgs": {"phone": "9"},
                "album": {},
            },
        ),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_one_event_gives_exactly_this_outcome(row: Row) -> None:
    if row.facts is None:
        outcome = engine.handle(row.state, row.event, ENV)
    else:
        outcome = engine.handle(row.state, row.event, ENV, row.facts)
    _check(outcome, row)


def test_the_row_ids_are_unique() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)


# --- answers that are a flow's own, with only the engine's additions -------------------------


def _card_shown(outcome: Outcome, before: ConversationState) -> Outcome:
    """``outcome`` in an officer's private chat: the case buttons it shows remembered."""
    return staff_typed.remember(outcome, before, NOW)


DELEGATED: list[tuple[str, ConversationState, Inbound, Facts, Callable[[], Outcome]]] = [
    (
        "case-view",
        IDLE,
        Choice(f"case:{CODE}:view"),
        ADMIN,
        lambda: _card_shown(staff.action(IDLE, ENV, ADMIN, CODE, "view", "u1"), IDLE),
    ),
    (
        "case-view-mid-complaint",  # its own buttons: no question of the task after it
        COMPLAINT,
        Choice(f"case:{CODE}:view"),
        ADMIN,
        lambda: _card_shown(staff.action(COMPLAINT, ENV, ADMIN, CODE, "view", "u1"), COMPLAINT),
    ),
    (
        "case-take-mid-complaint",
        COMPLAINT,
        Choice(f"case:{CODE}:take"),
        ADMIN,
        lambda: _card_shown(staff.action(COMPLAINT, ENV, ADMIN, CODE, "take", "u1"), COMPLAINT),
    ),
    (
        "case-view-in-room",  # a room's cards are not remembered by one officer's chat
        IDLE,
        Choice(f"case:{CODE}:view"),
        ROOM,
        lambda: staff.action(IDLE, ENV, ROOM, CODE, "view", "u1"),
    ),
    (
        "room-typed-code",
        IDLE,
        Text(f"  {CODE} "),
        ROOM,
        lambda: staff.show(IDLE, ENV, ROOM, CODE),
    ),
    (
        "typed-number-names-the-shown-button",
        SHOWN,
        Text("1"),
        ADMIN,
        lambda: _card_shown(staff.action(SHOWN, ENV, ADMIN, CODE, "take", "u1"), SHOWN),
    ),
    (
        "typed-number-names-an-open-case",  # known only as an open case: looked up there
        IDLE,
        Text("1"),
        Facts(admin=True, sender="u1", open_cases=(replace(NEW, code=OTHER),)),
        lambda: _card_shown(
            staff.action(
                IDLE,
                ENV,
                Facts(
                    admin=True,
                    sender="u1",
                    open_cases=(replace(NEW, code=OTHER),),
                    complaints={OTHER: replace(NEW, code=OTHER)},
                ),
                OTHER,
                "take",
                "u1",
            ),
            IDLE,
        ),
    ),
    (
        "staff-note-taken",
        NOTE,
        Text("Đã xử lý xong"),
        ADMIN,
        lambda: staff.handle_note(NOTE, Text("Đã xử lý xong"), ENV, ADMIN, "u1"),
    ),
    (
        "supplement-text-taken",
        SUPP,
        Text("giấy tờ bổ sung"),
        ASKED_MORE,
        lambda: tracking.handle_supplement(SUPP, Text("giấy tờ bổ sung"), ENV, ASKED_MORE),
    ),
    (
        "code-in-a-caption-mid-lookup",
        LOOKUP,
        Attachment("photo", size=10, file_id="f1", caption=CODE),
        OWNER,
        lambda: replace(
            tracking.handle_lookup(LOOKUP, Text(CODE), ENV, OWNER),
            replies=(
                Reply("input.file_not_kept"),
                *tracking.handle_lookup(LOOKUP, Text(CODE), ENV, OWNER).replies,
            ),
        ),
    ),
]


@pytest.mark.parametrize(
    ("state", "event", "facts", "expected"),
    [d[1:] for d in DELEGATED],
    ids=[d[0] for d in DELEGATED],
)
def test_a_flows_own_answer_passes_through(
    state: ConversationState, event: Inbound, facts: Facts, expected: Callable[[], Outcome]
) -> None:
    outcome = engine.handle(state, event, ENV, facts)
    assert outcome == expected()
    assert all(default_catalog().has(r.key) for r in outcome.replies)
