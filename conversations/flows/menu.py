"""The idle state: the welcome menu, help and language choice."""

from __future__ import annotations

from dataclasses import replace

from ..effects import ChoiceOption, ConversationState, Outcome, Reply
from ..parsing import match_label

LANGUAGE_CHOICES = (
    ChoiceOption("lang:vi", "language.vi"),
    ChoiceOption("lang:en", "language.en"),
)
MENU_CHOICES = (
    ChoiceOption("menu:survey", "menu.survey"),
    ChoiceOption("menu:complaint", "menu.complaint"),
    ChoiceOption("menu:lookup", "menu.lookup"),
    ChoiceOption("menu:help", "menu.help"),
    ChoiceOption("menu:language", "menu.language"),
)
#: What a citizen may type instead of pressing a menu button (vi and en, without accents).
MENU_WORDS = {
    "menu:survey": ("khao sat", "danh gia", "survey", "rate", "danh gia muc do hai long"),
    "menu:complaint": ("phan anh", "gop y", "kien nghi", "khieu nai", "feedback", "complaint"),
    "menu:lookup": ("tra cuu", "lookup"),
    "menu:help": ("huong dan", "tro giup", "help"),
    "menu:language": ("ngon ngu", "language", "doi ngon ngu"),
}


#: (Which period a chat last submitted a survey in is kept outside the state, see
#: ``effects.MarkSurveyed``: the state a survey leaves is the same on every path. Per-day
#: counts against guessing are in ``ConversationState.daily``, which no task switch resets:
#: see ``daily_counts``.)
KEPT: tuple[str, ...] = ()


def idle(state: ConversationState) -> ConversationState:
    kept = {key: state.data[key] for key in KEPT if key in state.data}
    return replace(state, flow=None, step=None, data=kept, expires_at=None, remind_at=None)


def welcome(agency: str) -> Reply:
    return Reply("menu.welcome", (("agency", agency),), MENU_CHOICES)


def again() -> Reply:
    return Reply("menu.again", choices=MENU_CHOICES)


def forget_ask() -> Reply:
    return Reply(
        "forget.ask",
        choices=(ChoiceOption("forget:yes", "forget.yes"), ChoiceOption("forget:no", "forget.no")),
    )


def language_ask() -> Reply:
    return Reply("language.ask", choices=LANGUAGE_CHOICES)


def match_menu_text(text: str) -> str | None:
    """The menu choice id a typed text means, if any."""
    return match_label(text, MENU_WORDS)


def unknown(state: ConversationState) -> Outcome:
    return Outcome((Reply("menu.unknown", choices=MENU_CHOICES),), state=state)
