"""One event inside the survey (``conversations/flows/survey.py``), pinned exactly (issue 17:
the mutants of that module).

Each row names a conversation state, an event and the facts looked up for it, and the whole
outcome it must give: every reply key in order (the question asked again or next, with its
parameters), the state after it (flow, step, the survey's data, the expiry and reminder times
the event sets), the changes (answers saved and cleared, the response started and ended, the
consent recorded, the period's mark) and the ack. The rows cover both SIPAS forms
(``sipas-1001`` and ``sipas-2640``): the consent screen (agreed, refused, typed yes and no,
anything else; a receipt's and a dossier's checks), each kind of question (single choice,
multi-select with its toggles and "done", rating, typed values, the comment and its length),
skip and back (back at the first question, back over a filter that skipped criteria), the
filters that rule criteria out (and clear their answers), the summary (submit, back, typed
words; the period's mark with and without a receipt or a dossier), a stale button, a file,
and the wrong kind of event. Then ``cancel``, ``remind``, ``expire`` and ``ending`` on their
own, each step's text limit, and the few helpers whose rows no event reaches (which hint
each kind of question gives, a value no button sends).

Pure: no database, a fixed clock, fixed ids. The question asked is rendered by
``survey.prompt`` (``survey_views.py``) on the state the row expects, so a row pins the state
and the question together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from conversations.catalog import default_catalog
from conversations.context import DossierFacts, Env, Facts, ReceiptFacts
from conversations.effects import (
    Change,
    ClearAnswer,
    CloseInvitation,
    ConversationState,
    EndResponse,
    MarkSurveyed,
    Outcome,
    RecordConsent,
    Reply,
    SaveAnswer,
    StartResponse,
    TakeInvitation,
)
from conversations.events import Attachment, Choice, Command, Expired, Inbound, Text, TimedOut
from conversations.flows import menu, survey
from conversations.flows.survey_data import REMINDED, SurveyData, questionnaire
from conversations.flows.survey_typed import _MultiSet
from conversations.flows.survey_views import _consent_reply, consent_wording
from conversations.text_limits import INBOUND, text_limit

#: 28/02/2026 20:30 UTC: already 1 March in Hanoi (the period a submitted survey marks).
NOW = datetime(2026, 2, 28, 20, 30, tzinfo=UTC)
TTL = timedelta(days=5)
REMIND_AFTER = timedelta(hours=20)
AGENCY = "Sở Thử Nghiệm"
ENV = Env(
    now=NOW,
    new_id=lambda: 7,
    agency=AGENCY,
    survey_ttl=TTL,
    survey_remind_after=REMIND_AFTER,
)
#: The period's limit off: a submitted survey marks no period.
OFF = replace(ENV, open_survey_period="off")
#: The response under way in the rows past consent (``ENV.new_id`` makes 7 for a new one).
RID = 5
F1, F2 = "sipas-1001", "sipas-2640"
#: What a stored state says before the event: the event sets both again.
OLD_EXPIRY = NOW + timedelta(hours=1)
OLD_REMIND = NOW + timedelta(hours=2)

RECEIPT = ReceiptFacts(id=11, token="R" * 24, procedure="1.009972", field="xaydung")
DOSSIER = DossierFacts(
    id=42,
    code="HS-2026-0042",
    token="Tok0123456789abcdefghijk",
    procedure="1.010001",
    received_on=date(2025, 12, 1),
    due_on=date(2026, 1, 5),
    status="handed_over",
    field="quyhoach",
    invite="invited",
    invite_expires_at=NOW + timedelta(days=1),
)


# --- states ----------------------------------------------------------------------------------


def d1(**fields: object) -> SurveyData:
    """A ``sipas-1001`` survey under way (response ``RID``) with ``fields``."""
    return SurveyData(**{"rid": RID, "form": F1, **fields})  # type: ignore[arg-type]


def d2(**fields: object) -> SurveyData:
    """A ``sipas-2640`` survey under way (response ``RID``) with ``fields``."""
    return SurveyData(**{"rid": RID, "form": F2, **fields})  # type: ignore[arg-type]


def stored(data: SurveyData, reminded: bool = False) -> dict[str, object]:
    out = data.dump()
    if reminded:
        out[REMINDED] = True
    return out


def at(step: str | None, data: SurveyData, *, reminded: bool = False) -> ConversationState:
    """The survey waiting at ``step`` with ``data`` (reminded once already, or not)."""
    return ConversationState(
        "vi",
        flow=survey.FLOW,
        step=step,
        data=stored(data, reminded),
        expires_at=OLD_EXPIRY,
        remind_at=None if reminded else OLD_REMIND,
    )


def touched(state: ConversationState, env: Env = ENV) -> ConversationState:
    """``state`` after any event of the citizen: it expires ``TTL`` from now, and is reminded
    ``REMIND_AFTER`` from now unless it was reminded already."""
    return replace(
        state,
        expires_at=env.now + env.survey_ttl,
        remind_at=None if state.data.get(REMINDED) else env.now + env.survey_remind_after,
    )


def idle(state: ConversationState) -> ConversationState:
    return replace(state, flow=None, step=None, data={}, expires_at=None, remind_at=None)


# --- outcomes --------------------------------------------------------------------------------


def reask(state: ConversationState, hint: str, env: Env = ENV) -> Outcome:
    """The hint, then the question asked again; the state only touched."""
    now = touched(state, env)
    return Outcome((Reply(hint), *survey.prompt(now, env)), state=now)


def goto(
    state: ConversationState,
    step: str,
    data: SurveyData,
    changes: tuple[Change, ...] = (),
    env: Env = ENV,
) -> Outcome:
    """The survey moved to ``step`` holding ``data``: that step's question, the pressed
    message closed."""
    new = replace(
        touched(state, env),
        flow=survey.FLOW,
        step=step,
        data=stored(data, bool(state.data.get(REMINDED))),
    )
    return Outcome(tuple(survey.prompt(new, env)), changes=changes, state=new, ack="close")


def refresh(state: ConversationState, data: SurveyData, change: Change) -> Outcome:
    """A multi-select's ticks changed: the same question redrawn in place."""
    new = replace(touched(state), data=stored(data, bool(state.data.get(REMINDED))))
    return Outcome(tuple(survey.prompt(new, ENV)), changes=(change,), state=new, ack="refresh")


