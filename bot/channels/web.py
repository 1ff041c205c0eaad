"""The web chat channel: a visitor's browser as a chat, behind the same small interface.

Inbound: the page posts what the visitor typed or pressed; :func:`parse_post` turns it into
an engine event (pure). Outbound: the outbox sender hands each message to :class:`WebChannel`,
which appends it to ``web_messages`` and wakes the visitor's open event streams; the page
reads everything after the last message it showed whenever it (re)connects, so nothing is
lost on a reload, a dropped connection or a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.zalo_codes import typed_code
from bot.errors import PermanentSendError
from bot.limits import WebLimit
from bot.runtime.replies import Capabilities
from conversations import (
    MAX_COMMAND_ARG_CHARS,
    MAX_INBOUND_CHARS,
    Attachment,
    Choice,
    Command,
    Inbound,
    InboundEvent,
    Origin,
    Text,
    clean_text,
)
from conversations.limits import ALLOWED_DOCUMENT_TYPES
from jobs.attachments import ALLOWED_IMAGE_TYPES, sniffed_type
from jobs.event_keys import stable_event_id
from storage import read_transaction, write_transaction
from storage.outbound import EditMessage, ImageMessage, Outbound, TextMessage
from storage.queries.web import WebMessage, append_message, purge, upload

CHANNEL = "web"
log = logging.getLogger("bot.web_chat")
#: The page shows texts (any length: it scrolls), redraws a message in place, shows charts.
CAPABILITIES = Capabilities(kinds=frozenset({"text", "edit", "image"}), max_text=20_000)
#: Typed text of this shape is a receipt code from the slip (as on Zalo): it opens its survey.
RECEIPT_CODE = re.compile(rf"^[A-Za-z0-9_-]{{16,{MAX_COMMAND_ARG_CHARS}}}$")
#: The page's own id for each post: a retried post is recognised and dropped.
CLIENT_ID = r"^[A-Za-z0-9_-]{8,64}$"
#: Choice ids are short ASCII (the engine's contract, Telegram's 64-byte callback data).
CHOICE_ID = r"^[\x21-\x7e]{1,64}$"

Clock = Callable[[], datetime]


class ChatPost(BaseModel):
    """What the page posts: a typed text, or a pressed button with the message it was on."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=CLIENT_ID)
    # Any length the body cap lets through (``WebLimit.MAX_JSON_BODY``): ``parse_text`` keeps
    # one character over the engine's limit and the real length, so that the engine says the
    # text is too long, and how long, as on the other channels (never a bare 422).
    text: str | None = Field(default=None, max_length=WebLimit.MAX_JSON_BODY)
    choice: str | None = Field(default=None, pattern=CHOICE_ID)
    message: int | None = Field(default=None, ge=1, le=2**62)


def visitor_chat_id(token: str) -> str:
    """The contact's id for a visitor's cookie: a hash, so the database never holds the
    secret that the browser shows to prove who it is."""
    return "w" + hashlib.sha256(b"web-visitor\0" + token.encode()).hexdigest()[:40]


def parse_text(text: str) -> Inbound | None:
    """A typed line: a command, a receipt code from the slip, or text (cleaned first; a line
    of only invisible characters reaches the engine as an empty text, which says so)."""
    if not text:
        return None
    text = clean_text(text)
    stripped = text
    if stripped.startswith("/"):
        head, _, arg = stripped.partition(" ")
        return Command(head[1:33].lower(), arg.strip()[:MAX_COMMAND_ARG_CHARS])
    if RECEIPT_CODE.fullmatch(stripped):
        return Command("start", stripped)
    # The short code printed large on the slip (4821-7730-15), however typed.
    return typed_code(stripped) or Text.typed(text, MAX_INBOUND_CHARS + 1)


def origin_of(pressed: WebMessage | None, choice_id: str) -> Origin | None:
    """The message whose button was pressed, so the engine can show the answer on it."""
    if pressed is None:
        return None
    label = next(
        (str(c[1]) for c in pressed.body.get("choices") or () if str(c[0]) == choice_id), None
    )
    return Origin(str(pressed.id), str(pressed.body.get("text", "")), label)


def parse_post(post: ChatPost, chat_id: str, pressed: WebMessage | None) -> InboundEvent | None:
    """The engine event a post means (None for a blank text)."""
    payload: Inbound | None
    origin = None
    if post.choice is not None:
        payload = Choice(post.choice)
        origin = origin_of(pressed, post.choice)
    elif post.text is not None:
        payload = parse_text(post.text)
    else:
        payload = None
    if payload is None:
        return None
    return InboundEvent(_event_id(chat_id, post.id), CHANNEL, chat_id, payload, origin=origin)


