"""Messages held for a chat and sent again when it writes (Zalo's 7-day window, issue 15): the
question one of them asks is the live question of that chat.

A complaint's notice that could not reach its sender (outside Zalo's window) waits until they
write again, then goes first, before the answer to what they wrote. When it asks something
(the rating request's 1-5 buttons, the request for more's "Gửi bổ sung"), that question is
the one the citizen has in front of them: the message that reopened the window is read as an
answer to it ("5", "Rất hài lòng"), and otherwise answered by saying how to answer it, never
by "not understood" and the menu; a number typed next is still its answer, until another
question is shown (the menu after the rating, a task started).

The channel tells the engine what was re-sent (``InboundEvent.resent``: each message's button
ids); :func:`reopened` turns that into the chat's state before the event is handled.

A notice delivered normally (inside Zalo's window, or on Telegram) asks the same question: the
runtime keeps :func:`question_of` it with the chat's conversation when it queues the notice,
and :func:`noticed` makes it the live question when the chat next writes (re-tester #2: "5"
typed for a rating request delivered in the window opened the language picker, "4" the menu).
Only "just re-sent" (what the re-sent message is) belongs to the re-send alone.

A re-sent rating request may be followed at once by another question: the message that
reopened the window opened a task (a receipt's short code: the survey's consent screen). The
re-sent request says "or type a digit from 1 to 5", so while that task's first question is
still unanswered (:data:`RATE_TOO`), a digit 1-5 typed, or a rating's label that is none of
the task's options, is the rating (:func:`typed_rating`); the task's question is then asked
again (D7: "3" was read by the consent step, "please choose", and no rating was kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .effects import ChoiceOption, ConversationState, Outcome, Reply
from .flows import menu
from .flows.tracking import rating_choices
from .inbound import typed_choice
from .parsing import is_ascii_number

#: State key: the question a re-sent message asks, ``"rate:PA-…"`` or ``"supp:PA-…"``.
ASKED = "asked"
#: State key: messages were just re-sent; the event that reopened the window is answered
#: with what they are (once: :func:`settle` drops it).
FRESH = "resent"
#: State key (in a task): the tracking code of a rating request re-sent just before the
#: task's first question, which a digit typed there still answers (:func:`typed_rating`).
RATE_TOO = "rate_too"
_KINDS = ("rate", "supp")


def reopened(state: ConversationState, resent: Sequence[Sequence[str]]) -> ConversationState:
    """``state`` as the event that made messages ``resent`` (each one's button ids, in the
    order they go) meets it: at rest, the question of the last one that asks one is live.
    A chat in the middle of a task keeps its own question (their buttons still work)."""
    if not resent or state.flow is not None:
        return state
    data = {k: v for k, v in state.data.items() if k != ASKED}
    data[FRESH] = True
    asked = next((ids for ids in reversed(resent) if ids), ())
    question = _question(asked)
    if question is not None:
        data[ASKED] = question
    return replace(state, data=data)


def noticed(state: ConversationState, question: str | None) -> ConversationState:
    """``state`` as the chat's next event meets it after a notice asking ``question``
    (:func:`question_of`; None: none since its last event) was queued for it: at rest, that
    question is live. A chat in the middle of a task keeps its own question."""
    asked = _question((question,)) if question else None
    if asked is None or state.flow is not None:
        return state
    return replace(state, data={**state.data, ASKED: asked})


def question_of(reply: Reply) -> str | None:
    """The question a notice to a case's reporter asks by its buttons, as :func:`noticed`
    takes it (``"rate:CODE"``, ``"supp:CODE"``); None when it asks none."""
    return _question(tuple(c.id for c in reply.choices))


def _question(ids: Sequence[str]) -> str | None:
    """``"rate:CODE"`` for a rating request's buttons, ``"supp:CODE"`` for the request for
    more's; None for anything else."""
    if not ids:
        return None
    kind, _, rest = ids[0].partition(":")
    code = rest.split(":", 1)[0]
    return f"{kind}:{code}" if kind in _KINDS and code else None


def asked_code(state: ConversationState) -> str | None:
    """The tracking code of the live question's case (for the lookups), if any."""
    asked = state.data.get(ASKED)
    if state.flow is not None or not isinstance(asked, str):
        return None
    return asked.partition(":")[2] or None


