"""The SIPAS survey: consent, one question per message, back and skip, summary, completion."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from ..context import Env, Facts
from ..effects import (
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
from ..events import Attachment, Choice, Inbound, Text
from ..limits import MAX_COMMENT_CHARS
from ..parsing import (
    is_ascii_number,
    is_back,
    is_done,
    is_skip,
    match_label,
    yes_no,
)
from ..questionnaire import Questionnaire, Step
from ..text_limits import TextLimit, register
from . import menu
from .survey_data import (
    BACK,
    CONSENT,
    CONSENT_PURPOSE,
    DONE,
    FLOW,
    REMINDED,
    SECONDS_PER_QUESTION,
    SKIP,
    SUMMARY,
    Answer,
    Ended,
    SurveyData,
    _form,
    _selection,
    questionnaire,
)
from .survey_start import (
    _refuse,
    misshapen_code,
    period_key,
    receipt_opens,
    start,
    start_from_receipt,
)
from .survey_typed import _MultiSet, _parse_text
from .survey_views import _consent_reply, _summary_reply, consent_texts, consent_wording, prompt

__all__ = [
    "BACK",
    "CONSENT",
    "CONSENT_PURPOSE",
    "DONE",
    "FLOW",
    "REMINDED",
    "SECONDS_PER_QUESTION",
    "SKIP",
    "SUMMARY",
    "Answer",
    "Ended",
    "SurveyData",
    "_summary_reply",
    "cancel",
    "consent_texts",
    "consent_wording",
    "ending",
    "expire",
    "handle",
    "misshapen_code",
    "period_key",
    "prompt",
    "questionnaire",
    "receipt_opens",
    "remind",
    "start",
    "start_from_receipt",
]

_SUBMIT_WORDS = {"submit": ("gui phieu", "gui", "submit", "hoan thanh")}


# --- leaving the survey -------------------------------------------------------------------


def ending(data: SurveyData, status: Ended, at: datetime) -> tuple[Change, ...]:
    """What ending the survey in progress changes: its response, and the invitation it came
    from (a separate change, so that the response never learns the dossier)."""
    if data.rid is None:
        return ()
    changes: list[Change] = [EndResponse(data.rid, status, at, data.receipt)]
    if data.dossier is not None:
        changes.append(CloseInvitation(data.dossier, status, at))
    return tuple(changes)


def cancel(state: ConversationState, env: Env) -> Outcome:
    data = SurveyData.load(state.data)
    if data.rid is None:
        return Outcome((Reply("cancel.done"), menu.again()), state=menu.idle(state))
    changes = ending(data, "abandoned", env.now)
    return Outcome((Reply("cancel.survey"), menu.again()), changes=changes, state=menu.idle(state))


def remind(state: ConversationState, env: Env) -> Outcome:
    """The reminder job's event: one nudge, then no more for this survey."""
    if state.remind_at is None or state.remind_at > env.now or state.data.get(REMINDED):
        return Outcome((), state=state)
    new = replace(state, data={**state.data, REMINDED: True}, remind_at=None)
    return Outcome((Reply("survey.reminder"), *prompt(new, env)), state=new)


def expire(state: ConversationState, env: Env) -> Outcome:
    """The expiry job's event; a survey touched since it was scheduled is left alone."""
    if state.expires_at is None or state.expires_at > env.now:
        return Outcome((), state=state)
    changes = ending(SurveyData.load(state.data), "expired", env.now)
    return Outcome((Reply("survey.expired"),), changes=changes, state=menu.idle(state))


# --- one event inside the survey ----------------------------------------------------------


