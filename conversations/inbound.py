"""The engine's side of the inbound edge: events normalised, options typed instead of pressed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .catalog import LANGUAGES, default_catalog
from .effects import Lines, Reply
from .events import Attachment, Command, Inbound, Text
from .limits import MAX_COMMAND_ARG_CHARS
from .normalise import choices_meant, clean, match_choice
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
    return match_choice(text, _options(asked))


def ambiguous(text: str, asked: Sequence[Reply]) -> Reply | None:
    """When ``text`` is a part of several options' labels ("Trực tuyến" for "Trực tuyến một
    phần" and "Trực tuyến toàn trình"): the hint that names those options, to send before
    the question again; None otherwise."""
    meant = choices_meant(text, _options(asked))
    if len(meant) < 2:
        return None
    shown = {c.id: c for r in asked for c in r.choices}
    names = tuple(Reply(shown[cid].label, shown[cid].params) for cid in meant)
    return Reply("input4.ambiguous", (("typed", text[:60]), ("choices", Lines(names))))


def _options(asked: Sequence[Reply]) -> list[tuple[str, list[str]]]:
    with_choices = [r for r in asked if r.choices]
    if not with_choices:
        return []
    catalog = default_catalog()
    return [
        (c.id, [catalog.format(lang, c.label, c.params) for lang in LANGUAGES])
        for c in with_choices[-1].choices
    ]
