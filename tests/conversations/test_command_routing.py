"""Commands routed to their task (``conversations/command_routing.py``), pinned exactly
(issue 17: the survivors of that module's mutation run).

Each row names a state, a command and the facts looked up for it, and the whole outcome it
must give: every reply key in order (with the parameters the router itself sets), the state
after it, the changes and the ack. The rows go through the engine's public entry
(:func:`conversations.handle`) and through ``_command`` itself (which is handed the event
as sent, not as the engine normalises it: the router's own ``strip``/``lower`` are pinned
there); the switch question's answer is pinned on ``_switched``, whose ack the engine would
otherwise supply. Pure: no database, a fixed clock and fixed ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from conversations import command_routing
from conversations.catalog import default_catalog
from conversations.command_routing import LANGUAGES, EngineError, _cancel, _command, _switched
from conversations.context import DossierFacts, Env, Facts, ReceiptFacts
from conversations.daily_counts import WRONG_CODES, DailyCounts
from conversations.effects import (
    Change,
    ChoiceOption,
    ConversationState,
    EndResponse,
    Outcome,
    Params,
    Ref,
    RequestJob,
    SetLanguage,
    UnfollowDossier,
)
from conversations.engine import handle
from conversations.events import Choice, Command
from conversations.flows.complaint_draft import Draft
from conversations.flows.receipt_codes import MAX_WRONG_CODES
from conversations.flows.survey_data import SurveyData
from conversations.later import LATER
from conversations.switching import PENDING

NOW = datetime(2026, 11, 30, 3, tzinfo=UTC)  # 10:00 in Hanoi
TODAY = date(2026, 11, 30)
AGENCY = "Sở Thử Nghiệm"
ENV = Env(now=NOW, new_id=lambda: 7, agency=AGENCY)
TTL = NOW + timedelta(days=7)  # Env's survey_ttl from now

CODE = "PA-2026-000123"  # a tracking code
SHORT = "4821773015"  # a receipt's short code (10 digits, the first 1-9)
TOKEN = "R" * 24  # a receipt's long token
RECEIPT = ReceiptFacts(id=11, token=TOKEN, procedure="1.009972", field="xaydung")
USED = replace(RECEIPT, response_status="used")
EXPIRED = replace(RECEIPT, valid_until=date(2026, 11, 1))
DOSSIER = DossierFacts(
    id=42,
    code="HS-2026-0042",
    token="Tok0123456789abcdefghijk",
    procedure="1.009972",
    received_on=date(2026, 11, 2),
    due_on=date(2026, 12, 2),
    status="received",
)
FOLLOWED = replace(DOSSIER, followed=True)

# --- the states a command meets ------------------------------------------------------------

IDLE = ConversationState("vi")
#: The survey's consent screen: nothing to lose yet (not half done).
CONSENT = ConversationState(
    "vi", flow="survey", step="consent", data=SurveyData(form="sipas-1001").dump(), expires_at=TTL
)
#: A survey under way (a response id): half done.
SURVEY = ConversationState(
    "vi",
    flow="survey",
    step="channel",
    data=SurveyData(rid=5, form="sipas-1001").dump(),
    expires_at=TTL,
)
#: A complaint whose description is awaited.
COMPLAINT = ConversationState(
    "vi", flow="complaint", step="c.text", data=Draft(draft=3, cat="capphep").dump()
)
#: A complaint at its question whose words name the agency (consent to ZNS notices).
AT_ZNS = replace(COMPLAINT, step="c.zns")
#: A lookup waiting for its tracking code.
LOOKUP = ConversationState("vi", flow="lookup", step="l.code")
#: A chat that sent as many wrong short codes today as it may.
TRIED_OUT = DailyCounts()
for _ in range(MAX_WRONG_CODES):
    TRIED_OUT = TRIED_OUT.plus_one(TODAY, WRONG_CODES)

#: What each state's question is, asked again after a one-off answer.
ASKED = {
    None: "menu.again",
    "survey": "survey.question",
    "consent": "survey.consent",
    "complaint": "complaint.ask_text",
    "lookup": "lookup.ask_code",
}

# --- the states a command leads to ---------------------------------------------------------


def counted(state: ConversationState) -> ConversationState:
    """``state`` with one more wrong short code today."""
    return replace(state, daily=state.daily.plus_one(TODAY, WRONG_CODES))


def consent(state: ConversationState, receipt: ReceiptFacts | None = None) -> ConversationState:
    """The consent screen opened from ``state`` (for ``receipt``, if any)."""
    data = SurveyData(form="sipas-1001")
    if receipt is not None:
        data = SurveyData(
            receipt=receipt.id, proc=receipt.procedure, area=receipt.field, form="sipas-1001"
        )
    return replace(state, flow="survey", step="consent", data=data.dump(), expires_at=TTL)


def complaint_started(state: ConversationState, hotline: bool = False) -> ConversationState:
    """A complaint just opened from ``state`` (id 7, the category asked)."""
    data = Draft(draft=7, hotline=hotline).dump()
    return replace(state, flow="complaint", step="c.cat", data=data, expires_at=None)


def lookup_phone(state: ConversationState, code: str = CODE) -> ConversationState:
    """A lookup of ``code`` waiting for the phone number it was filed with."""
    return replace(
        state, flow="lookup", step="l.phone", data={"code": code}, expires_at=None, remind_at=None
    )


def lookup_code(state: ConversationState) -> ConversationState:
    return replace(state, flow="lookup", step="l.code", data={}, expires_at=None, remind_at=None)


def idle(state: ConversationState) -> ConversationState:
    """``state`` back at rest: no flow, no step, nothing kept of the task."""
    return replace(state, flow=None, step=None, data={}, expires_at=None, remind_at=None)


def pending(state: ConversationState, name: str, arg: str = "") -> ConversationState:
    """``state`` waiting for the answer to "keep it or drop it?" about ``/name arg``."""
    return replace(state, data={**state.data, PENDING: {"name": name, "arg": arg}})


def switch_params(task: str, new: str, if_dropped: str = "other") -> Params:
    """The switch question's parameters: the task in progress, the new one, what is lost."""
    return (
        ("task", Ref(f"input.task.{task}")),
        ("new", Ref(f"input.task.{new}")),
        ("if_dropped", Ref(f"input.switch_lost.{if_dropped}")),
    )