def refused(state: ConversationState, key: str) -> Outcome:
    """The consent screen refused: the reason and the menu, the survey gone."""
    return Outcome((Reply(key), menu.again()), state=idle(state))


def wording(form: str, env: Env = ENV) -> str:
    return consent_wording(lambda e: _consent_reply(e, SurveyData(form=form)), env, form)


def consented(form: str, env: Env = ENV, **start: object) -> tuple[Change, Change]:
    """The consent recorded and response 7 started, on ``form``, with ``start``'s fields."""
    return (
        RecordConsent("survey", True, NOW, wording(form, env)),
        StartResponse(7, form, NOW, **start),  # type: ignore[arg-type]
    )


def submitted(*changes: Change) -> Outcome:
    """The summary submitted: thanks (naming the agency), the menu, ``changes``; the summary
    message replaced by a line without the answers."""
    return Outcome(
        (Reply("survey.thanks", (("agency", AGENCY),)), menu.again()),
        changes=changes,
        state=ConversationState("vi"),
        ack="close",
        closed=Reply("survey.summary.sent"),
    )


# --- the rows --------------------------------------------------------------------------------

Q = "survey.question"
MULTI = "survey.question.multi"
CRIT = "survey.criterion"
SUM = "survey.summary"
CONSENT_KEY = "survey.consent"


@dataclass(frozen=True)
class Row:
    name: str
    state: ConversationState
    event: Inbound
    expected: Outcome
    keys: tuple[str, ...]
    facts: Facts = field(default_factory=Facts)
    env: Env = ENV


def consent_rows() -> list[Row]:
    fresh1 = at(survey.CONSENT, SurveyData(form=F1))
    fresh2 = at(survey.CONSENT, SurveyData(form=F2))
    fresh1_reminded = at(survey.CONSENT, SurveyData(form=F1), reminded=True)
    no_step = at(None, SurveyData(form=F1))
    by_receipt = SurveyData(receipt=11, proc="1.009972", area="xaydung", form=F1)
    receipt_screen = at(survey.CONSENT, by_receipt)
    by_dossier = SurveyData(dossier=42, proc="1.010001", area="quyhoach", month="2026-01", form=F2)
    dossier_screen = at(survey.CONSENT, by_dossier)
    declined = (Reply("survey.declined"), menu.again())
    no = RecordConsent("survey", False, NOW, wording(F1))

    def decline(state: ConversationState) -> Outcome:
        return Outcome(declined, changes=(no,), state=idle(state), ack="close")

    return [
        Row(
            "consent: agreed (1001), the first question",
            fresh1,
            Choice("consent:yes"),
            goto(fresh1, "channel", d1(rid=7), consented(F1)),
            (Q,),
        ),
        Row(
            "consent: agreed (2640), its first question a multi-select",
            fresh2,
            Choice("consent:yes"),
            goto(fresh2, "info", d2(rid=7), consented(F2)),
            (MULTI,),
        ),
        Row(
            "consent: agreed once reminded: no new reminder, the mark kept",
            fresh1_reminded,
            Choice("consent:yes"),
            goto(fresh1_reminded, "channel", d1(rid=7), consented(F1)),
            (Q,),
        ),
        Row(
            "consent: a state without a step is at the consent screen",
            no_step,
            Choice("consent:yes"),
            goto(no_step, "channel", d1(rid=7), consented(F1)),
            (Q,),
        ),
        Row(
            "consent: the handler puts the state in the survey's flow itself",
            replace(fresh1, flow=None),
            Choice("consent:yes"),
            goto(fresh1, "channel", d1(rid=7), consented(F1)),
            (Q,),
        ),
        Row(
            "consent: typed yes",
            fresh1,
            Text("Đồng ý"),
            goto(fresh1, "channel", d1(rid=7), consented(F1)),
            (Q,),
        ),
        Row(
            "consent: typed yes in English (2640)",
            fresh2,
            Text("yes"),
            goto(fresh2, "info", d2(rid=7), consented(F2)),
            (MULTI,),
        ),
        Row("consent: refused", fresh1, Choice("consent:no"), decline(fresh1), declined_keys()),
        Row("consent: typed no", fresh1, Text("không"), decline(fresh1), declined_keys()),
        Row(
            "consent: refused once reminded",
            fresh1_reminded,
            Text("không đồng ý"),
            decline(fresh1_reminded),
            declined_keys(),
        ),
        Row(
            "consent: a word neither yes nor no",
            fresh1,
            Text("xem thêm"),
            reask(fresh1, "common.please_choose"),
            ("common.please_choose", CONSENT_KEY),
        ),
        Row(
            "consent: a button neither yes nor no",
            fresh1,
            Choice("consent:later"),
            reask(fresh1, "common.please_choose"),
            ("common.please_choose", CONSENT_KEY),
        ),
        Row(
            "consent: a button in upper case is not yes",
            fresh1,
            Choice("consent:YES"),
            reask(fresh1, "common.please_choose"),
            ("common.please_choose", CONSENT_KEY),
        ),
        Row(
            "consent: a question's button is stale there",
            fresh1,
            Choice("channel:post"),
            reask(fresh1, "common.stale_choice"),
            ("common.stale_choice", CONSENT_KEY),
        ),
        Row(
            "consent: a command reaching the survey",
            fresh2,
            Command("help"),
            reask(fresh2, "common.please_choose"),
            ("common.please_choose", CONSENT_KEY),
        ),
        Row(
            "consent: the expiry job's event reaching the survey",
            fresh1_reminded,
            Expired(),
            reask(fresh1_reminded, "common.please_choose"),
            ("common.please_choose", CONSENT_KEY),
        ),
        Row(
            "consent: a file",
            fresh1,
            Attachment("photo"),
            reask(fresh1, "common.no_files"),
            ("common.no_files", CONSENT_KEY),
        ),
        Row(
            "consent: a receipt's survey, its receipt still free",
            receipt_screen,
            Choice("consent:yes"),
            goto(
                receipt_screen,
                "channel",
                replace(by_receipt, rid=7),
                consented(F1, receipt_id=11, procedure="1.009972", field="xaydung"),
            ),
            (Q,),
            Facts(receipt=RECEIPT),
        ),
        Row(
            "consent: a receipt's survey, the receipt not looked up",
            receipt_screen,
            Choice("consent:yes"),
            refused(receipt_screen, "receipt.unknown"),
            ("receipt.unknown", "menu.again"),
        ),
        Row(
            "consent: a receipt's survey, another receipt looked up",
            receipt_screen,
            Choice("consent:yes"),
            refused(receipt_screen, "receipt.unknown"),
            ("receipt.unknown", "menu.again"),
            Facts(receipt=replace(RECEIPT, id=12)),
        ),
        Row(
            "consent: a receipt's survey, the receipt used meanwhile",
            receipt_screen,
            Choice("consent:yes"),
            refused(receipt_screen, "receipt.used"),
            ("receipt.used", "menu.again"),
            Facts(receipt=replace(RECEIPT, response_status="used")),
        ),
        Row(
            "consent: a receipt's survey, the receipt's survey running elsewhere",
            receipt_screen,
            Text("có"),
            refused(receipt_screen, "receipt.used"),
            ("receipt.used", "menu.again"),
            Facts(receipt=replace(RECEIPT, response_status="in_progress")),
        ),
        Row(
            "consent: a dossier's invitation still open: taken, its month (the 1st) recorded",
            dossier_screen,
            Choice("consent:yes"),
            goto(
                dossier_screen,
                "info",
                replace(by_dossier, rid=7),
                (
                    *consented(
                        F2,
                        procedure="1.010001",
                        field="quyhoach",
                        handed_over_month=date(2026, 1, 1),
                    ),
                    TakeInvitation(42),
                ),
            ),
            (MULTI,),
            Facts(dossiers={42: DOSSIER}),
        ),
        Row(
            "consent: a dossier's invitation without an expiry",
            dossier_screen,
            Choice("consent:yes"),
            goto(
                dossier_screen,
                "info",
                replace(by_dossier, rid=7),
                (
                    *consented(
                        F2,
                        procedure="1.010001",
                        field="quyhoach",
                        handed_over_month=date(2026, 1, 1),
                    ),
                    TakeInvitation(42),
                ),
            ),
            (MULTI,),
            Facts(dossiers={42: replace(DOSSIER, invite_expires_at=None)}),
        ),
        Row(
            "consent: a dossier not looked up",
            dossier_screen,
            Choice("consent:yes"),
            refused(dossier_screen, "dossier.invite_taken"),
            ("dossier.invite_taken", "menu.again"),
            Facts(dossiers={41: DOSSIER}),
        ),
        Row(
            "consent: a dossier's invitation taken by another chat",
            dossier_screen,
            Choice("consent:yes"),
            refused(dossier_screen, "dossier.invite_taken"),
            ("dossier.invite_taken", "menu.again"),
            Facts(dossiers={42: replace(DOSSIER, invite="in_progress")}),
        ),
        Row(
            "consent: a dossier's invitation expired this very moment",
            dossier_screen,
            Choice("consent:yes"),
            refused(dossier_screen, "dossier.invite_taken"),
            ("dossier.invite_taken", "menu.again"),
            Facts(dossiers={42: replace(DOSSIER, invite_expires_at=NOW)}),
        ),
    ]


