"""An officer's typed choice: "1", "Nhận xử lý", "nhan xu ly" read as a case card's button.

A channel without room for the card's buttons (Zalo: at most five) numbers them in the text,
and the officer types one. That typed option is read against the last case card (or case
list) this chat was shown, through the same option matching the engine uses for a
citizen's typed answer, never against the citizen's menu: an officer's typed number never
opens the survey. The last card is the newer of two: the one the engine showed in this chat
(remembered in the state, as displayed), and the one every staff chat was sent when a case
was filed or a citizen added to it (rebuilt as it was sent then).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..context import ComplaintFacts, Facts
from ..effects import ChoiceOption, ConversationState, Lines, Outcome, RedrawCard, Reply
from ..inbound import typed_choice
from ..normalise import fold
from .cards import staff_choices

#: State key: the case buttons this chat was last shown, and when.
SHOWN = "staff_shown"
_PREFIX = "case:"
#: The history's author of a citizen's supplement (the staff chats get the card again).
_CITIZEN = "citizen"
#: At most this many buttons are remembered (a card has 7, a case list 10).
_MAX_SHOWN = 12
Shown = tuple[tuple[str, str, dict[str, str]], ...]
Sent = tuple[datetime, tuple[ChoiceOption, ...]]


def shown_codes(state: ConversationState) -> set[str]:
    """The cases of the buttons this chat was last shown (to be looked up)."""
    return {cid.split(":")[1] for cid, _, _ in _shown(state)[1] if cid.count(":") >= 2}


def read(state: ConversationState, text: str, facts: Facts) -> str | Outcome | None:
    """The case button an officer's typed ``text`` names, an answer when it is a number that
    names none (never the citizen's menu), or None: the text is read as usual."""
    choices = _last_choices(state, facts)
    picked = typed_choice(text, (Reply("staff.typed", choices=choices),)) if choices else None
    if picked is not None:
        return picked
    folded = fold(text)
    if folded.isdigit() and len(folded) <= 3:
        return Outcome((Reply("staff5.typed_no_card"),), state=state)
    return None


def with_open_cases(facts: Facts) -> Facts:
    """``facts`` with the open cases among the cases it knows (a typed button names one)."""
    extra = {c.code: c for c in facts.open_cases or () if c.code not in facts.complaints}
    if not extra:
        return facts
    return replace(facts, complaints={**facts.complaints, **extra})


def remember(outcome: Outcome, before: ConversationState, now: datetime) -> Outcome:
    """The outcome, its state remembering the case buttons it shows (the last message with
    case buttons, or a card redrawn anew), so that a typed number reads against them."""
    shown: tuple[ChoiceOption, ...] = ()
    for reply in (
        *outcome.replies,
        *(c.reply for c in outcome.changes if isinstance(c, RedrawCard)),
    ):
        if reply.choices and all(c.id.startswith(_PREFIX) for c in reply.choices):
            shown = reply.choices
    if not shown:
        return outcome
    state = outcome.state or before
    kept = [[c.id, c.label, dict(_str_params(c))] for c in shown[:_MAX_SHOWN]]
    data = {**state.data, SHOWN: {"at": now.isoformat(), "choices": kept}}
    return replace(outcome, state=replace(state, data=data))


def named_prompts(outcome: Outcome, name: str) -> Outcome:
    """In a staff room, each prompt (a reply asked for) names the officer it waits on, so
    that two officers' prompts for the same case differ. The name follows the prompt: its
    head (the words before the case code) still names its action."""
    replies = tuple(
        replace(r, key="staff5.prompt_for", params=(("prompt", Lines((r,))), ("name", name)))
        if r.placeholder is not None
        else r
        for r in outcome.replies
    )
    return replace(outcome, replies=replies)


def _str_params(choice: ChoiceOption) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in choice.params if isinstance(v, str))


def _shown(state: ConversationState) -> tuple[datetime | None, Shown]:
    raw = state.data.get(SHOWN)
    if not isinstance(raw, dict):
        return None, ()
    try:
        at = datetime.fromisoformat(str(raw.get("at", "")))
    except ValueError:
        return None, ()
    choices = []
    for item in raw.get("choices") or ():
        if isinstance(item, list) and len(item) == 3 and isinstance(item[2], dict):
            params = {str(k): str(v) for k, v in item[2].items()}
            choices.append((str(item[0]), str(item[1]), params))
    return at, tuple(choices)


def _last_choices(state: ConversationState, facts: Facts) -> tuple[ChoiceOption, ...]:
    at, shown = _shown(state)
    sent = _last_sent(facts.open_cases or ())
    if sent is not None and (at is None or sent[0] > at):
        return sent[1]
    return tuple(ChoiceOption(cid, label, tuple(params.items())) for cid, label, params in shown)


def _last_sent(cases: tuple[ComplaintFacts, ...]) -> Sent | None:
    """The card every staff chat was last sent (a new case, or a citizen's supplement),
    with its buttons as they were then, and when."""
    best: Sent | None = None
    for case in cases:
        moments = [(case.created_at, "new")]
        moments += [(h.at, "in_progress") for h in case.history if h.actor == _CITIZEN]
        at, status = max(moments, key=lambda m: m[0])
        if best is None or at > best[0]:
            assignee = case.assignee if status != "new" else None
            best = (at, staff_choices(case.code, status, assignee))
    return best