def handle(state: ConversationState, event: Inbound, env: Env, facts: Facts) -> Outcome:
    data = SurveyData.load(state.data)
    step_id = state.step or CONSENT
    touched = replace(
        state,
        expires_at=env.now + env.survey_ttl,
        remind_at=None if state.data.get(REMINDED) else env.now + env.survey_remind_after,
    )
    if isinstance(event, Attachment):
        return _reask(touched, env, "common.no_files")
    if isinstance(event, Choice):
        prefix, _, option = event.id.partition(":")
        if prefix != step_id:
            return _reask(touched, env, "common.stale_choice")
        answer: Answer | _MultiSet | None = option
    elif isinstance(event, Text):
        answer = None
    else:
        return _reask(touched, env, "common.please_choose")
    text = event.text if isinstance(event, Text) else None
    if step_id == CONSENT:
        return _consent(touched, data, env, facts, option if text is None else _consent_text(text))
    if step_id == SUMMARY:
        return _summary(touched, data, env, option if text is None else _summary_text(text))
    step = questionnaire(data).step(step_id)
    if step is None:  # the questionnaire file changed under a stored conversation
        return _goto(touched, data, env, SUMMARY, ())
    if text is not None:
        if step.kind == "text" and not (is_back(text) or is_skip(text)):
            return _comment(touched, data, env, step, text)
        answer = _parse_text(step, text, data)
    elif step.kind == "text" and answer not in (BACK, SKIP):
        # The comment's buttons are back and skip; a comment comes typed, through _comment's
        # rules (trimmed, not empty, its limit), never in a button's data.
        answer = None
    if answer is None:
        return _reask(touched, env, _invalid_key(step))
    return _apply(touched, data, env, step, answer)


def _consent_text(text: str) -> str | None:
    return yes_no(text)


def _summary_text(text: str) -> str | None:
    if is_back(text):
        return BACK
    if is_done(text) or yes_no(text) == "yes" or match_label(text, _SUBMIT_WORDS):
        return "submit"
    return None


def _consent(
    state: ConversationState, data: SurveyData, env: Env, facts: Facts, option: str | None
) -> Outcome:
    wording = consent_wording(lambda e: _consent_reply(e, data), env, questionnaire(data).id)
    if option == "no":
        consent = RecordConsent(CONSENT_PURPOSE, False, env.now, wording)
        return Outcome(
            (Reply("survey.declined"), menu.again()),
            changes=(consent,),
            state=menu.idle(state),
            ack="close",
        )
    if option != "yes":
        return _reask(state, env, "common.please_choose")
    if data.receipt is not None:
        receipt = facts.receipt
        if receipt is None or receipt.id != data.receipt:
            return _refuse(menu.idle(state), env, "receipt.unknown")
        if receipt.response_status is not None:
            return _refuse(menu.idle(state), env, "receipt.used")
    taken: list[Change] = []
    if data.dossier is not None:
        dossier = facts.dossiers.get(data.dossier)
        if dossier is None or not dossier.invite_open(env.now):
            return _refuse(menu.idle(state), env, "dossier.invite_taken")
        taken.append(TakeInvitation(dossier.id))
    rid = env.new_id()
    data.rid = rid
    q = questionnaire(data)
    month = date.fromisoformat(f"{data.month}-01") if data.month else None
    changes: list[Change] = [
        RecordConsent(CONSENT_PURPOSE, True, env.now, wording),
        StartResponse(rid, q.id, env.now, data.receipt, data.proc, data.area, month),
        *taken,
    ]
    nxt = _next_step(q, data, -1, changes)
    return _goto(state, data, env, nxt, tuple(changes))


def _summary(state: ConversationState, data: SurveyData, env: Env, option: str | None) -> Outcome:
    if option == BACK:
        return _back(state, data, env)
    if option != "submit" or data.rid is None:
        return _reask(state, env, "survey.summary.confirm")
    changes = ending(data, "completed", env.now)
    period = period_key(env.today, env.open_survey_period)
    if period is not None:
        # Every submitted survey, with a receipt or not: the record tells neither which.
        unasked = data.receipt is None and data.dossier is None
        changes = (*changes, MarkSurveyed(period, unasked=unasked))
    replies = (Reply("survey.thanks", (("agency", env.agency),)), menu.again())
    # The summary pressed gives way to a line without the answers: its edit is queued in
    # the batch that ends the survey, and would keep the averages beside the chat in the
    # outbox for as long as sends fail (issue 10).
    closed = Reply("survey.summary.sent")
    return Outcome(replies, changes=changes, state=menu.idle(state), ack="close", closed=closed)


