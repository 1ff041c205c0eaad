"""What the engine must be told before it handles an event: the lookups the runtime makes.

The runtime loads exactly what :func:`needs` names and hands it back in :class:`Facts`
(:func:`facts_for`), so no flow name, button prefix or state key is spelled outside
``conversations/`` (goflow's injected assets; STYLE rule 23).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .commands import canonical
from .context import ComplaintFacts, DossierFacts, Facts, ReceiptFacts
from .dossier_events import INVITE_BUTTON
from .effects import ConversationState
from .events import Choice, Command, Inbound, Text
from .flows import complaint, dossier, staff, staff_typed, survey, tracking
from .flows.receipt_codes import is_short_code
from .later import LATER_BUTTON, later_command
from .limits import MAX_INBOUND_CHARS
from .parsing import is_ascii_number
from .resent import asked_code, rate_too_code
from .switching import SWITCH_BUTTON, switch_command
from .typed import read_as

#: Flows whose state names a complaint, and the keys that hold its code.
_CASE_FLOWS = frozenset({tracking.LOOKUP, tracking.SUPPLEMENT, staff.FLOW})
_CASE_KEYS = ("case", "code")
#: Buttons whose id carries a tracking code right after the prefix (``rate:PA-…:5``).
_CASE_BUTTONS = frozenset({"case", "rate", "supp"})
#: Buttons whose id carries a dossier id right after the prefix (``dinv:42``).
_DOSSIER_BUTTONS = frozenset({INVITE_BUTTON, dossier.UNFOLLOW_BUTTON})
#: Commands about the dossiers this chat follows.
_FOLLOWED_COMMANDS = frozenset({"hosocuatoi", "huytheodoi"})


@dataclass(frozen=True, slots=True)
class Lookups:
    """What to look up for one event.

    ``receipt_token``: a receipt by the token printed on the slip (``/start TOKEN`` and its
    aliases); ``receipt_id``: the receipt of the survey in progress; ``case_codes``: tracking
    codes (upper case) named by the event or the conversation; ``open_cases``: the staff list
    of open complaints; ``complaints_today``: how many complaints this contact filed since
    local midnight (the daily limit); ``dossier_token``: a dossier by the token of its slip's
    link (``/start d_<token>``, the follow buttons); ``dossier_ids``: dossiers by id (the
    invitation and stop buttons, the survey of an invitation), each with whether this contact
    follows it; ``followed_dossiers``: the dossiers this contact follows.
    """

    receipt_token: str | None = None
    receipt_id: int | None = None
    case_codes: frozenset[str] = field(default_factory=frozenset)
    open_cases: bool = False
    complaints_today: bool = False
    dossier_token: str | None = None
    dossier_ids: frozenset[int] = field(default_factory=frozenset)
    followed_dossiers: bool = False

    @property
    def dossiers(self) -> bool:
        """Whether anything about dossiers is to be looked up."""
        return bool(self.dossier_token or self.dossier_ids or self.followed_dossiers)


def _codes(text: str) -> set[str]:
    return tracking.codes_in(text[:MAX_INBOUND_CHARS])


def needs(state: ConversationState, event: Inbound, *, admin: bool = False) -> Lookups:
    """The lookups :func:`conversations.handle` needs for ``event`` in ``state``.

    Pure. The command is recognised under every alias (``/batdau TOKEN`` is ``/start``).
    """
    event = read_as(state, event)
    token: str | None = None
    codes: set[str] = set()
    open_cases = False
    dossier_token: str | None = None
    dossier_ids: set[int] = set()
    followed = False
    if isinstance(event, Command):
        name = canonical(event.name)
        arg = event.arg.strip()
        if name == "start" and arg:
            token = arg
            # A short code names a receipt or a dossier's slip (one code space).
            dossier_token = dossier.link_token(arg) or (arg if is_short_code(arg) else None)
        codes |= _codes(arg)
        open_cases = admin and name == "hoso" and (not arg or staff.list_filter(arg) is not None)
        followed = name in _FOLLOWED_COMMANDS
    elif isinstance(event, Choice):
        prefix, _, rest = event.id.partition(":")
        if prefix in _CASE_BUTTONS and rest:
            codes.add(rest.split(":", 1)[0].upper())
        if prefix == SWITCH_BUTTON and rest == "drop":
            token, dossier_token = _switch_token(state, token, dossier_token)
        if prefix == LATER_BUTTON and rest == "yes":
            token, dossier_token = _switch_token(state, token, dossier_token, later_command)
        head = rest.split(":", 1)[0]
        if prefix == dossier.FOLLOW_BUTTON and head:
            dossier_token = head
        elif prefix in _DOSSIER_BUTTONS and is_ascii_number(head) and len(head) < 19:
            dossier_ids.add(int(head))
    elif isinstance(event, Text) and switch_command(state) is not None:
        # "Keep it or drop it?" answered by typing ("2", the label): a drop for a receipt's
        # survey needs that receipt as much as the button does.
        token, dossier_token = _switch_token(state, token, dossier_token)
    elif isinstance(event, Text) and state.flow in _CASE_FLOWS:
        codes |= _codes(event.text)
    elif isinstance(event, Text) and state.flow is None:
        # The offer of a task kept for later, answered by typing ("có", "Làm ngay").
        token, dossier_token = _switch_token(state, token, dossier_token, later_command)
        # At rest, a message that is just a tracking code shows that case.
        code = tracking.whole_code(event.text)
        codes |= {code} if code is not None else set()
        asked = asked_code(state)  # a re-sent notice's question, answered by typing
        codes |= {asked} if asked is not None else set()
        if admin:
            # An officer's typed option names a button of the last case card they saw.
            codes |= staff_typed.shown_codes(state)
            open_cases = True
    rate_too = rate_too_code(state)  # a re-sent rating request a typed digit still answers
    if isinstance(event, Text) and rate_too is not None:
        codes.add(rate_too)
    if state.flow in _CASE_FLOWS:
        codes |= {v for k in _CASE_KEYS if isinstance(v := state.data.get(k), str)}
    receipt = state.data.get("receipt") if state.flow == survey.FLOW else None
    if state.flow == survey.FLOW:
        invited = survey.SurveyData.load(state.data).dossier
        if invited is not None:
            dossier_ids.add(invited)
    return Lookups(
        receipt_token=token,
        receipt_id=receipt if isinstance(receipt, int) and not isinstance(receipt, bool) else None,
        case_codes=frozenset(codes),
        open_cases=open_cases,
        complaints_today=state.flow == complaint.FLOW,
        dossier_token=dossier_token,
        dossier_ids=frozenset(dossier_ids),
        followed_dossiers=followed,
    )


def facts_for(
    lookups: Lookups,
    *,
    admin: bool,
    sender: str,
    receipts_by_token: Mapping[str, ReceiptFacts],
    receipts_by_id: Mapping[int, ReceiptFacts],
    complaints: Mapping[str, ComplaintFacts],
    open_cases: tuple[ComplaintFacts, ...] | None,
    complaints_today: int,
    dossiers_by_token: Mapping[str, DossierFacts] | None = None,
    dossiers_by_id: Mapping[int, DossierFacts] | None = None,
    followed_dossiers: tuple[DossierFacts, ...] = (),
) -> Facts:
    """The facts for one event from what the runtime found for its ``lookups``."""
    if lookups.receipt_token is not None:
        receipt = receipts_by_token.get(lookups.receipt_token)
    elif lookups.receipt_id is not None:
        receipt = receipts_by_id.get(lookups.receipt_id)
    else:
        receipt = None
    return Facts(
        receipt=receipt,
        admin=admin,
        sender=sender,
        complaints={c: complaints[c] for c in lookups.case_codes if c in complaints},
        open_cases=open_cases if lookups.open_cases else None,
        complaints_today=complaints_today if lookups.complaints_today else 0,
        dossier=(
            (dossiers_by_token or {}).get(lookups.dossier_token)
            if lookups.dossier_token is not None
            else None
        ),
        dossiers={i: d for i in lookups.dossier_ids if (d := (dossiers_by_id or {}).get(i))},
        followed_dossiers=followed_dossiers if lookups.followed_dossiers else None,
    )


def _switch_token(
    state: ConversationState,
    token: str | None,
    dossier_token: str | None,
    waiting: Callable[[ConversationState], Command | None] = switch_command,
) -> tuple[str | None, str | None]:
    """The receipt (and dossier link) token of the ``/start TOKEN`` waiting for "keep it or
    drop it?" (or, ``waiting=later_command``, kept for later), or the tokens given when none
    waits."""
    pending = waiting(state)
    if pending is not None and canonical(pending.name) == "start" and pending.arg:
        arg = pending.arg.strip()
        return arg, dossier.link_token(arg) or (arg if is_short_code(arg) else None)
    return token, dossier_token
