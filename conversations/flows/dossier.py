"""Following a dossier from its appointment slip: consent, the list, stopping, the invitation.

Everything here is a button or a command that means the same at every step, so no flow state
is kept: the link's consent (``dfol:<token>:yes|no``), the invitation (``dinv:<id>``) and
stopping (``dunf:<id>``) carry what they are about, and the engine checks it against what
storage says (a forged id finds no dossier this chat follows).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from ..context import DossierFacts, Env, Facts
from ..dossier_events import INVITE_BUTTON, procedure_label
from ..effects import (
    ChoiceOption,
    ConversationState,
    FollowDossier,
    Lines,
    Outcome,
    RecordConsent,
    Ref,
    Reply,
    UnfollowDossier,
)
from ..normalise import clean
from ..parsing import is_ascii_number
from . import complaint, survey

#: ``/start d_<token>``: the prefix that tells a dossier's link from a receipt's.
LINK_PREFIX: Final = "d_"
FOLLOW_BUTTON: Final = "dfol"
UNFOLLOW_BUTTON: Final = "dunf"
BUTTONS: Final = frozenset({FOLLOW_BUTTON, INVITE_BUTTON, UNFOLLOW_BUTTON})
CONSENT_PURPOSE: Final = "dossier"
#: Stop buttons under the list; more dossiers than this are stopped by code (``/huytheodoi MÃ``).
MAX_LISTED_BUTTONS: Final = 5


def link_token(arg: str) -> str | None:
    """The dossier token of a ``/start`` argument, or None when it is not a dossier's link."""
    arg = arg.strip()
    if arg.startswith(LINK_PREFIX) and len(arg) > len(LINK_PREFIX):
        return arg[len(LINK_PREFIX) :]
    return None


def card(d: DossierFacts) -> Reply:
    """Where a dossier stands, as the citizen sees it."""
    if d.rescheduled_on is not None:
        due = Reply("dossier.due_rescheduled", (("due", f"{d.rescheduled_on:%d/%m/%Y}"),))
    else:
        due = Reply("dossier.due", (("due", f"{d.due_on:%d/%m/%Y}"),))
    params = (
        ("code", d.code),
        ("procedure", procedure_label(d)),
        ("received", f"{d.received_on:%d/%m/%Y}"),
        ("due", Lines((due,))),
        ("status", Ref(f"dossier.status.{d.status}")),
    )
    return Reply("dossier.card", params)


# --- following -----------------------------------------------------------------------------


def link(state: ConversationState, env: Env, facts: Facts) -> Outcome:
    """``/start d_<token>``: what storing the link means, and the question whether to."""
    d = facts.dossier
    if d is None:
        return Outcome((Reply("dossier.unknown"),), state=state)
    if d.followed:
        return Outcome(
            (Reply("dossier.already_following", (("code", d.code),)), card(d)), state=state
        )
    if d.closed:
        return Outcome((Reply("dossier.closed", (("code", d.code),)), card(d)), state=state)
    return Outcome((_ask(env, d.token, d.code, procedure_label(d)),), state=state)


def _ask(env: Env, token: str, code: str, procedure: str) -> Reply:
    return Reply(
        "dossier.consent",
        (
            ("code", code),
            ("procedure", procedure),
            ("agency", env.agency),
            ("days", env.dossier_retention_days),
            ("via", complaint.via(env)),
        ),
        (
            ChoiceOption(f"{FOLLOW_BUTTON}:{token}:yes", "dossier.consent.yes"),
            ChoiceOption(f"{FOLLOW_BUTTON}:{token}:no", "dossier.consent.no"),
        ),
    )


def _wording(env: Env) -> str:
    """The id of the follow question's wording, as ``survey.consent_wording`` makes it, with
    the dossier's code and procedure left as placeholders: the id must not name a dossier."""
    return survey.consent_wording(lambda e: _ask(e, "", "{code}", "{procedure}"), env, "dossier")