def _apply(
    state: ConversationState, data: SurveyData, env: Env, step: Step, answer: Answer | _MultiSet
) -> Outcome:
    if answer == BACK:
        return _back(state, data, env)
    rid = data.rid
    assert rid is not None, "a survey past consent has a response"
    if step.kind == "multi" and answer not in (SKIP, DONE):
        if isinstance(answer, _MultiSet):
            return _save_selection(state, data, env, step, set(answer))
        if answer not in step.options:
            return _reask(state, env, "survey.invalid_multi")
        return _save_selection(state, data, env, step, set(_selection(data, step)) ^ {answer})
    changes: list[Change] = []
    if answer == SKIP:
        if step.id in data.ans:
            del data.ans[step.id]
            changes.append(ClearAnswer(rid, step.id))
    elif answer != DONE or step.kind != "multi":
        value = _valid_value(step, answer)
        if value is None:
            return _reask(state, env, _invalid_key(step))
        data.ans[step.id] = value
        changes.append(SaveAnswer(rid, step.id, value))
    data.hist.append(step.id)
    q = questionnaire(data)
    nxt = _next_step(q, data, q.index_of(step.id), changes)
    return _goto(state, data, env, nxt, tuple(changes))


def _valid_value(step: Step, answer: Answer | _MultiSet) -> Answer | None:
    if step.kind == "rating":
        level = int(answer) if isinstance(answer, str) and is_ascii_number(answer) else answer
        return level if isinstance(level, int) and level in _form(step).scale else None
    if step.kind == "text":
        return answer if isinstance(answer, str) and not isinstance(answer, _MultiSet) else None
    return answer if answer in step.options else None


def _save_selection(
    state: ConversationState, data: SurveyData, env: Env, step: Step, selected: set[str]
) -> Outcome:
    """Each toggle is saved at once, so a citizen who leaves mid-list loses nothing."""
    rid = data.rid
    assert rid is not None
    value = _join(step, selected)
    change: Change
    if value:
        data.ans[step.id] = value
        change = SaveAnswer(rid, step.id, value)
    else:
        data.ans.pop(step.id, None)
        change = ClearAnswer(rid, step.id)
    kept = {REMINDED: True} if state.data.get(REMINDED) else {}
    new = replace(state, data={**data.dump(), **kept})
    return Outcome(tuple(prompt(new, env)), changes=(change,), state=new, ack="refresh")


def _join(step: Step, selected: set[str]) -> str:
    return ",".join(c for c in step.options if c in selected)


def _comment(
    state: ConversationState, data: SurveyData, env: Env, step: Step, text: str
) -> Outcome:
    cleaned = text.strip()
    if not cleaned:
        return _reask(state, env, "survey.comment_empty")
    if len(cleaned) > COMMENT.max:
        return Outcome((COMMENT.hint(len(cleaned)), *prompt(state, env)), state=state)
    return _apply(state, data, env, step, cleaned)


#: The free comment's limit, told in the comment's own words.
COMMENT = TextLimit("survey.comment_too_long", MAX_COMMENT_CHARS)


@register(FLOW)
def text_limit(state: ConversationState) -> TextLimit | None:
    """The comment step's limit; None at the steps that read no free text."""
    if state.step in (None, CONSENT, SUMMARY):
        return None
    step = questionnaire(SurveyData.load(state.data)).step(state.step)
    return COMMENT if step is not None and step.kind == "text" else None


def _back(state: ConversationState, data: SurveyData, env: Env) -> Outcome:
    if not data.hist:
        return _reask(state, env, "survey.first_step")
    previous = data.hist.pop()
    return _goto(state, data, env, previous, ())


def _next_step(q: Questionnaire, data: SurveyData, after: int, changes: list[Change]) -> str:
    """The next step whose condition holds; answers to steps now ruled out leave the base."""
    for step in q.steps[after + 1 :]:
        if step.when is None or step.when.holds(data.ans):
            return step.id
        if step.id in data.ans and data.rid is not None:
            del data.ans[step.id]
            changes.append(ClearAnswer(data.rid, step.id))
    return SUMMARY


def _goto(
    state: ConversationState,
    data: SurveyData,
    env: Env,
    step_id: str,
    changes: tuple[Change, ...],
) -> Outcome:
    kept = {REMINDED: True} if state.data.get(REMINDED) else {}
    new = replace(state, flow=FLOW, step=step_id, data={**data.dump(), **kept})
    return Outcome(tuple(prompt(new, env)), changes=changes, state=new, ack="close")


def _reask(state: ConversationState, env: Env, hint: str) -> Outcome:
    return Outcome((Reply(hint), *prompt(state, env)), state=state)


def _invalid_key(step: Step) -> str:
    return {
        "rating": "survey.invalid_rating",
        "multi": "survey.invalid_multi",
        "text": "survey.comment_empty",
    }.get(step.kind, "survey.invalid_option")