SWITCH_CHOICES = (
    ChoiceOption("switch:keep", "input.switch_keep"),
    ChoiceOption("switch:drop", "input.switch_drop"),
)
LONG_NAME = "lenhkhongtontaimotchutnaocadaihonbamuoihaikytu"  # no command, 46 characters


@dataclass(frozen=True)
class Row:
    """A command met in ``state``, and the whole outcome it must give."""

    id: str
    state: ConversationState
    event: Command
    keys: tuple[str, ...]
    #: The state after it; None: ``state`` itself, unchanged.
    after: ConversationState | None = None
    changes: tuple[Change, ...] = ()
    facts: Facts = field(default_factory=Facts)
    #: The parameters of some replies, by their index: those the router sets.
    params: tuple[tuple[int, Params], ...] = ()
    #: Only through ``_command`` (an admin's chat remembers its buttons in the engine).
    direct_only: bool = False


ROWS = [
    # --- every menu command at rest ---
    Row("start", IDLE, Command("start"), ("menu.welcome",), params=((0, (("agency", AGENCY),)),)),
    Row("start-alias", IDLE, Command("menu"), ("menu.welcome",)),
    Row("khaosat", IDLE, Command("khaosat"), ("survey.consent",), consent(IDLE)),
    Row(
        "khaosat-surveyed",
        IDLE,
        Command("khaosat"),
        ("survey.open_used", "menu.again"),
        facts=Facts(surveyed=True),
    ),
    Row(
        "khaosat-address-used",
        IDLE,
        Command("khaosat"),
        ("harden10.open_address_used", "menu.again"),
        facts=Facts(address_used=True),
    ),
    Row("phananh", IDLE, Command("phananh"), ("complaint.ask_category",), complaint_started(IDLE)),
    Row("tracuu", IDLE, Command("tracuu"), ("lookup.ask_code",), lookup_code(IDLE)),
    Row("tracuu-code", IDLE, Command("tracuu", CODE), ("lookup.ask_phone",), lookup_phone(IDLE)),
    Row(
        "tracuu-short-code",  # digits are no tracking code, and no receipt's code either
        IDLE,
        Command("tracuu", SHORT),
        ("lookup.bad_code", "lookup.ask_code"),
        lookup_code(IDLE),
    ),
    Row("huy", IDLE, Command("huy"), ("cancel.nothing", "menu.again")),
    Row("huy-alias", IDLE, Command("cancel"), ("cancel.nothing", "menu.again")),
    Row("ketqua", IDLE, Command("ketqua"), (), changes=(RequestJob("public"),)),
    Row("trogiup", IDLE, Command("trogiup"), ("help.text", "menu.again")),
    Row("ngonngu", IDLE, Command("ngonngu"), ("language.ask",)),
    Row(
        "ngonngu-en",
        IDLE,
        Command("ngonngu", "en"),
        ("language.set", "menu.again"),
        replace(IDLE, language="en"),
        (SetLanguage("en"),),
    ),
    Row(
        "ngonngu-EN-spaced",
        IDLE,
        Command("ngonngu", " EN "),
        ("language.set", "menu.again"),
        replace(IDLE, language="en"),
        (SetLanguage("en"),),
    ),
    Row(
        "ngonngu-vi-from-en",
        replace(IDLE, language="en"),
        Command("ngonngu", "Vi"),
        ("language.set", "menu.again"),
        IDLE,
        (SetLanguage("vi"),),
    ),
    Row("ngonngu-fr", IDLE, Command("ngonngu", "fr"), ("language.ask",)),
    Row("xoadulieu", IDLE, Command("xoadulieu"), ("forget.ask",)),
    Row("hosocuatoi-none", IDLE, Command("hosocuatoi"), ("dossier.none", "menu.again")),
    Row(
        "hosocuatoi-list",  # the list has its stop buttons: no menu after it
        IDLE,
        Command("hosocuatoi"),
        ("dossier.list",),
        facts=Facts(followed_dossiers=(FOLLOWED,)),
    ),
    Row(
        "huytheodoi-code",
        IDLE,
        Command("huytheodoi", FOLLOWED.code),
        ("dossier.unfollowed", "menu.again"),
        changes=(UnfollowDossier(42),),
        facts=Facts(followed_dossiers=(FOLLOWED,)),
    ),
    Row(
        "huytheodoi-not-followed",
        IDLE,
        Command("huytheodoi", "HS-1"),
        ("dossier.not_following", "menu.again"),
        facts=Facts(followed_dossiers=(FOLLOWED,)),
    ),
    Row(
        "unknown-command",
        IDLE,
        Command(LONG_NAME),
        ("common.unknown_command", "menu.again"),
        params=((0, (("name", LONG_NAME[:32]),)),),
    ),
    Row(
        "unknown-command-mid-task",
        COMPLAINT,
        Command("xyz"),
        ("common.unknown_command", "complaint.ask_text"),
        params=((0, (("name", "xyz"),)),),
    ),
    # --- one-off commands in the middle of a task: the task's question again ---
    Row("trogiup-mid-task", COMPLAINT, Command("trogiup"), ("help.text", "complaint.ask_text")),
    Row("ketqua-mid-task", SURVEY, Command("ketqua"), (), changes=(RequestJob("public"),)),
    Row(
        "ngonngu-en-mid-task",
        COMPLAINT,
        Command("ngonngu", "en"),
        ("language.set", "complaint.ask_text"),
        replace(COMPLAINT, language="en"),
        (SetLanguage("en"),),
    ),
    Row("ngonngu-mid-task", SURVEY, Command("ngonngu"), ("language.ask",)),
    Row("xoadulieu-mid-task", LOOKUP, Command("xoadulieu"), ("forget.ask",)),
    Row(
        "hosocuatoi-mid-task",
        COMPLAINT,
        Command("hosocuatoi"),
        ("dossier.none", "complaint.ask_text"),
    ),
    Row(
        "huytheodoi-mid-task",
        LOOKUP,
        Command("huytheodoi", FOLLOWED.code),
        ("dossier.unfollowed", "lookup.ask_code"),
        changes=(UnfollowDossier(42),),
        facts=Facts(followed_dossiers=(FOLLOWED,)),
    ),
    # --- the same where the question asked again names the agency ---
    Row("trogiup-at-consent", CONSENT, Command("trogiup"), ("help.text", "survey.consent")),
    Row(
        "ngonngu-en-at-consent",
        CONSENT,
        Command("ngonngu", "en"),
        ("language.set", "survey.consent"),
        replace(CONSENT, language="en"),
        (SetLanguage("en"),),
    ),
    Row(
        "hosocuatoi-at-consent", CONSENT, Command("hosocuatoi"), ("dossier.none", "survey.consent")
    ),
    Row(
        "huytheodoi-at-zns",
        AT_ZNS,
        Command("huytheodoi", FOLLOWED.code),
        ("dossier.unfollowed", "zns5.ask_consent"),
        changes=(UnfollowDossier(42),),
        facts=Facts(followed_dossiers=(FOLLOWED,)),
        params=((1, (("agency", AGENCY),)),),
    ),
    Row(
        "unknown-command-at-zns",
        AT_ZNS,
        Command("xyz"),
        ("common.unknown_command", "zns5.ask_consent"),
        params=((0, (("name", "xyz"),)), (1, (("agency", AGENCY),))),
    ),
    # --- admin commands ---
    Row(
        "admin-by-citizen",
        IDLE,
        Command("bantin"),
        ("menu.welcome",),
        params=((0, (("agency", AGENCY),)),),
    ),
    Row("admin-alias-by-citizen-mid-task", COMPLAINT, Command("cases"), ("menu.welcome",)),
    Row(
        "admin-bantin",
        IDLE,
        Command("bantin"),
        ("report.working",),
        changes=(RequestJob("digest"),),
        facts=Facts(admin=True),
        direct_only=True,
    ),
    Row(
        "admin-hoso-unknown",
        IDLE,
        Command("hoso", "xyz"),
        ("staff.unknown_case",),
        facts=Facts(admin=True),
        params=((0, (("code", "xyz"),)),),
        direct_only=True,
    ),
    Row(
        "admin-hoso",
        IDLE,
        Command("hoso"),
        ("staff.no_open_cases",),
        facts=Facts(admin=True),
        direct_only=True,
    ),
    Row(
        "admin-hotline",
        IDLE,
        Command("hotline"),
        ("complaint.ask_category_hotline",),
        complaint_started(IDLE, hotline=True),
        facts=Facts(admin=True),
        direct_only=True,
    ),
    Row(
        "admin-hotline-mid-task",
        COMPLAINT,
        Command("hotline"),
        ("input.busy", "complaint.ask_text"),
        facts=Facts(admin=True),
        direct_only=True,
    ),
    # --- /start in the middle of a task, without an argument ---
    Row("start-in-survey", SURVEY, Command("start"), ("survey.resume", "survey.question")),
    Row(
        "start-in-complaint-at-zns",
        AT_ZNS,
        Command("start"),
        ("input.busy", "zns5.ask_consent"),
        params=((1, (("agency", AGENCY),)),),
    ),
    Row("start-at-consent", CONSENT, Command("start"), ("survey.resume", "survey.consent")),
    Row(
        "start-in-complaint",
        COMPLAINT,
        Command("start"),
        ("input.busy", "complaint.ask_text"),
        params=((0, (("task", Ref("input.task.complaint")),)),),
    ),
    Row(
        "start-in-lookup",
        LOOKUP,
        Command("start"),
        ("input.busy", "lookup.ask_code"),
        params=((0, (("task", Ref("input.task.lookup")),)),),
    ),
    # --- /start with a receipt's short code ---
    Row(
        "short-code-found",
        IDLE,
        Command("start", SHORT),
        ("survey.consent",),
        consent(IDLE, RECEIPT),
        facts=Facts(receipt=RECEIPT),
    ),
    Row(
        "short-code-of-a-dossier",
        IDLE,
        Command("start", SHORT),
        ("dossier.consent",),
        facts=Facts(dossier=DOSSIER),
    ),
    Row(
        "short-code-not-found",
        IDLE,
        Command("start", SHORT),
        ("receipt.unknown", "menu.again"),
        counted(IDLE),
    ),
    Row(
        "short-code-misshapen",  # 10 digits from 0: what a code looks like, and counted
        IDLE,
        Command("start", "0123456789"),
        ("receipt.code_format", "menu.again"),
        counted(IDLE),
    ),
    Row(
        "short-code-used",  # found, so not counted: the receipt's survey is over
        IDLE,
        Command("start", SHORT),
        ("receipt.used", "menu.again"),
        facts=Facts(receipt=USED),
    ),
    Row(
        "short-code-tried-out",  # not looked at: no menu after the refusal
        replace(IDLE, daily=TRIED_OUT),
        Command("start", SHORT),
        ("zalo.code_tries",),
        facts=Facts(receipt=RECEIPT),
        params=((0, (("max", MAX_WRONG_CODES), ("when", "01/12/2026"))),),
    ),
    Row(
        "short-code-tried-out-mid-task",
        replace(COMPLAINT, daily=TRIED_OUT),
        Command("start", SHORT),
        ("zalo.code_tries", "complaint.ask_text"),
        facts=Facts(receipt=RECEIPT),
    ),
    Row(
        "short-code-tried-out-in-survey",
        replace(SURVEY, daily=TRIED_OUT),
        Command("start", SHORT),
        ("zalo.code_tries", "survey.question"),
    ),
    Row(
        "short-code-tried-out-at-consent",
        replace(CONSENT, daily=TRIED_OUT),
        Command("start", SHORT),
        ("zalo.code_tries", "survey.consent"),
    ),
    Row(
        "short-code-not-found-mid-task",
        COMPLAINT,
        Command("start", SHORT),
        ("receipt.unknown", "complaint.ask_text"),
        counted(COMPLAINT),
    ),
    Row(
        "short-code-not-found-in-survey",
        SURVEY,
        Command("start", SHORT),
        ("receipt.unknown", "survey.question"),
        counted(SURVEY),
    ),
    Row(
        "short-code-used-mid-task",
        COMPLAINT,
        Command("start", SHORT),
        ("receipt.used", "complaint.ask_text"),
        facts=Facts(receipt=USED),
    ),
    Row(
        "short-code-found-mid-task",  # keep the complaint or drop it: not counted
        COMPLAINT,
        Command("start", SHORT),
        ("input.switch_ask",),
        pending(COMPLAINT, "start", SHORT),
        facts=Facts(receipt=RECEIPT),
        params=((0, switch_params("complaint", "survey")),),
    ),
    Row(
        "short-code-of-a-dossier-mid-task",  # the follow question has its buttons
        COMPLAINT,
        Command("start", SHORT),
        ("dossier.consent",),
        facts=Facts(dossier=DOSSIER),
    ),
    # --- /start with a receipt's token ---
    Row(
        "token",
        IDLE,
        Command("start", TOKEN),
        ("survey.consent",),
        consent(IDLE, RECEIPT),
        facts=Facts(receipt=RECEIPT),
    ),
    Row(
        "token-d-prefixed-receipt",  # a receipt has that token: its survey, no dossier
        IDLE,
        Command("start", "d_" + TOKEN),
        ("survey.consent",),
        consent(IDLE, RECEIPT),
        facts=Facts(receipt=RECEIPT),
    ),
    Row("token-unknown", IDLE, Command("start", TOKEN), ("receipt.unknown", "menu.again")),
    Row(
        "token-used",
        IDLE,
        Command("start", TOKEN),
        ("receipt.used", "menu.again"),
        facts=Facts(receipt=USED),
    ),
    Row(
        "token-at-consent",  # nothing to lose: the receipt's consent screen instead
        CONSENT,
        Command("start", TOKEN),
        ("survey.consent",),
        consent(CONSENT, RECEIPT),
        facts=Facts(receipt=RECEIPT),
    ),
    Row(
        "token-mid-complaint",
        COMPLAINT,
        Command("start", TOKEN),
        ("input.switch_ask",),
        pending(COMPLAINT, "start", TOKEN),
        facts=Facts(receipt=RECEIPT),
        params=((0, switch_params("complaint", "survey")),),
    ),
    Row(
        "token-mid-survey",
        SURVEY,
        Command("start", TOKEN),
        ("input.switch_ask",),
        pending(SURVEY, "start", TOKEN),
        facts=Facts(receipt=RECEIPT),
        params=((0, switch_params("survey", "survey", "survey")),),
    ),
    Row(
        "token-unknown-mid-complaint",  # refused: the complaint's question, not the menu
        COMPLAINT,
        Command("start", TOKEN),
        ("receipt.unknown", "complaint.ask_text"),
    ),
    Row(
        "token-used-mid-lookup",
        LOOKUP,
        Command("start", TOKEN),
        ("receipt.used", "lookup.ask_code"),
        facts=Facts(receipt=USED),
    ),
    Row(
        "token-expired-mid-complaint",
        COMPLAINT,
        Command("start", TOKEN),
        ("receipt.expired", "complaint.ask_text"),
        facts=Facts(receipt=EXPIRED),
    ),
    Row(
        "token-unknown-at-zns",
        AT_ZNS,
        Command("start", TOKEN),
        ("receipt.unknown", "zns5.ask_consent"),
        params=((1, (("agency", AGENCY),)),),
    ),
    Row(
        "token-unknown-mid-survey",  # the survey asks its question itself, once
        SURVEY,
        Command("start", TOKEN),
        ("receipt.unknown", "survey.question"),
    ),
    Row(
        "token-used-mid-survey",
        SURVEY,
        Command("start", TOKEN),
        ("receipt.used", "survey.question"),
        facts=Facts(receipt=USED),
    ),
    # --- /start with a dossier's link ---
    Row(
        "dossier-link",
        IDLE,
        Command("start", "d_" + DOSSIER.token),
        ("dossier.consent",),
        facts=Facts(dossier=DOSSIER),
    ),
    Row(
        "dossier-link-and-receipt",  # a dossier has that token: its link wins
        IDLE,
        Command("start", "d_" + DOSSIER.token),
        ("dossier.consent",),
        facts=Facts(dossier=DOSSIER, receipt=RECEIPT),
    ),
    Row(
        "dossier-link-unknown",
        IDLE,
        Command("start", "d_" + DOSSIER.token),
        ("dossier.unknown", "menu.again"),
    ),
    Row(
        "dossier-link-followed",
        IDLE,
        Command("start", "d_" + DOSSIER.token),
        ("dossier.already_following", "dossier.card", "menu.again"),
        facts=Facts(dossier=FOLLOWED),
    ),
    Row(
        "dossier-link-mid-task",
        COMPLAINT,
        Command("start", "d_" + DOSSIER.token),
        ("dossier.consent",),
        facts=Facts(dossier=DOSSIER),
    ),
    Row(
        "dossier-link-unknown-mid-task",
        COMPLAINT,
        Command("start", "d_" + DOSSIER.token),
        ("dossier.unknown", "complaint.ask_text"),
    ),
    Row(
        "dossier-link-unknown-at-consent",
        CONSENT,
        Command("start", "d_" + DOSSIER.token),
        ("dossier.unknown", "survey.consent"),
    ),
    # --- another task asked for while one is half done: keep it or drop it? ---
    Row(
        "khaosat-mid-complaint",
        COMPLAINT,
        Command("khaosat"),
        ("input.switch_ask",),
        pending(COMPLAINT, "khaosat"),
        params=((0, switch_params("complaint", "survey")),),
    ),
    Row(
        "phananh-mid-survey",
        SURVEY,
        Command("phananh"),
        ("input.switch_ask",),
        pending(SURVEY, "phananh"),
        params=((0, switch_params("survey", "new_complaint", "survey")),),
    ),
    Row(
        "phananh-mid-lookup",
        LOOKUP,
        Command("phananh"),
        ("input.switch_ask",),
        pending(LOOKUP, "phananh"),
        params=((0, switch_params("lookup", "new_complaint")),),
    ),
    Row(
        "tracuu-code-mid-complaint",
        COMPLAINT,
        Command("tracuu", CODE),
        ("input.switch_ask",),
        pending(COMPLAINT, "tracuu", CODE),
        params=((0, switch_params("complaint", "lookup")),),
    ),
    Row(
        "tracuu-mid-survey",
        SURVEY,
        Command("tracuu"),
        ("input.switch_ask",),
        pending(SURVEY, "tracuu"),
        params=((0, switch_params("survey", "lookup", "survey")),),
    ),
    # --- the same task asked for again: it goes on ---
    Row(
        "tracuu-code-mid-lookup",
        LOOKUP,
        Command("tracuu", CODE),
        ("lookup.ask_phone",),
        lookup_phone(LOOKUP),
    ),
    Row(
        "tracuu-new-code-mid-lookup",
        lookup_phone(IDLE, "PA-2026-000999"),
        Command("tracuu", CODE),
        ("lookup.ask_phone",),
        lookup_phone(IDLE),
    ),
    Row("tracuu-mid-lookup", LOOKUP, Command("tracuu"), ("lookup.ask_code",), lookup_code(LOOKUP)),
    Row("khaosat-mid-survey", SURVEY, Command("khaosat"), ("survey.resume", "survey.question")),
    Row("khaosat-at-consent", CONSENT, Command("khaosat"), ("survey.resume", "survey.consent")),
    Row(
        "phananh-mid-complaint",
        COMPLAINT,
        Command("phananh"),
        ("input.busy", "complaint.ask_text"),
        params=((0, (("task", Ref("input.task.complaint")),)),),
    ),
    Row(
        "phananh-mid-complaint-at-zns",
        AT_ZNS,
        Command("phananh"),
        ("input.busy", "zns5.ask_consent"),
        params=((1, (("agency", AGENCY),)),),
    ),
    # --- a task not half done (the survey's consent screen): as from rest ---
    Row(
        "phananh-at-consent",
        CONSENT,
        Command("phananh"),
        ("complaint.ask_category",),
        complaint_started(IDLE),
    ),
    Row(
        "tracuu-at-consent",
        CONSENT,
        Command("tracuu", CODE),
        ("lookup.ask_phone",),
        lookup_phone(IDLE),
    ),
    Row(
        "tracuu-no-code-at-consent",
        CONSENT,
        Command("tracuu"),
        ("lookup.ask_code",),
        lookup_code(IDLE),
    ),
    # --- /huy ---
    Row(
        "huy-in-survey",
        SURVEY,
        Command("huy"),
        ("cancel.survey", "menu.again"),
        idle(SURVEY),
        (EndResponse(5, "abandoned", NOW, None),),
    ),
    Row("huy-at-consent", CONSENT, Command("huy"), ("cancel.done", "menu.again"), idle(CONSENT)),
    Row(
        "huy-in-complaint",
        COMPLAINT,
        Command("huy"),
        ("complaint.cancelled", "menu.again"),
        idle(COMPLAINT),
    ),
    Row("huy-in-lookup", LOOKUP, Command("huy"), ("cancel.done", "menu.again"), idle(LOOKUP)),
    Row(
        "huy-in-staff-note",
        ConversationState("vi", flow="staff", step="s.note", data={"code": CODE}),
        Command("huy"),
        ("cancel.done", "menu.again"),
        IDLE,
    ),
]