def declined_keys() -> tuple[str, ...]:
    return ("survey.declined", "menu.again")


def question_rows() -> list[Row]:
    channel = at("channel", d1())
    channel_answered = at("channel", d1(ans={"channel": "inperson"}))
    channel_reminded = at("channel", d1(), reminded=True)
    info = at("info", d1(hist=["channel"], ans={"channel": "post"}))
    info_staff = at("info", d1(hist=["channel"], ans={"channel": "post", "info": "staff"}))
    info_reminded = at("info", d1(hist=["channel"]), reminded=True)
    timing = at("timing", d1(hist=["channel", "info", "trips"]))
    timing_apology = at(
        "timing",
        d1(hist=["channel", "info", "trips"], ans={"timing": "late", "apology": "yes"}),
    )
    c11 = at("1.1", d1(hist=["channel", "info", "trips", "timing"], ans={"timing": "ontime"}))
    c11_rated = at("1.1", d1(ans={"1.1": 2}))
    f5 = at("f5", d1(hist=["4.3"], ans={"5.1": 4, "5.3": 2}))
    harass = at("harass", d1(hist=["4.3", "f5"], ans={"f5": "no"}))
    comment = at("comment", d1(hist=["expect"]))
    comment_said = at("comment", d1(hist=["expect"], ans={"comment": "cũ"}))
    intro = at("p.intro", d1(hist=["comment"], ans={"p.gender": "female", "p.age": "60+"}))
    job = at("p.job", d1(hist=["p.intro"], ans={"p.intro": "yes"}))
    gone = at("zz", d1(hist=["channel"], ans={"channel": "post"}))
    no_rid = at("channel", SurveyData(form=F1))

    def save(item: str, value: int | str) -> SaveAnswer:
        return SaveAnswer(RID, item, value)

    def clear(item: str) -> ClearAnswer:
        return ClearAnswer(RID, item)

    a1000 = "b" * 1000
    rows = [
        # --- a single choice --------------------------------------------------------------
        Row(
            "single: a button",
            channel,
            Choice("channel:post"),
            goto(
                channel,
                "info",
                d1(ans={"channel": "post"}, hist=["channel"]),
                (save("channel", "post"),),
            ),
            (MULTI,),
        ),
        Row(
            "single: a button, once reminded",
            channel_reminded,
            Choice("channel:post"),
            goto(
                channel_reminded,
                "info",
                d1(ans={"channel": "post"}, hist=["channel"]),
                (save("channel", "post"),),
            ),
            (MULTI,),
        ),
        Row(
            "single: the option's number typed",
            channel,
            Text("2"),
            goto(
                channel,
                "info",
                d1(ans={"channel": "online_partial"}, hist=["channel"]),
                (save("channel", "online_partial"),),
            ),
            (MULTI,),
        ),
        Row(
            "single: the option's label typed",
            channel,
            Text("qua dịch vụ bưu chính"),
            goto(
                channel,
                "info",
                d1(ans={"channel": "post"}, hist=["channel"]),
                (save("channel", "post"),),
            ),
            (MULTI,),
        ),
        Row(
            "single: a word no option has",
            channel,
            Text("xyz"),
            reask(channel, "survey.invalid_option"),
            ("survey.invalid_option", Q),
        ),
        Row(
            "single: a forged button",
            channel,
            Choice("channel:bogus"),
            reask(channel, "survey.invalid_option"),
            ("survey.invalid_option", Q),
        ),
        Row(
            "single: a button with two colons",
            channel,
            Choice("channel:post:x"),
            reask(channel, "survey.invalid_option"),
            ("survey.invalid_option", Q),
        ),
        Row(
            "single: an empty button",
            channel,
            Choice("channel:"),
            reask(channel, "survey.invalid_option"),
            ("survey.invalid_option", Q),
        ),
        Row(
            "single: 'done' is no option",
            channel,
            Choice("channel:done"),
            reask(channel, "survey.invalid_option"),
            ("survey.invalid_option", Q),
        ),
        Row(
            "single: skipped unanswered",
            channel,
            Choice("channel:skip"),
            goto(channel, "info", d1(hist=["channel"])),
            (MULTI,),
        ),
        Row(
            "single: skipped after an answer: the answer leaves",
            channel_answered,
            Text("bỏ qua"),
            goto(channel_answered, "info", d1(hist=["channel"]), (clear("channel"),)),
            (MULTI,),
        ),
        Row(
            "single: answered again",
            channel_answered,
            Choice("channel:online_full"),
            goto(
                channel_answered,
                "info",
                d1(ans={"channel": "online_full"}, hist=["channel"]),
                (save("channel", "online_full"),),
            ),
            (MULTI,),
        ),
        Row(
            "single: a stale button of another question",
            channel,
            Choice("info:staff"),
            reask(channel, "common.stale_choice"),
            ("common.stale_choice", Q),
        ),
        Row(
            "single: a stale button of the summary",
            channel,
            Choice("summary:submit"),
            reask(channel, "common.stale_choice"),
            ("common.stale_choice", Q),
        ),
        Row(
            "single: a file",
            channel,
            Attachment("document", caption="post"),
            reask(channel, "common.no_files"),
            ("common.no_files", Q),
        ),
        Row(
            "single: a command reaching the survey",
            channel,
            Command("start"),
            reask(channel, "common.please_choose"),
            ("common.please_choose", Q),
        ),
        Row(
            "single: the clock's event reaching the survey",
            channel_reminded,
            TimedOut(),
            reask(channel_reminded, "common.please_choose"),
            ("common.please_choose", Q),
        ),
        Row(
            "single: back at the first question",
            channel,
            Text("quay lại"),
            reask(channel, "survey.first_step"),
            ("survey.first_step", Q),
        ),
        Row(
            "single: back at the first question, by its button",
            channel_answered,
            Choice("channel:back"),
            reask(channel_answered, "survey.first_step"),
            ("survey.first_step", Q),
        ),
        # --- the filter of the apology, and the timing ----------------------------------------
        Row(
            "filter: late asks about the apology",
            timing,
            Choice("timing:late"),
            goto(
                timing,
                "apology",
                d1(ans={"timing": "late"}, hist=["channel", "info", "trips", "timing"]),
                (save("timing", "late"),),
            ),
            (Q,),
        ),
        Row(
            "filter: on time skips the apology",
            timing,
            Choice("timing:ontime"),
            goto(
                timing,
                "1.1",
                d1(ans={"timing": "ontime"}, hist=["channel", "info", "trips", "timing"]),
                (save("timing", "ontime"),),
            ),
            (CRIT,),
        ),
        Row(
            "filter: on time after late: the apology's answer leaves",
            timing_apology,
            Text("đúng hẹn"),
            goto(
                timing_apology,
                "1.1",
                d1(ans={"timing": "ontime"}, hist=["channel", "info", "trips", "timing"]),
                (save("timing", "ontime"), clear("apology")),
            ),
            (CRIT,),
        ),
        Row(
            "filter: back over the skipped apology",
            c11,
            Choice("1.1:back"),
            goto(c11, "timing", d1(hist=["channel", "info", "trips"], ans={"timing": "ontime"})),
            (Q,),
        ),
        # --- ratings -----------------------------------------------------------------------
        Row(
            "rating: a button",
            c11,
            Choice("1.1:4"),
            goto(
                c11,
                "1.2",
                d1(
                    hist=["channel", "info", "trips", "timing", "1.1"],
                    ans={"timing": "ontime", "1.1": 4},
                ),
                (save("1.1", 4),),
            ),
            (CRIT,),
        ),
        Row(
            "rating: the lowest level",
            c11_rated,
            Choice("1.1:1"),
            goto(c11_rated, "1.2", d1(hist=["1.1"], ans={"1.1": 1}), (save("1.1", 1),)),
            (CRIT,),
        ),
        Row(
            "rating: the level typed",
            c11_rated,
            Text("5"),
            goto(c11_rated, "1.2", d1(hist=["1.1"], ans={"1.1": 5}), (save("1.1", 5),)),
            (CRIT,),
        ),
        Row(
            "rating: the level's words typed",
            c11_rated,
            Text("rất hài lòng"),
            goto(c11_rated, "1.2", d1(hist=["1.1"], ans={"1.1": 5}), (save("1.1", 5),)),
            (CRIT,),
        ),
        Row(
            "rating: skipped after a rating",
            c11_rated,
            Choice("1.1:skip"),
            goto(c11_rated, "1.2", d1(hist=["1.1"]), (clear("1.1"),)),
            (CRIT,),
        ),
        Row(
            "rating: a level above the scale",
            c11_rated,
            Choice("1.1:6"),
            reask(c11_rated, "survey.invalid_rating"),
            ("survey.invalid_rating", CRIT),
        ),
        Row(
            "rating: a level below the scale",
            c11_rated,
            Choice("1.1:0"),
            reask(c11_rated, "survey.invalid_rating"),
            ("survey.invalid_rating", CRIT),
        ),
        Row(
            "rating: a level that is no number",
            c11_rated,
            Choice("1.1:abc"),
            reask(c11_rated, "survey.invalid_rating"),
            ("survey.invalid_rating", CRIT),
        ),
        Row(
            "rating: a digit of another script",
            c11_rated,
            Choice("1.1:²"),
            reask(c11_rated, "survey.invalid_rating"),
            ("survey.invalid_rating", CRIT),
        ),
        Row(
            "rating: a button with two colons",
            c11_rated,
            Choice("1.1:4:5"),
            reask(c11_rated, "survey.invalid_rating"),
            ("survey.invalid_rating", CRIT),
        ),
        Row(
            "rating: 'done' is no level",
            c11_rated,
            Choice("1.1:done"),
            reask(c11_rated, "survey.invalid_rating"),
            ("survey.invalid_rating", CRIT),
        ),
        Row(
            "rating: words that are no level",
            c11_rated,
            Text("xyz"),
            reask(c11_rated, "survey.invalid_rating"),
            ("survey.invalid_rating", CRIT),
        ),
        # --- the filter of element 5 -------------------------------------------------------
        Row(
            "filter: yes asks element 5",
            f5,
            Choice("f5:yes"),
            goto(
                f5,
                "5.1",
                d1(hist=["4.3", "f5"], ans={"5.1": 4, "5.3": 2, "f5": "yes"}),
                (save("f5", "yes"),),
            ),
            (CRIT,),
        ),
        Row(
            "filter: no skips element 5 and clears its ratings, in order",
            f5,
            Text("không"),
            goto(
                f5,
                "harass",
                d1(hist=["4.3", "f5"], ans={"f5": "no"}),
                (save("f5", "no"), clear("5.1"), clear("5.3")),
            ),
            (Q,),
        ),
        Row(
            "filter: back over the skipped element 5",
            harass,
            Text("quay lại"),
            goto(harass, "f5", d1(hist=["4.3"], ans={"f5": "no"})),
            (Q,),
        ),
        # --- a multi-select ------------------------------------------------------------------
        Row(
            "multi: a first tick, saved at once",
            info,
            Choice("info:staff"),
            refresh(
                info,
                d1(hist=["channel"], ans={"channel": "post", "info": "staff"}),
                save("info", "staff"),
            ),
            (MULTI,),
        ),
        Row(
            "multi: a second tick, kept in the options' order",
            info_staff,
            Choice("info:posted"),
            refresh(
                info_staff,
                d1(hist=["channel"], ans={"channel": "post", "info": "posted,staff"}),
                save("info", "posted,staff"),
            ),
            (MULTI,),
        ),
        Row(
            "multi: the last tick taken off clears the answer",
            info_staff,
            Choice("info:staff"),
            refresh(info_staff, d1(hist=["channel"], ans={"channel": "post"}), clear("info")),
            (MULTI,),
        ),
        Row(
            "multi: numbers typed toggle their options",
            info_staff,
            Text("1, 3, 5"),
            refresh(
                info_staff,
                d1(hist=["channel"], ans={"channel": "post", "info": "posted,media"}),
                save("info", "posted,media"),
            ),
            (MULTI,),
        ),
        Row(
            "multi: a label typed toggles its option",
            info,
            Text("Notice board at the agency"),
            refresh(
                info,
                d1(hist=["channel"], ans={"channel": "post", "info": "posted"}),
                save("info", "posted"),
            ),
            (MULTI,),
        ),
        Row(
            "multi: a tick once reminded",
            info_reminded,
            Choice("info:other"),
            refresh(
                info_reminded, d1(hist=["channel"], ans={"info": "other"}), save("info", "other")
            ),
            (MULTI,),
        ),
        Row(
            "multi: done goes on, nothing saved again",
            info_staff,
            Choice("info:done"),
            goto(
                info_staff,
                "trips",
                d1(hist=["channel", "info"], ans={"channel": "post", "info": "staff"}),
            ),
            (Q,),
        ),
        Row(
            "multi: done typed, nothing ticked",
            info,
            Text("xong"),
            goto(info, "trips", d1(hist=["channel", "info"], ans={"channel": "post"})),
            (Q,),
        ),
        Row(
            "multi: skipped after ticks: the answer leaves",
            info_staff,
            Choice("info:skip"),
            goto(
                info_staff,
                "trips",
                d1(hist=["channel", "info"], ans={"channel": "post"}),
                (clear("info"),),
            ),
            (Q,),
        ),
        Row(
            "multi: back",
            info_staff,
            Choice("info:back"),
            goto(info_staff, "channel", d1(ans={"channel": "post", "info": "staff"})),
            (Q,),
        ),
        Row(
            "multi: a forged option",
            info_staff,
            Choice("info:bogus"),
            reask(info_staff, "survey.invalid_multi"),
            ("survey.invalid_multi", MULTI),
        ),
        Row(
            "multi: a number beyond the options",
            info_staff,
            Text("9"),
            reask(info_staff, "survey.invalid_multi"),
            ("survey.invalid_multi", MULTI),
        ),
        # --- the comment -----------------------------------------------------------------------
        Row(
            "comment: typed, kept without its spaces",
            comment,
            Text("  Rất tốt  "),
            goto(
                comment,
                "p.intro",
                d1(hist=["expect", "comment"], ans={"comment": "Rất tốt"}),
                (save("comment", "Rất tốt"),),
            ),
            (Q,),
        ),
        Row(
            "comment: as long as it may be",
            comment,
            Text(f" {a1000} "),
            goto(
                comment,
                "p.intro",
                d1(hist=["expect", "comment"], ans={"comment": a1000}),
                (save("comment", a1000),),
            ),
            (Q,),
        ),
        Row(
            "comment: one character too long",
            comment_said,
            Text(f" {a1000}c "),
            Outcome(
                (
                    Reply("survey.comment_too_long", (("got", 1001), ("max", 1000))),
                    *survey.prompt(touched(comment_said), ENV),
                ),
                state=touched(comment_said),
            ),
            ("survey.comment_too_long", Q),
        ),
        Row(
            "comment: only spaces",
            comment,
            Text("   "),
            reask(comment, "survey.comment_empty"),
            ("survey.comment_empty", Q),
        ),
        Row(
            "comment: skipped by a word, the one said before leaves",
            comment_said,
            Text("bỏ qua"),
            goto(comment_said, "p.intro", d1(hist=["expect", "comment"]), (clear("comment"),)),
            (Q,),
        ),
        Row(
            "comment: back by a word",
            comment_said,
            Text("quay lại"),
            goto(comment_said, "expect", d1(ans={"comment": "cũ"})),
            (MULTI,),
        ),
        Row(
            "comment: a navigation word is not a comment, yes is",
            comment,
            Text("có"),
            goto(
                comment,
                "p.intro",
                d1(hist=["expect", "comment"], ans={"comment": "có"}),
                (save("comment", "có"),),
            ),
            (Q,),
        ),
        Row(
            "comment: the skip button",
            comment_said,
            Choice("comment:skip"),
            goto(comment_said, "p.intro", d1(hist=["expect", "comment"]), (clear("comment"),)),
            (Q,),
        ),
        Row(
            "comment: the back button",
            comment_said,
            Choice("comment:back"),
            goto(comment_said, "expect", d1(ans={"comment": "cũ"})),
            (MULTI,),
        ),
        # A comment never comes in a button's data: a forged one is asked for again, so the
        # comment's rules (trimmed, not empty, 1000 characters) cannot be stepped around.
        *(
            Row(
                f"comment: a forged button {label}",
                comment,
                Choice(f"comment:{data}"),
                reask(comment, "survey.comment_empty"),
                ("survey.comment_empty", Q),
            )
            for label, data in (
                ("with nothing", ""),
                ("with spaces", "   "),
                ("saying done", "done"),
                ("with a comment", "Rất tốt"),
                ("too long", "a" * 1500),
            )
        ),
        # --- the profile and its gate ----------------------------------------------------------
        Row(
            "profile: no skips every item, clearing the ones answered, to the summary",
            intro,
            Choice("p.intro:no"),
            goto(
                intro,
                survey.SUMMARY,
                d1(hist=["comment", "p.intro"], ans={"p.intro": "no"}),
                (save("p.intro", "no"), clear("p.gender"), clear("p.age")),
            ),
            (SUM,),
        ),
        Row(
            "profile: yes asks the first item",
            intro,
            Choice("p.intro:yes"),
            goto(
                intro,
                "p.type",
                d1(
                    hist=["comment", "p.intro"],
                    ans={"p.intro": "yes", "p.gender": "female", "p.age": "60+"},
                ),
                (save("p.intro", "yes"),),
            ),
            (Q,),
        ),
        Row(
            "profile: the last question leads to the summary",
            job,
            Choice("p.job:retired"),
            goto(
                job,
                survey.SUMMARY,
                d1(hist=["p.intro", "p.job"], ans={"p.intro": "yes", "p.job": "retired"}),
                (save("p.job", "retired"),),
            ),
            (SUM,),
        ),
        # --- a step the questionnaire no longer has ------------------------------------------
        Row(
            "a step gone from the questionnaire: the summary",
            gone,
            Text("xyz"),
            goto(gone, survey.SUMMARY, d1(hist=["channel"], ans={"channel": "post"})),
            (SUM,),
        ),
        Row(
            "a step gone from the questionnaire, by its button: the summary",
            gone,
            Choice("zz:1"),
            goto(gone, survey.SUMMARY, d1(hist=["channel"], ans={"channel": "post"})),
            (SUM,),
        ),
        Row(
            "without a response, back is still answered",
            no_rid,
            Choice("channel:back"),
            reask(no_rid, "survey.first_step"),
            ("survey.first_step", Q),
        ),
    ]
    return rows