def live(state: ConversationState) -> Reply | None:
    """The live question at rest, to ask again (and to read a typed option against)."""
    code = asked_code(state)
    if code is None:
        return None
    if str(state.data[ASKED]).startswith("rate:"):
        return Reply("zalo7.rate_ask", (("code", code),), rating_choices(code))
    more = ChoiceOption(f"supp:{code}", "notice.send_more")
    return Reply("zalo7.supp_ask", (("code", code),), (more,))


def unclear(state: ConversationState) -> Outcome | None:
    """What a message at rest that is no answer gets after a re-send: just after it, what the
    re-sent message is and how to answer it (it is right above: not shown again); later,
    the live question again. None when nothing was re-sent (the menu's "not understood")."""
    if state.flow is not None:
        return None
    question = live(state)
    if state.data.get(FRESH):
        code = asked_code(state)
        if question is None or code is None:
            return Outcome((Reply("zalo7.resent"), menu.again()), state=state)
        kind = str(state.data[ASKED]).partition(":")[0]
        return Outcome((Reply(f"zalo7.resent_{kind}", (("code", code),)),), state=state)
    if question is None:
        return None
    return Outcome((Reply("zalo7.unclear"), question), state=state)


def settle(outcome: Outcome, before: ConversationState | None = None) -> Outcome:
    """``outcome`` (of an event met in ``before``) with the re-send's marks kept only as long
    as they hold: "just re-sent" for one event, the live question until another question is
    shown or a task starts; a re-sent rating request whose event opened a task stays
    answerable by typing (:data:`RATE_TOO`) while that task's first question is asked."""
    new = outcome.state
    if new is None:
        return outcome
    new = _rate_too(before, new)
    if ASKED not in new.data and FRESH not in new.data:
        return outcome if new is outcome.state else replace(outcome, state=new)
    data = {k: v for k, v in new.data.items() if k != FRESH}
    shown = [r.choices for r in outcome.replies if r.choices]
    question = live(new)
    if new.flow is not None or (shown and (question is None or shown[-1] != question.choices)):
        data.pop(ASKED, None)
    return replace(outcome, state=replace(new, data=data))


def _rate_too(before: ConversationState | None, new: ConversationState) -> ConversationState:
    """``new`` with :data:`RATE_TOO` set when the event that met the re-sent rating request
    (``before``: at rest, just re-sent) opened a task; kept while that task stays at the
    step it was at (its question re-asked); dropped otherwise."""
    code: str | None = None
    if before is not None and before.flow is None and before.data.get(FRESH):
        asked = before.data.get(ASKED)
        if isinstance(asked, str) and asked.startswith("rate:"):
            code = asked.partition(":")[2] or None
        code = code if new.flow is not None else None
    elif before is not None and before.flow is not None and new.flow == before.flow:
        kept = new.data.get(RATE_TOO)
        code = kept if isinstance(kept, str) and new.step == before.step else None
    if code is None:
        if RATE_TOO not in new.data:
            return new
        return replace(new, data={k: v for k, v in new.data.items() if k != RATE_TOO})
    return replace(new, data={**new.data, RATE_TOO: code})


def rate_too_code(state: ConversationState) -> str | None:
    """The tracking code of a re-sent rating request a digit typed in this task's current
    step still answers (:data:`RATE_TOO`), if any (for the lookups)."""
    code = state.data.get(RATE_TOO)
    return code if state.flow is not None and isinstance(code, str) and code else None


def typed_rating(state: ConversationState, text: str, asked: Sequence[Reply]) -> str | None:
    """The rating button ``text`` typed in a task names (``"rate:CODE:N"``) while a re-sent
    rating request is still answerable (:data:`RATE_TOO`): a digit 1-5 (what that request
    told the citizen to type; the task's question shows buttons, not numbers), or a rating's
    label that is none of the task's options (``asked``: its question). None otherwise."""
    code = rate_too_code(state)
    if code is None:
        return None
    choices = rating_choices(code)
    bare = text.strip()
    if is_ascii_number(bare) and len(bare) == 1 and 1 <= int(bare) <= 5:
        return choices[int(bare) - 1].id
    if typed_choice(text, asked) is not None or is_ascii_number(bare):
        return None
    return typed_choice(text, (Reply("zalo7.rate_ask", (("code", code),), choices),))


def without_rate_too(state: ConversationState) -> ConversationState:
    """``state`` once the re-sent rating request is answered: a digit is the task's again."""
    return replace(state, data={k: v for k, v in state.data.items() if k != RATE_TOO})
