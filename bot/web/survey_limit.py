"""Surveys without a receipt per web address (issue 10, point 7): a fresh cookie is a fresh
chat, so the one-survey-per-chat rule alone lets one client fill the index. Each post of the
web chat carries its address's marks for the current period (``InboundEvent.address_marks``);
the dispatcher refuses such a survey once all of them are recorded, and records the first
free one when one is submitted (``bot.runtime.recorders``).

A mark is ``HMAC(key, "web-address:<address>:<period>:<n>")`` for n = 1 … the limit, with the
survey marks' key (``storage.queries.survey_marks``, passed in by the dispatcher's settings):
the address is never stored, the marks of one address in two periods cannot be matched, and
they sit among the chats' marks in the same table, in hash order, with no time.
"""

from __future__ import annotations

from datetime import datetime

from conversations.flows.survey import period_key
from storage.queries.survey_marks import survey_mark

#: The name the marks are made under, apart from every channel's chats.
SCOPE = "web-address"


def address_marks(
    key: bytes, address: str, now: datetime, period: str, limit: int
) -> tuple[str, ...]:
    """The marks of ``address`` for the period ``now`` (local time) falls in: ``limit`` of them
    (64 hex characters each); none when the limit or the period rule is off (0, "off")."""
    key_period = period_key(now.date(), period)
    if key_period is None or limit <= 0:
        return ()
    return tuple(survey_mark(key, SCOPE, address, f"{key_period}:{n}") for n in range(1, limit + 1))