def form_2640_rows() -> list[Row]:
    trips = at("trips", d2(hist=["info"]))
    f5 = at("f5", d2(hist=["4.3"], ans={"5.4": 3}))
    c54 = at("5.4", d2(hist=["f5", "5.1", "5.2", "5.3"], ans={"f5": "yes"}))
    harass = at("harass", d2(hist=["f5"]))
    comment = at("comment", d2(hist=["expect"]))
    return [
        Row(
            "2640: the trips' number typed",
            trips,
            Text("4"),
            goto(
                trips,
                "timing",
                d2(hist=["info", "trips"], ans={"trips": "4"}),
                (SaveAnswer(RID, "trips", "4"),),
            ),
            (Q,),
        ),
        Row(
            "2640: no trips' option '0'",
            trips,
            Choice("trips:0"),
            reask(trips, "survey.invalid_option"),
            ("survey.invalid_option", Q),
        ),
        Row(
            "2640: the filter of element 5 says no, its fourth criterion cleared",
            f5,
            Choice("f5:no"),
            goto(
                f5,
                "harass",
                d2(hist=["4.3", "f5"], ans={"f5": "no"}),
                (SaveAnswer(RID, "f5", "no"), ClearAnswer(RID, "5.4")),
            ),
            (Q,),
        ),
        Row(
            "2640: the last criterion of element 5",
            c54,
            Choice("5.4:3"),
            goto(
                c54,
                "harass",
                d2(hist=["f5", "5.1", "5.2", "5.3", "5.4"], ans={"f5": "yes", "5.4": 3}),
                (SaveAnswer(RID, "5.4", 3),),
            ),
            (Q,),
        ),
        Row(
            "2640: harassment is yes or no, typed",
            harass,
            Text("không"),
            goto(
                harass,
                "payment",
                d2(hist=["f5", "harass"], ans={"harass": "no"}),
                (SaveAnswer(RID, "harass", "no"),),
            ),
            (Q,),
        ),
        Row(
            "2640: the comment",
            comment,
            Text("ổn"),
            goto(
                comment,
                "p.intro",
                d2(hist=["expect", "comment"], ans={"comment": "ổn"}),
                (SaveAnswer(RID, "comment", "ổn"),),
            ),
            (Q,),
        ),
    ]


