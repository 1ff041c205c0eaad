"""How long a text each step that reads typed text keeps, and what it says beyond that.

The engine refuses a text longer than any step reads (``MAX_INBOUND_CHARS``) before a step
sees it; its hint must still name the limit of the step the citizen is in (a 4,500-character
comment is told the comment's 1,000, not the channel's 4,096). Each flow registers a function
that says its current step's limit; steps without one get the inbound limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .effects import ConversationState, Reply
from .limits import MAX_INBOUND_CHARS


@dataclass(frozen=True, slots=True)
class TextLimit:
    """A step's limit: the hint's catalog key (with ``got`` and ``max``) and the most
    characters the step keeps."""

    key: str
    max: int

    def hint(self, got: int) -> Reply:
        """The "too long" reply for a text of ``got`` characters (its real length)."""
        return Reply(self.key, (("got", got), ("max", self.max)))


#: Any text longer than every step reads (the engine's own limit).
INBOUND = TextLimit("common.too_long", MAX_INBOUND_CHARS)

LimitOf = Callable[[ConversationState], TextLimit | None]
#: Flow name -> what its current step keeps (None: the step reads no free text).
TEXT_LIMITS: dict[str, LimitOf] = {}


def register(flow: str) -> Callable[[LimitOf], LimitOf]:
    def add(limit_of: LimitOf) -> LimitOf:
        TEXT_LIMITS[flow] = limit_of
        return limit_of

    return add


def text_limit(state: ConversationState) -> TextLimit:
    """The limit of the step ``state`` waits at; the inbound limit where it has none."""
    limit_of = TEXT_LIMITS.get(state.flow or "")
    return (limit_of(state) if limit_of else None) or INBOUND