def _check(outcome: Outcome, row: Row) -> None:
    keys = tuple(r.key for r in outcome.replies)
    assert keys == row.keys
    assert all(default_catalog().has(key) for key in keys)
    for index, params in row.params:
        assert outcome.replies[index].params == params
    if "input.switch_ask" in keys:
        assert outcome.replies[-1].choices == SWITCH_CHOICES
    assert outcome.state == (row.state if row.after is None else row.after)
    assert outcome.changes == row.changes
    assert outcome.ack is None


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_a_command_routed_directly(row: Row) -> None:
    _check(_command(row.state, row.event, ENV, row.facts), row)


@pytest.mark.parametrize("row", [r for r in ROWS if not r.direct_only], ids=lambda r: r.id)
def test_a_command_through_the_engine(row: Row) -> None:
    _check(handle(row.state, row.event, ENV, row.facts), row)


# --- what the router reads of an argument as sent (the engine cleans it first) --------------

SPACED = [
    # A short code with spaces around it is still one: looked at, and counted when wrong.
    Row(
        "short-code-spaced-not-found",
        IDLE,
        Command("start", f" {SHORT} "),
        ("receipt.unknown", "menu.again"),
        counted(IDLE),
    ),
    Row(
        "short-code-spaced-misshapen",
        IDLE,
        Command("start", " 0123456789 "),
        ("receipt.code_format", "menu.again"),
        counted(IDLE),
    ),
    Row(
        "short-code-spaced-tried-out",
        replace(IDLE, daily=TRIED_OUT),
        Command("start", f"\t{SHORT} "),
        ("zalo.code_tries",),
    ),
    # Only spaces after /start: no argument at all.
    Row("start-blank-argument", IDLE, Command("start", "   "), ("menu.welcome",)),
    Row(
        "start-blank-argument-in-survey",
        SURVEY,
        Command("start", " "),
        ("survey.resume", "survey.question"),
    ),
    Row(
        "ngonngu-upper",
        IDLE,
        Command("ngonngu", "EN"),
        ("language.set", "menu.again"),
        replace(IDLE, language="en"),
        (SetLanguage("en"),),
    ),
    Row(
        "ngonngu-spaced",
        IDLE,
        Command("ngonngu", "  en\n"),
        ("language.set", "menu.again"),
        replace(IDLE, language="en"),
        (SetLanguage("en"),),
    ),
    Row(
        "command-name-spelled-otherwise",
        IDLE,
        Command("/TroGiup@SipasBot"),
        ("help.text", "menu.again"),
    ),
]