def follow(state: ConversationState, env: Env, facts: Facts, answer: str) -> Outcome:
    """The answer to the link's question (the token was looked up as ``facts.dossier``)."""
    d = facts.dossier
    if d is None:
        return Outcome((Reply("dossier.unknown"),), state=state)
    if answer == "no":
        declined = RecordConsent(CONSENT_PURPOSE, False, env.now, _wording(env))
        return Outcome((Reply("dossier.not_followed"),), changes=(declined,), state=state)
    if answer != "yes":
        return Outcome((Reply("common.stale_choice"),), state=state)
    if d.followed:
        return Outcome(
            (Reply("dossier.already_following", (("code", d.code),)), card(d)), state=state
        )
    if d.closed:
        return Outcome((Reply("dossier.closed", (("code", d.code),)), card(d)), state=state)
    given = RecordConsent(CONSENT_PURPOSE, True, env.now, _wording(env))
    changes = (given, FollowDossier(d.id, env.now))
    return Outcome(
        (Reply("dossier.followed", (("code", d.code),)), card(d)), changes=changes, state=state
    )


def followed_list(state: ConversationState, facts: Facts) -> Outcome:
    """``/hosocuatoi``: the dossiers this chat follows, each with a button to stop."""
    followed = facts.followed_dossiers or ()
    if not followed:
        return Outcome((Reply("dossier.none"),), state=state)
    choices = tuple(
        ChoiceOption(f"{UNFOLLOW_BUTTON}:{d.id}", "dossier.unfollow_button", (("code", d.code),))
        for d in followed[:MAX_LISTED_BUTTONS]
    )
    cards = Lines(tuple(card(d) for d in followed))
    listed = Reply("dossier.list", (("count", len(followed)), ("cards", cards)), choices)
    return Outcome((listed,), state=state)


def _code_key(code: str) -> str:
    """A dossier code as compared: letters and digits only, upper case, digits of any script
    as ASCII (``000.00.10.h12-261130-0001`` typed with spaces or other separators is the same
    code)."""
    return re.sub(r"[\W_]+", "", clean(unicodedata.normalize("NFKC", code))).upper()


def unfollow_command(state: ConversationState, facts: Facts, arg: str) -> Outcome:
    """``/huytheodoi [MÃ]``: stops following that dossier, or the only one; asks which when
    there are several."""
    followed = facts.followed_dossiers or ()
    wanted = _code_key(arg)
    if wanted:
        found = next((d for d in followed if _code_key(d.code) == wanted), None)
        if found is None:
            unknown = Reply("dossier.not_following", (("code", arg.strip()[:64]),))
            return Outcome((unknown,), state=state)
        return _stop(state, found)
    if not followed:
        return Outcome((Reply("dossier.none"),), state=state)
    if len(followed) == 1:
        return _stop(state, followed[0])
    choices = tuple(
        ChoiceOption(f"{UNFOLLOW_BUTTON}:{d.id}", "dossier.unfollow_button", (("code", d.code),))
        for d in followed[:MAX_LISTED_BUTTONS]
    )
    which = Reply("dossier.unfollow_which", (("count", len(followed)),), choices)
    return Outcome((which,), state=state)


def unfollow(state: ConversationState, facts: Facts, value: str) -> Outcome:
    """A stop button under the list (``dunf:<id>``)."""
    d = facts.dossiers.get(int(value)) if is_ascii_number(value) else None
    if d is None or not d.followed:
        return Outcome((Reply("dossier.not_following_any"),), state=state)
    return _stop(state, d)


def _stop(state: ConversationState, d: DossierFacts) -> Outcome:
    return Outcome(
        (Reply("dossier.unfollowed", (("code", d.code),)),),
        changes=(UnfollowDossier(d.id),),
        state=state,
    )


# --- the invitation to rate ----------------------------------------------------------------


def invited(state: ConversationState, env: Env, facts: Facts, value: str) -> Outcome | None:
    """``dinv:<id>``: the survey for that dossier, once, from a chat that follows it.

    None when the survey may start but the chat is busy with something else (the engine
    says so and re-asks what is pending).
    """
    d = facts.dossiers.get(int(value)) if is_ascii_number(value) else None
    if d is None or not d.followed or d.invite is None:
        return Outcome((Reply("dossier.invite_unknown"),), state=state)
    in_survey = state.flow == survey.FLOW
    if in_survey and survey.SurveyData.load(state.data).dossier == d.id:
        return Outcome((Reply("survey.resume"), *survey.prompt(state, env)), state=state)
    if d.invite == "in_progress":
        return Outcome((Reply("dossier.invite_elsewhere"),), state=state)
    # One answer for every invitation that is over, however its survey ended: the dossier
    # no longer knows (a rated one would pair with the one completed response).
    if not d.invite_open(env.now):
        return Outcome((Reply("dossier.invite_closed", (("code", d.code),)),), state=state)
    if state.flow is not None:
        return None
    return survey.start(state, env, dossier=d)
