"""The prompts staff answer with text (a note, an answer, a body, a code): how each is asked,
and which prompt a reply answers (the case it names, the action its head names)."""

from __future__ import annotations

from functools import cache

from ..catalog import LANGUAGES, default_catalog
from ..effects import ChoiceOption, ConversationState, Outcome, Reply
from ..events import Inbound, Text
from .tracking import find_code

NOTE = "s.note"
NEEDS_NOTE = frozenset({"ask", "answer", "oos", "dup", "note"})


def prompt(state: ConversationState) -> list[Reply]:
    """The question a staff note is waiting on: the action's own prompt, its case named."""
    act = str(state.data.get("act", ""))
    if act not in NEEDS_NOTE:
        return [Reply("common.waiting_input")]  # a state stored by an older version
    return [ask_note(str(state.data.get("case", "")), act)]


def ask_note(code: str, act: str) -> Reply:
    """The prompt for an action's text: a cancel button in a private chat, a reply field
    (with the case code in its hint) where the bot only sees replies to it."""
    return Reply(
        f"staff.ask_note.{act}",
        (("code", code),),
        (ChoiceOption(f"{NOTE}:cancel", "complaint.cancel"),),
        placeholder=Reply(f"staff.placeholder.{act}", (("code", code),)),
    )


def prompt_case(event: Inbound) -> str | None:
    """The case the bot's message that ``event`` replies to names (a prompt, a card), or
    None when the text replies to none of its messages or to one naming no case."""
    if isinstance(event, Text) and event.reply_to:
        return find_code(event.reply_to)
    return None


def prompt_action(event: Inbound, code: str) -> str | None:
    """The action whose prompt for case ``code`` the text replies to, or None when it replies
    to no such prompt. A prompt carries its action in its head, the words before the case
    code ("Trả lời & đóng phản ánh PA-…"), the same in every prompt of that action whatever
    the case: the head is looked up, nothing is rendered."""
    if not isinstance(event, Text) or not event.reply_to:
        return None
    seen = " ".join(event.reply_to.split())
    at = seen.find(code)
    if at < 0:
        return None
    return prompt_heads().get(seen[:at].strip())


@cache
def prompt_heads() -> dict[str, str]:
    """Each prompt's head (its words before the case code), in every language -> its action.
    Read once from the catalogs; two actions sharing a head would be ambiguous, so such a
    head names none (a catalog test keeps them apart)."""
    catalog = default_catalog()
    heads: dict[str, str] = {}
    ambiguous: set[str] = set()
    for act in sorted(NEEDS_NOTE):
        for lang in LANGUAGES:
            template = catalog.text(lang, f"staff.ask_note.{act}")
            head = " ".join(template.partition("{code}")[0].split())
            if heads.get(head, act) != act:
                ambiguous.add(head)
            heads[head] = act
    return {head: act for head, act in heads.items() if head not in ambiguous}


def stale_prompt(state: ConversationState, event: Inbound) -> Outcome | None:
    """Text answering a prompt (it names its case) while no action waits for text: the
    prompt was answered or cancelled already; nothing is done, the officer is told how to
    start again. None when the text answers no such prompt."""
    named = prompt_case(event)
    if named is None:
        return None
    return Outcome((Reply("staff.prompt_stale_idle", (("named", named),)),), state=state)
