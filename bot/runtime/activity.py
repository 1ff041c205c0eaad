"""What the log says of the process's work: one aggregate line a minute, never one per event
or per message (issue 10, anonymity).

A line per event or per message, even with no chat and only at DEBUG, was a survey's route
whenever one citizen was active alone: how many lines (questions shown: the apology after a
"late" result, the 5.x criteria), which were typed (a comment), how many replies each got.
A count over a minute is the same route when that citizen is alone in it, so nothing said
within a survey is counted at all:

- ``events``, ``ms_p50``, ``ms_p99``, ``ms_max``: events handled outside a survey (complaints,
  dossier follow-ups, staff, commands), counted and timed from load to queued replies;
- ``errors``: the kinds of failure seen (``what:ErrorClass``, sorted), without counts, from
  every chat, a survey's included: how many sends failed would count a survey's messages.

No messages-sent count either: which queued messages belong to a survey is not known where
they leave (a survey's thanks is said as it ends), and any count of them is its route.
The line is written only when the minute had something to say, so a minute with nothing but
surveys in it writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

log = logging.getLogger("bot.activity")

#: Seconds between two aggregate lines.
EVERY_S = 60.0
#: Latencies kept per line; past it the rest of the minute is counted but not timed (a
#: burst must not grow memory; the percentiles of the first ones are enough to see load).
MAX_SAMPLES = 20_000


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of ``ordered`` (ascending, non-empty), ``share`` in (0, 1]."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Activity:
    """One process's tally between two lines. Not thread-safe: used on the event loop."""

    def __init__(self) -> None:
        self._events = 0
        self._ms: list[float] = []
        self._errors: set[str] = set()

    def _reset(self) -> None:
        self._events, self._ms, self._errors = 0, [], set()

    def handled(self, ms: float, *, in_survey: bool) -> None:
        """One event handled in ``ms`` milliseconds; one said within a survey is not counted
        (see the module's docstring)."""
        if in_survey:
            return
        self._events += 1
        if len(self._ms) < MAX_SAMPLES:
            self._ms.append(ms)

    def failed(self, what: str, error: str) -> None:
        """A failure of kind ``what`` (``send_retry``, ``send_dead``…) with the error's class
        name; only which kinds were seen is kept, not how often."""
        self._errors.add(f"{what}:{error}")

    def take(self) -> tuple[int, str] | None:
        """The line since the last one, as (level, text), and a fresh tally; None when there
        is nothing to say."""
        if not self._events and not self._errors:
            return None
        parts = [f"event=activity events={self._events}"]
        if self._ms:
            ordered = sorted(self._ms)
            parts.append(
                f"ms_p50={_percentile(ordered, 0.5):.1f} ms_p99={_percentile(ordered, 0.99):.1f}"
                f" ms_max={ordered[-1]:.1f}"
            )
        if self._errors:
            parts.append("errors=" + ",".join(sorted(self._errors)))
        level = logging.WARNING if self._errors else logging.INFO
        self._reset()
        return level, " ".join(parts)

    def flush(self) -> None:
        """Writes the line of what was tallied since the last one, if anything."""
        said = self.take()
        if said is not None:
            log.log(said[0], "%s", said[1])

    async def run(self, stop: asyncio.Event, every_s: float = EVERY_S) -> None:
        """Writes the line every ``every_s`` seconds until ``stop``; the caller flushes the
        last one once the senders have drained."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
            if not stop.is_set():
                self.flush()


#: The process's tally. Module-level like the loggers it writes to: the dispatcher, the
#: outbox senders and the channels all report to the one line without being wired to it.
ACTIVITY = Activity()