def upload_event(
    chat_id: str, client_id: str, token: str, name: str, mime: str, size: int
) -> InboundEvent:
    """An uploaded file, stored under ``token``, as the attachment event the engine takes.

    ``mime`` is what the bytes are (:func:`sniff_type`): a picture goes as a photo, a kind
    of document the complaint keeps as a document, anything else as a file we do not take
    (the engine refuses it at once with its message; the name decides nothing)."""
    if mime in ALLOWED_IMAGE_TYPES:
        payload = Attachment("photo", size, token, name, mime)
    elif mime in ALLOWED_DOCUMENT_TYPES:
        payload = Attachment("document", size, token, name, mime)
    else:
        payload = Attachment("other", size, token, name, mime)
    return InboundEvent(_event_id(chat_id, client_id), CHANNEL, chat_id, payload)


def command_event(chat_id: str, client_id: str, name: str, arg: str = "") -> InboundEvent:
    """A command the web channel itself sends for the visitor (a kiosk's fresh survey)."""
    return InboundEvent(_event_id(chat_id, client_id), CHANNEL, chat_id, Command(name, arg))


def _event_id(chat_id: str, client_id: str) -> str:
    """The post's id: a hash of the chat and the page's random id for the post, so that a
    post sent again is recognised (on any process, after a restart) while the id kept in
    ``processed_events`` names no chat (``jobs.event_keys``)."""
    return stable_event_id("post", chat_id, client_id)


def sniff_type(data: bytes) -> str:
    """The file's type from its bytes (``filetype``, as the attachments job reads them), not
    from what the browser claims; ``application/octet-stream`` for a kind we do not keep
    (programs, web pages, archives, unknown bytes)."""
    sniffed = sniffed_type(data, "document") or sniffed_type(data, "photo")
    return sniffed[0] if sniffed else "application/octet-stream"


def body_of(message: Outbound) -> tuple[dict[str, Any], bytes | None]:
    """A message as the page receives it (JSON), with the bytes of a picture apart."""
    match message:
        case TextMessage(text, choices):
            return {"kind": "text", "text": text, "choices": [list(c) for c in choices]}, None
        case EditMessage(message_id, text, choices):
            if not (message_id.isascii() and message_id.isdigit()):
                raise PermanentSendError("edit of a message that is not the web chat's")
            body = {"kind": "edit", "target": int(message_id), "text": text}
            return {**body, "choices": [list(c) for c in choices]}, None
        case ImageMessage(data, _name, caption, summary):
            return {"kind": "image", "text": caption, "alt": summary or caption}, data
    raise PermanentSendError(f"the web chat cannot show a {message.kind}")


class WebBus:
    """Wakes a visitor's open event streams in this process when a message is appended.

    Other processes' appends are found by the streams' own short poll, so several bot
    processes behind one address still deliver every message."""

    def __init__(self) -> None:
        self._waiting: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    def notify(self, chat_id: str) -> None:
        for event in self._waiting.get(chat_id, ()):
            event.set()

    def streams(self, chat_id: str) -> int:
        return len(self._waiting.get(chat_id, ()))

    @contextlib.asynccontextmanager
    async def listen(self, chat_id: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiting[chat_id].add(event)
        try:
            yield event
        finally:
            self._waiting[chat_id].discard(event)
            if not self._waiting[chat_id]:
                del self._waiting[chat_id]


class WebChannel:
    """The outbox's view of the web chat: sending is appending to the visitor's messages."""

    name = CHANNEL
    capabilities = CAPABILITIES

    def __init__(self, engine: AsyncEngine, bus: WebBus, clock: Clock) -> None:
        self.engine = engine
        self.bus = bus
        self.clock = clock

    async def send(self, chat_id: str, message: Outbound) -> None:
        body, data = body_of(message)
        async with write_transaction(self.engine) as conn:
            await append_message(conn, chat_id, body, self.clock(), data)
        self.bus.notify(chat_id)


#: Delivered messages are a delivery buffer, not an archive (the outbox keeps no text
#: either); uploads wait here only until the attachments job has copied them.
MESSAGES_KEPT = timedelta(hours=24)
UPLOADS_KEPT = timedelta(days=2)
PURGE_EVERY_S = 600.0


async def read_upload(engine: AsyncEngine, token: str) -> bytes:
    """The attachments job's download for the web channel: the stored upload's bytes."""
    async with read_transaction(engine) as conn:
        found = await upload(conn, token)
    if found is None:
        raise PermanentSendError("upload no longer kept")
    return found.data


async def purge_loop(
    engine: AsyncEngine, clock: Clock, stop: asyncio.Event, every_s: float = PURGE_EVERY_S
) -> None:
    """Drops old delivered messages and uploads, every ``every_s`` seconds until ``stop``."""
    while not stop.is_set():
        now = clock()
        try:
            async with write_transaction(engine) as conn:
                dropped = await purge(conn, now - MESSAGES_KEPT, now - UPLOADS_KEPT)
            if dropped:
                log.info("job=web_purge dropped=%d", dropped)
        except Exception:
            log.exception("job=web_purge error=failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