def summary_rows() -> list[Row]:
    answers: dict[str, int | str] = {"channel": "post", "1.1": 4, "2.1": 5}
    plain = at(survey.SUMMARY, d1(hist=["channel", "1.1", "2.1"], ans=answers))
    reminded = at(survey.SUMMARY, d1(hist=["p.job"], ans=answers), reminded=True)
    with_receipt = at(survey.SUMMARY, d1(receipt=11, proc="1.009972", hist=["p.job"]))
    with_dossier = at(survey.SUMMARY, d2(dossier=42, month="2026-01", hist=["p.job"]))
    no_history = at(survey.SUMMARY, d1(ans=answers))
    no_rid = at(survey.SUMMARY, SurveyData(form=F1, hist=["p.job"]))
    done = ("survey.thanks", "menu.again")
    ended = EndResponse(RID, "completed", NOW)
    confirm = ("survey.summary.confirm", SUM)
    rows = [
        Row(
            "summary: submitted, no receipt nor dossier: the period's mark, unasked",
            plain,
            Choice("summary:submit"),
            submitted(ended, MarkSurveyed("2026-03", unasked=True)),
            done,
        ),
        Row(
            "summary: submitted, with the period off: no mark",
            plain,
            Choice("summary:submit"),
            submitted(ended),
            done,
            env=OFF,
        ),
        Row(
            "summary: submitted, a receipt's survey: its receipt's one survey ends",
            with_receipt,
            Choice("summary:submit"),
            submitted(EndResponse(RID, "completed", NOW, 11), MarkSurveyed("2026-03")),
            done,
        ),
        Row(
            "summary: submitted, a dossier's survey: its invitation closes",
            with_dossier,
            Choice("summary:submit"),
            submitted(ended, CloseInvitation(42, "completed", NOW), MarkSurveyed("2026-03")),
            done,
        ),
        Row(
            "summary: submitted once reminded",
            reminded,
            Text("gửi phiếu"),
            submitted(ended, MarkSurveyed("2026-03", unasked=True)),
            done,
        ),
        Row(
            "summary: back to the last question answered",
            plain,
            Choice("summary:back"),
            goto(plain, "2.1", d1(hist=["channel", "1.1"], ans=answers)),
            (CRIT,),
        ),
        Row(
            "summary: back typed, once reminded",
            reminded,
            Text("quay lại"),
            goto(reminded, "p.job", d1(ans=answers)),
            (Q,),
        ),
        Row(
            "summary: back with nothing answered before",
            no_history,
            Choice("summary:back"),
            reask(no_history, "survey.first_step"),
            ("survey.first_step", SUM),
        ),
        Row(
            "summary: submitted without a response (no consent): asked to confirm",
            no_rid,
            Choice("summary:submit"),
            reask(no_rid, "survey.summary.confirm"),
            confirm,
        ),
        Row(
            "summary: a word neither submit nor back",
            plain,
            Text("không"),
            reask(plain, "survey.summary.confirm"),
            confirm,
        ),
        Row(
            "summary: a forged button",
            plain,
            Choice("summary:SUBMIT"),
            reask(plain, "survey.summary.confirm"),
            confirm,
        ),
        Row(
            "summary: a question's button is stale there",
            plain,
            Choice("2.1:4"),
            reask(plain, "common.stale_choice"),
            ("common.stale_choice", SUM),
        ),
        Row(
            "summary: a file",
            plain,
            Attachment("other", what="sticker"),
            reask(plain, "common.no_files"),
            ("common.no_files", SUM),
        ),
    ]
    for word in ("xong", "có", "gửi", "Hoàn thành", "submit", "OK"):
        rows.append(
            Row(
                f"summary: {word!r} typed submits",
                plain,
                Text(word),
                submitted(ended, MarkSurveyed("2026-03", unasked=True)),
                done,
            )
        )
    return rows