@pytest.mark.parametrize("row", SPACED, ids=[r.id for r in SPACED])
def test_an_argument_as_sent(row: Row) -> None:
    _check(_command(row.state, row.event, ENV, row.facts), row)


# --- the answer to "keep it or drop it?" ---------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The switch question answered (``answer``) in ``state``, and the whole outcome."""

    id: str
    state: ConversationState
    answer: str
    keys: tuple[str, ...]
    after: ConversationState
    changes: tuple[Change, ...] = ()
    ack: str | None = None
    facts: Facts = field(default_factory=Facts)
    params: tuple[tuple[int, Params], ...] = ()


def kept(state: ConversationState, name: str, arg: str = "") -> ConversationState:
    """``state`` with ``/name arg`` kept for after its task."""
    return replace(state, data={**state.data, LATER: {"name": name, "arg": arg}})


ANSWERS = [
    Answer(
        "keep-survey-for-complaint",
        pending(SURVEY, "phananh"),
        "keep",
        ("input7.kept_for_later", "survey.question"),
        kept(SURVEY, "phananh"),
        params=((0, (("new", Ref("input.task.new_complaint")),)),),
    ),
    Answer(
        "keep-complaint-for-lookup",
        pending(COMPLAINT, "tracuu", CODE),
        "keep",
        ("input7.kept_for_later", "complaint.ask_text"),
        kept(COMPLAINT, "tracuu", CODE),
        params=((0, (("new", Ref("input.task.lookup")),)),),
    ),
    Answer(
        "keep-complaint-at-zns-for-survey",
        pending(AT_ZNS, "khaosat"),
        "keep",
        ("input7.kept_for_later", "zns5.ask_consent"),
        kept(AT_ZNS, "khaosat"),
        params=((0, (("new", Ref("input.task.survey")),)), (1, (("agency", AGENCY),))),
    ),
    Answer(
        "keep-nothing-pending",
        SURVEY,
        "keep",
        ("input.switch_kept", "survey.question"),
        SURVEY,
    ),
    Answer(
        "drop-nothing-pending",  # nothing to switch to: the task is kept
        COMPLAINT,
        "drop",
        ("input.switch_kept", "complaint.ask_text"),
        COMPLAINT,
    ),
    Answer(
        "drop-survey-for-complaint",  # the cancel's first reply only, then the new task's
        pending(SURVEY, "phananh"),
        "drop",
        ("cancel.survey", "complaint.ask_category"),
        complaint_started(IDLE),
        (EndResponse(5, "abandoned", NOW, None),),
        "close",
    ),
    Answer(
        "drop-complaint-for-lookup",
        pending(COMPLAINT, "tracuu", CODE),
        "drop",
        ("complaint.cancelled", "lookup.ask_phone"),
        lookup_phone(IDLE),
        ack="close",
    ),
    Answer(
        "drop-lookup-for-survey",
        pending(LOOKUP, "khaosat"),
        "drop",
        ("cancel.done", "survey.consent"),
        consent(IDLE),
        ack="close",
    ),
    Answer(
        "drop-complaint-for-receipt",
        pending(COMPLAINT, "start", TOKEN),
        "drop",
        ("complaint.cancelled", "survey.consent"),
        consent(IDLE, RECEIPT),
        ack="close",
        facts=Facts(receipt=RECEIPT),
    ),
    Answer(
        "drop-survey-for-language",  # both tasks' changes, the cancel's first
        pending(SURVEY, "ngonngu", "en"),
        "drop",
        ("cancel.survey", "language.set", "menu.again"),
        replace(idle(SURVEY), language="en"),
        (EndResponse(5, "abandoned", NOW, None), SetLanguage("en")),
        "close",
    ),
    Answer(
        "drop-at-rest",  # a stale question at rest: the state as it is, not emptied
        pending(replace(IDLE, data={"x": 1}), "ketqua"),
        "drop",
        ("cancel.nothing",),
        replace(IDLE, data={"x": 1}),
        (RequestJob("public"),),
        "close",
    ),
]


