"""Wrong short receipt codes a chat may send in a day, on every channel.

A receipt's short code (10 digits printed ``4821-7730-15``, see ``bot/channels/zalo_codes``)
opens its survey wherever it is typed: Zalo, Telegram, the web chat, the console; a dossier
slip's code (same shape, same code space) opens the question whether to follow it. Guessing
codes must get nowhere on any of them, so the count lives in the conversation (like the
tracking-code lookup's wrong phone numbers, ``tracking.MAX_LOOKUP_MISSES``), not in an
adapter, and in its daily counts (``daily_counts``), which no task switch resets: after
``MAX_WRONG_CODES`` wrong codes in a local day, codes from that chat are not looked at until
the next day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ..context import Env
from ..daily_counts import WRONG_CODES
from ..effects import ConversationState, Outcome, Reply

#: Wrong short receipt codes a chat may send in a local day; then codes wait for tomorrow.
#: A code has 9 random digits: with a million codes issued, one chat guessing 10 a day hits
#: one about once in 90 days, and a code only opens a survey, never anyone's data.
MAX_WRONG_CODES = 10


def is_short_code(arg: str) -> bool:
    """Whether a ``/start`` argument is a short code, right or wrong: the 8 to 13 digits the
    channels read as one (``zalo_codes.candidate`` / ``near_miss``); a receipt's long token
    has letters, a dossier link begins with ``d_``."""
    return arg.isascii() and arg.isdigit() and 8 <= len(arg) <= 13


def refused(state: ConversationState, env: Env) -> Outcome | None:
    """The answer to a short code from a chat that already sent ``MAX_WRONG_CODES`` wrong
    ones today (the code is not looked at); None while it may still try."""
    if state.daily.today(env.today, WRONG_CODES) < MAX_WRONG_CODES:
        return None
    tomorrow = f"{env.today + timedelta(days=1):%d/%m/%Y}"
    reply = Reply("zalo.code_tries", (("max", MAX_WRONG_CODES), ("when", tomorrow)))
    return Outcome((reply,), state=state)


def counted(before: ConversationState, outcome: Outcome, env: Env, found: bool) -> Outcome:
    """``outcome`` of a short code, with the chat's count of wrong codes carried into its
    state: one more when no receipt or dossier slip has the code (``found`` False; a wrong
    check digit finds none). Receipts and dossier slips share the one daily limit."""
    if found:
        return outcome
    after = outcome.state or before
    daily = before.daily.plus_one(env.today, WRONG_CODES)
    return replace(outcome, state=replace(after, daily=daily))