ROWS = consent_rows() + question_rows() + form_2640_rows() + summary_rows()


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_one_event_gives_exactly_this_outcome(row: Row) -> None:
    outcome = survey.handle(row.state, row.event, row.env, row.facts)
    assert tuple(r.key for r in outcome.replies) == row.keys
    if outcome.state is not None and row.expected.state is not None:
        assert SurveyData.load(outcome.state.data) == SurveyData.load(row.expected.state.data)
    assert outcome == row.expected


def test_every_reply_key_of_the_rows_is_in_the_catalog() -> None:
    catalog = default_catalog()
    keys = {k for row in ROWS for k in row.keys}
    keys |= {"survey.reminder", "survey.expired", "cancel.done", "cancel.survey"}
    keys |= {"survey.summary.sent"}
    assert sorted(k for k in keys if not catalog.has(k)) == []


def test_an_answer_without_a_response_is_a_broken_state() -> None:
    """Past the consent screen a survey has a response id: a state without one is refused
    loudly, never saved under no response."""
    with pytest.raises(AssertionError, match=r"^a survey past consent has a response$"):
        survey.handle(at("channel", SurveyData(form=F1)), Choice("channel:post"), ENV, Facts())


# --- leaving the survey ----------------------------------------------------------------------

AT = datetime(2026, 3, 1, 4, 59, 59, 999999, tzinfo=UTC)


