"""The engine's side of the inbound edge: events normalised, options typed instead of pressed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .catalog import LANGUAGES, default_catalog
from .effects import Reply
from .events import Attachment, Command, Inbound, Text
from .limits import MAX_COMMAND_ARG_CHARS
from .normalise import clean, match_choice
from .parsing import CANCEL_WORDS as CANCEL_WORDS


def cleaned(event: Inbound) -> Inbound:
    """The event with every text in it normalised (:func:`normalise.clean`): the channels do
    it at the edge; this repeats it (idempotent) for events that came another way."""
    if isinstance(event, Text):
        return replace(event, text=clean(event.text))
    if isinstance(event, Command):
        name = clean(event.name).lower()
        return replace(event, name=name, arg=clean(event.arg)[:MAX_COMMAND_ARG_CHARS])
    if isinstance(event, Attachment) and event.caption:
        return replace(event, caption=clean(event.caption))
    return event


def typed_choice(text: str, asked: Sequence[Reply]) -> str | None:
    """The id of the button of the question last asked (the last reply with buttons) that
    ``text`` names, in either language (:func:`normalise.match_choice`); None otherwise."""
    with_choices = [r for r in asked if r.choices]
    if not with_choices:
        return None
    catalog = default_catalog()
    options = [
        (c.id, [catalog.format(lang, c.label, c.params) for lang in LANGUAGES])
        for c in with_choices[-1].choices
    ]
    return match_choice(text, options)