@pytest.mark.parametrize("case", ANSWERS, ids=[a.id for a in ANSWERS])
def test_the_switch_question_answered(case: Answer) -> None:
    outcome = _switched(case.state, case.answer, ENV, case.facts)
    keys = tuple(r.key for r in outcome.replies)
    assert keys == case.keys
    assert all(default_catalog().has(key) for key in keys)
    for index, params in case.params:
        assert outcome.replies[index].params == params
    assert outcome.state == case.after
    assert outcome.changes == case.changes
    assert outcome.ack == case.ack


@pytest.mark.parametrize("answer", ["keep", "drop"])
def test_the_switch_question_answered_by_its_button(answer: str) -> None:
    """Through the engine: the button is answered (closed) whichever way."""
    case = next(a for a in ANSWERS if a.id == f"{answer}-survey-for-complaint")
    outcome = handle(case.state, Choice(f"switch:{answer}"), ENV, case.facts)
    assert tuple(r.key for r in outcome.replies) == case.keys
    assert outcome.state == case.after
    assert outcome.changes == case.changes
    assert outcome.ack == "close"


# --- cancel, the languages, the programmer's error -----------------------------------------


@pytest.mark.parametrize(
    ("state", "keys", "after"),
    [
        (IDLE, ("cancel.nothing", "menu.again"), IDLE),
        (
            replace(IDLE, data={"x": 1}),
            ("cancel.nothing", "menu.again"),
            replace(IDLE, data={"x": 1}),
        ),
        (LOOKUP, ("cancel.done", "menu.again"), IDLE),
        (CONSENT, ("cancel.done", "menu.again"), IDLE),
        (COMPLAINT, ("complaint.cancelled", "menu.again"), IDLE),
        (SURVEY, ("cancel.survey", "menu.again"), IDLE),
    ],
    ids=["idle", "idle-with-data", "lookup", "consent", "complaint", "survey"],
)
def test_cancel(state: ConversationState, keys: tuple[str, ...], after: ConversationState) -> None:
    outcome = _cancel(state, ENV)
    assert tuple(r.key for r in outcome.replies) == keys
    assert outcome.state == after
    assert outcome.ack is None


def test_the_languages() -> None:
    assert LANGUAGES == ("vi", "en")


def test_engine_error_names_its_code() -> None:
    error = EngineError(101, "command 'x' has no handler")
    assert str(error) == "E101: command 'x' has no handler"
    assert error.code == 101
    assert error.args == ("E101: command 'x' has no handler",)


def test_a_command_without_a_handler_is_a_programmer_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every canonical command has a handler, so this is reached only with a name that
    ``commands.canonical`` would never give: one is made up here."""
    monkeypatch.setattr(command_routing, "canonical", lambda name: "mystery")
    with pytest.raises(EngineError) as raised:
        _command(IDLE, Command("mystery"), ENV, Facts())
    assert str(raised.value) == "E101: command 'mystery' has no handler"
    assert raised.value.code == 101