def _endings(status: survey.Ended) -> list[tuple[survey.Ended, SurveyData, tuple[Change, ...]]]:
    return [
        (status, SurveyData(form=F1), ()),
        (status, SurveyData(form=F1, receipt=11, dossier=42), ()),
        (status, d1(), (EndResponse(RID, status, AT),)),
        (status, d1(receipt=11), (EndResponse(RID, status, AT, 11),)),
        (status, d2(dossier=42), (EndResponse(RID, status, AT), CloseInvitation(42, status, AT))),
        (
            status,
            d2(receipt=11, dossier=42),
            (EndResponse(RID, status, AT, 11), CloseInvitation(42, status, AT)),
        ),
    ]


ENDINGS = [row for status in ("completed", "abandoned", "expired") for row in _endings(status)]


@pytest.mark.parametrize(("status", "data", "expected"), ENDINGS)
def test_ending_a_survey_ends_its_response_and_closes_its_invitation(
    status: survey.Ended, data: SurveyData, expected: tuple[Change, ...]
) -> None:
    """Nothing without a response; the time passed on as given (storage rounds it)."""
    assert survey.ending(data, status, AT) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            at(survey.CONSENT, SurveyData(form=F1, receipt=11)),
            Outcome((Reply("cancel.done"), menu.again()), state=ConversationState("vi")),
        ),
        (
            at("1.1", d1(receipt=11, ans={"1.1": 3}), reminded=True),
            Outcome(
                (Reply("cancel.survey"), menu.again()),
                changes=(EndResponse(RID, "abandoned", NOW, 11),),
                state=ConversationState("vi"),
            ),
        ),
        (
            at("info", d2(dossier=42)),
            Outcome(
                (Reply("cancel.survey"), menu.again()),
                changes=(EndResponse(RID, "abandoned", NOW), CloseInvitation(42, "abandoned", NOW)),
                state=ConversationState("vi"),
            ),
        ),
    ],
    ids=["before consent", "a receipt's survey", "a dossier's survey"],
)
def test_cancel(state: ConversationState, expected: Outcome) -> None:
    assert survey.cancel(state, ENV) == expected


