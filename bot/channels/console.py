"""The terminal channel: a chat with the bot in a console, on the same engine and database."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from bot.channels.zalo_codes import typed_code
from bot.runtime.dispatch import Dispatcher
from bot.runtime.replies import Capabilities, adapt
from conversations import (
    MAX_COMMAND_ARG_CHARS,
    Catalog,
    Choice,
    Command,
    Inbound,
    InboundEvent,
    Text,
    clean_text,
)
from conversations.commands import canonical, is_admin_command
from conversations.normalise import is_nav, match_choice
from storage import read_transaction, write_transaction
from storage.outbound import EditMessage, Outbound, TextMessage
from storage.queries.outbox import mark_sent, pending

CHANNEL = "console"
#: The terminal shows text (an answered question as text too); a chart or a spreadsheet is
#: said in words by the runtime.
CAPABILITIES = Capabilities(kinds=frozenset({"text", "edit"}), max_text=1_000_000)


class Requests(Protocol):
    """The worker that answers /ketqua, /baocao, /bantin, /xuatdulieu (the jobs' own)."""

    async def run_once(self) -> int: ...


def parse_line(line: str, choices: Sequence[tuple[str, str]]) -> Inbound | None:
    """What a typed line means: a command, a shown choice (its number, its label or its line
    as shown, :func:`conversations.normalise.match_choice`), a slip's short code, or text.
    An empty line is skipped; a line of only invisible characters is an empty text (the
    engine says so)."""
    if not line.strip("\r\n"):
        return None
    text = clean_text(line)
    if text.startswith("/"):
        name, _, arg = text[1:].partition(" ")
        return Command(name.lower(), arg.strip()[:MAX_COMMAND_ARG_CHARS])
    picked = match_choice(text, [(cid, (label,)) for cid, label in choices])
    if picked is not None:
        return Choice(picked)
    # The short code printed large on the slip (5282-7979-65), however typed, as on every
    # other channel (a shown choice's number is read first: it is never 10 digits).
    return typed_code(text) or Text(text)


def render(message: TextMessage | EditMessage) -> str:
    """A message as the terminal shows it: the text, then its choices numbered from 1, but
    navigation (back, skip, cancel, done), shown as the words to type: a number is always an
    answer (7 at a rating question is no "skip")."""
    lines = [message.text]
    numbered = [label for cid, label in message.choices if not is_nav(cid)]
    lines.extend(f"  {n}. {label}" for n, label in enumerate(numbered, start=1))
    lines.extend(f"  [{label}]" for cid, label in message.choices if is_nav(cid))
    return "\n".join(lines)


class ConsoleChat:
    """Reads lines, hands them to the dispatcher, prints what the outbox holds for this chat.

    ``requests``: the jobs' request worker, run after each line so that what the line asked
    for (a report, the public results) is answered here as on any other channel.
    """

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(
        self,
        dispatcher: Dispatcher,
        catalog: Catalog,
        user: str = "local",
        read_line: Callable[[], str] | None = None,
        out: TextIO | None = None,
        requests: Requests | None = None,
        admin: bool = False,
    ) -> None:
        import sys

        self.requests = requests
        #: Staff commands (/baocao, /bantin, /xuatdulieu, /hoso) are for ``--admin`` only:
        #: whoever runs the console on the server can read the database anyway.
        self.admin = admin
        self.dispatcher = dispatcher
        self.catalog = catalog
        self.user = user[:64]
        self.read_line = read_line or sys.stdin.readline
        self.out = out or sys.stdout
        self.choices: tuple[tuple[str, str], ...] = ()
        self._lines: asyncio.Queue[str] | None = None

    async def run(self, language: str = "vi") -> None:
        self._print(self.catalog.text(language, "console.banner"))
        await self.drain()  # anything queued while the console was closed
        while True:
            line = await self._next_line()
            if not line:
                return
            payload = parse_line(line, self.choices)
            if payload is None:
                continue
            if (
                not self.admin
                and isinstance(payload, Command)
                and is_admin_command(canonical(payload.name))
            ):
                self._print(self.catalog.text(language, "console.staff_only"))
            event = InboundEvent(uuid.uuid4().hex, CHANNEL, self.user, payload, admin=self.admin)
            await self.dispatcher.submit(event)
            await self.drain()

    async def _next_line(self) -> str:
        """The next line typed (\"\" at the end of input). Read by a daemon thread, not the
        default executor: Ctrl+C then quits at once, where ``asyncio.run`` would wait for an
        executor thread blocked in ``readline`` until Enter was pressed."""
        if self._lines is None:
            loop = asyncio.get_running_loop()
            lines: asyncio.Queue[str] = asyncio.Queue()
            self._lines = lines

            def pump() -> None:
                while True:
                    line = self.read_line()
                    try:
                        loop.call_soon_threadsafe(lines.put_nowait, line)
                    except RuntimeError:  # the loop is closed: the console has ended
                        return
                    if not line:
                        return

            threading.Thread(target=pump, name="console-input", daemon=True).start()
        return await self._lines.get()

    async def drain(self) -> None:
        if self.requests is not None:
            await self.requests.run_once()
        engine = self.dispatcher.engine
        now = self.dispatcher.clock()
        async with read_transaction(engine) as conn:
            rows = await pending(conn, CHANNEL, now, chat_id=self.user, limit=1000)
        if not rows:
            return
        for row in rows:
            for part in adapt(row.message, CAPABILITIES):
                await self.send(self.user, part)
        async with write_transaction(engine) as conn:
            await mark_sent(conn, [r.id for r in rows], now)

    async def send(self, chat_id: str, message: Outbound) -> None:
        if isinstance(message, TextMessage | EditMessage):
            self._print(render(message))
            if message.choices:
                self.choices = message.choices

    def _print(self, text: str) -> None:
        self.out.write(text + "\n\n")
        self.out.flush()
