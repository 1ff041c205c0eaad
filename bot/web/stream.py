"""The web chat's event stream (server-sent events): a visitor's messages after the last one
their page showed, then each new one as it is appended.

A stream is woken at once by this process's appends (``WebBus``) and looks every
:data:`POLL_S` seconds for rows another process appended, so several bot processes behind
one address still deliver everything. The first pass ends with a ``ready`` event saying
whether the visitor has any message yet and whether they are inside a task.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.web import CHANNEL, WebBus
from bot.limits import WebLimit
from storage import read_transaction
from storage.queries.web import in_a_flow, messages_after

POLL_S = 2.0
#: A comment line now and then, so proxies do not close a quiet stream.
KEEPALIVE_S = 15.0
#: How long the browser waits before it reconnects on its own.
RETRY_MS = 2000


def cursor(raw: str | None) -> int:
    """The last message id the page showed (``Last-Event-ID`` or ``?after=``); 0 if none."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return 0
    return int(raw)


class Streams:
    """The open streams of this process, counted per address (the bus counts per visitor)."""

    def __init__(self, engine: AsyncEngine, bus: WebBus, stop: asyncio.Event) -> None:
        self.engine = engine
        self.bus = bus
        self.stop = stop
        self._by_address: dict[str, int] = {}

    def full(self, chat: str, where: str) -> bool:
        return (
            self.bus.streams(chat) >= WebLimit.STREAMS_PER_VISITOR
            or self._by_address.get(where, 0) >= WebLimit.STREAMS_PER_ADDRESS
        )

    async def stream(self, chat: str, where: str, after: int) -> AsyncGenerator[str, None]:
        self._by_address[where] = self._by_address.get(where, 0) + 1
        try:
            yield f"retry: {RETRY_MS}\n\n"
            first = True
            quiet = 0.0
            async with self.bus.listen(chat) as wake:
                while True:
                    wake.clear()
                    async with read_transaction(self.engine) as conn:
                        rows = await messages_after(conn, chat, after, WebLimit.HISTORY)
                        busy = await in_a_flow(conn, CHANNEL, chat) if first else False
                    for row in rows:
                        body = {**row.body, "id": row.id}
                        if row.has_data:
                            body["src"] = f"/chat/media/{row.id}"
                        yield f"id: {row.id}\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"
                        after = row.id
                    if first:
                        ready = {"empty": after == 0, "busy": busy}
                        yield f"event: ready\ndata: {json.dumps(ready)}\n\n"
                        first = False
                    if self.stop.is_set():
                        return  # the bot stops: the page reconnects to the next process
                    if len(rows) >= WebLimit.HISTORY:
                        continue
                    if await _woken(wake, self.stop, POLL_S):
                        quiet = 0.0
                    else:
                        quiet += POLL_S
                        if quiet >= KEEPALIVE_S:
                            quiet = 0.0
                            yield ": keepalive\n\n"
        finally:
            left = self._by_address.get(where, 1) - 1
            if left > 0:
                self._by_address[where] = left
            else:
                self._by_address.pop(where, None)


async def _woken(wake: asyncio.Event, stop: asyncio.Event, seconds: float) -> bool:
    """Waits for a wake-up (True), or for ``seconds`` or the stop (False)."""
    waits = [asyncio.create_task(wake.wait()), asyncio.create_task(stop.wait())]
    try:
        done, _ = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Also when the browser leaves and the stream is cancelled here: a waiter left
        # pending is later "destroyed but pending" in the log.
        for task in waits:
            task.cancel()
        # ... and waited for, so they are finished here even if the loop stops right after.
        await asyncio.gather(*waits, return_exceptions=True)
    return waits[0] in done