def _reminded(state: ConversationState) -> Outcome:
    new = replace(state, data={**state.data, REMINDED: True}, remind_at=None)
    return Outcome((Reply("survey.reminder"), *survey.prompt(new, ENV)), state=new)


REMIND_ROWS = [
    ("never scheduled", replace(at("1.1", d1()), remind_at=None), False),
    ("not yet due", replace(at("1.1", d1()), remind_at=NOW + timedelta(microseconds=1)), False),
    ("due this very moment", replace(at("1.1", d1()), remind_at=NOW), True),
    ("past due, at a question", replace(at("1.1", d1()), remind_at=NOW - timedelta(hours=1)), True),
    (
        "past due, at the consent screen",
        replace(at(survey.CONSENT, SurveyData(form=F2)), remind_at=NOW),
        True,
    ),
    ("past due, at the summary", replace(at(survey.SUMMARY, d1()), remind_at=NOW), True),
    ("past due, reminded already", replace(at("1.1", d1(), reminded=True), remind_at=NOW), False),
]


@pytest.mark.parametrize(("name", "state", "sent"), REMIND_ROWS, ids=[r[0] for r in REMIND_ROWS])
def test_remind_once(name: str, state: ConversationState, sent: bool) -> None:
    outcome = survey.remind(state, ENV)
    assert outcome == (_reminded(state) if sent else Outcome((), state=state))
    if sent:
        assert outcome.replies[0].key == "survey.reminder"
        assert outcome.state is not None
        assert outcome.state.data[REMINDED] is True


def _expired(changes: tuple[Change, ...]) -> Outcome:
    return Outcome((Reply("survey.expired"),), changes=changes, state=ConversationState("vi"))


EXPIRE_ROWS = [
    ("never scheduled", replace(at("1.1", d1()), expires_at=None), None),
    ("touched since", replace(at("1.1", d1()), expires_at=NOW + timedelta(microseconds=1)), None),
    (
        "due this very moment",
        replace(at("1.1", d1()), expires_at=NOW),
        _expired((EndResponse(RID, "expired", NOW),)),
    ),
    (
        "a receipt's and a dossier's survey, past due",
        replace(at("1.1", d1(receipt=11, dossier=42)), expires_at=NOW - timedelta(days=1)),
        _expired((EndResponse(RID, "expired", NOW, 11), CloseInvitation(42, "expired", NOW))),
    ),
    (
        "at the consent screen",
        replace(at(survey.CONSENT, SurveyData(form=F1)), expires_at=NOW),
        _expired(()),
    ),
]


@pytest.mark.parametrize(
    ("name", "state", "expected"), EXPIRE_ROWS, ids=[r[0] for r in EXPIRE_ROWS]
)
def test_expire(name: str, state: ConversationState, expected: Outcome | None) -> None:
    assert survey.expire(state, ENV) == (expected or Outcome((), state=state))


# --- what each step reads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "form", "limit"),
    [
        (None, F1, None),
        (survey.CONSENT, F1, None),
        (survey.SUMMARY, F1, None),
        ("channel", F1, None),
        ("info", F1, None),
        ("1.1", F1, None),
        ("comment", F1, 1000),
        ("comment", F2, 1000),
        ("zz", F1, None),
    ],
)
def test_text_limit_of_each_step(step: str | None, form: str, limit: int | None) -> None:
    state = at(step, SurveyData(form=form, rid=RID))
    got = survey.text_limit(state)
    if limit is None:
        assert got is None
    else:
        assert got is not None
        assert (got.key, got.max) == ("survey.comment_too_long", limit)
    assert text_limit(state) == (got or INBOUND)


@pytest.mark.parametrize(
    ("step", "key"),
    [
        ("1.1", "survey.invalid_rating"),
        ("info", "survey.invalid_multi"),
        ("comment", "survey.comment_empty"),
        ("channel", "survey.invalid_option"),
        ("p.intro", "survey.invalid_option"),
    ],
)
def test_the_hint_for_an_answer_not_understood(step: str, key: str) -> None:
    found = questionnaire(SurveyData(form=F1)).step(step)
    assert found is not None
    assert survey._invalid_key(found) == key


@pytest.mark.parametrize(
    ("step", "answer", "value"),
    [
        ("1.1", "3", 3),
        ("1.1", 2, 2),
        ("1.1", 6, None),
        ("1.1", "x", None),
        ("comment", "ổn", "ổn"),
        ("comment", 4, None),  # no button sends a number to the comment
        ("comment", _MultiSet({"ổn"}), None),  # nor a selection
        ("channel", "post", "post"),
        ("channel", "x", None),
    ],
)
def test_the_value_an_answer_saves(step: str, answer: object, value: object) -> None:
    found = questionnaire(SurveyData(form=F1)).step(step)
    assert found is not None
    assert survey._valid_value(found, answer) == value  # type: ignore[arg-type]


def test_an_emptied_selection_never_saved_is_cleared_without_error() -> None:
    """No event empties a selection that was never saved (the last tick taken off had one);
    ``_save_selection`` clears it all the same, rather than failing."""
    state = at("info", d1())
    step = questionnaire(SurveyData(form=F1)).step("info")
    assert step is not None
    outcome = survey._save_selection(state, d1(), ENV, step, set())
    new = replace(state, data=d1().dump())
    assert outcome == Outcome(
        tuple(survey.prompt(new, ENV)),
        changes=(ClearAnswer(RID, "info"),),
        state=new,
        ack="refresh",
    )


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("quay lại", "back"),
        ("back", "back"),
        ("xong", "submit"),
        ("có", "submit"),
        ("gửi phiếu", "submit"),
        ("hoàn thành", "submit"),
        ("không", None),
        ("5", None),
    ],
)
def test_what_typed_words_mean_at_the_summary(typed: str, meant: str | None) -> None:
    assert survey._summary_text(typed) == meant


@pytest.mark.parametrize(
    ("typed", "meant"), [("Đồng ý", "yes"), ("không", "no"), ("xem thêm", None)]
)
def test_what_typed_words_mean_at_the_consent_screen(typed: str, meant: str | None) -> None:
    assert survey._consent_text(typed) == meant
