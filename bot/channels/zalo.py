"""Zalo Official Account adapter: signed webhook events into engine events, outbox rows into
OA messages. ``verify``, ``parse_event`` and ``render`` are pure; ``ZaloSender`` does the I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Collection, Mapping
from typing import Any

import httpx

from bot.channels.zalo_tokens import TokenStore
from bot.errors import (
    ChatBlocked,
    PermanentSendError,
    RateLimited,
    TransientSendError,
    Unreachable,
)
from conversations import (
    MAX_COMMAND_ARG_CHARS,
    MAX_INBOUND_CHARS,
    Attachment,
    Choice,
    Command,
    Inbound,
    InboundEvent,
    Text,
    clean_text,
)
from storage.queries.outbox import OutboxRow

CHANNEL = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
#: Button payloads come back as the user's text: this prefix tells them from typed text.
CHOICE_PREFIX = "#c:"
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
#: A receipt token sent as a message (from the receipt slip) opens that receipt's survey.
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

log = logging.getLogger("bot.zalo")


class UnreachableOnZalo(Unreachable):
    """Outside Zalo's 7-day window: kept for staff, not retried (error -230/-232)."""


def signature(app_id: str, body: bytes, timestamp: str, oa_secret: str) -> str:
    """Zalo's webhook MAC: plain SHA-256 of app_id + raw body + timestamp + OA secret key."""
    material = app_id.encode() + body + timestamp.encode() + oa_secret.encode()
    return hashlib.sha256(material).hexdigest()


def verify(header: str | None, app_id: str, body: bytes, timestamp: str, oa_secret: str) -> bool:
    if not header or not header.startswith("mac="):
        return False
    expected = signature(app_id, body, timestamp, oa_secret)
    return hmac.compare_digest(header[4:].strip().lower().encode(), expected.encode())


def _looks_like_token(text: str) -> bool:
    return 16 <= len(text) <= MAX_COMMAND_ARG_CHARS and set(text) <= TOKEN_CHARS


def parse_text(text: str) -> Inbound:
    text = clean_text(text)
    stripped = text.strip()
    if stripped.startswith(CHOICE_PREFIX):
        return Choice(stripped[len(CHOICE_PREFIX) : len(CHOICE_PREFIX) + 64])
    if stripped.startswith("/"):
        head, _, arg = stripped.partition(" ")
        return Command(head[1:32].lower(), arg.strip()[:MAX_COMMAND_ARG_CHARS])
    if _looks_like_token(stripped):
        return Command("start", stripped)
    return Text(text[: MAX_INBOUND_CHARS + 1])


def parse_event(
    event: Mapping[str, Any], oa_id: str, admins: Collection[str] = ()
) -> InboundEvent | None:
    """The engine event a webhook event means; None for what the bot does not act on
    (echoes of the OA's own messages, events of other kinds)."""
    name = str(event.get("event_name", ""))
    if name.startswith("oa_send") or name.startswith("oa_"):
        return None  # our own messages echoed back: never user input
    if name in ("follow", "unfollow"):
        follower = event.get("follower") or {}
        user = clean_text(str(follower.get("id", ""))) if isinstance(follower, Mapping) else ""
        if not user or name == "unfollow":
            return None
        stamp = clean_text(str(event.get("timestamp", "")))
        return InboundEvent(f"follow:{user}:{stamp}", CHANNEL, user, Command("start"))
    sender = event.get("sender") or {}
    user = clean_text(str(sender.get("id", ""))) if isinstance(sender, Mapping) else ""
    if not user or user == oa_id:
        return None
    message = event.get("message") or {}
    if not isinstance(message, Mapping) or not message.get("msg_id"):
        return None
    msg_id = clean_text(str(message["msg_id"]))
    payload: Inbound
    if name == "user_send_text":
        payload = parse_text(str(message.get("text", "")))
    elif name in ("user_send_image", "user_send_file", "user_send_gif"):
        payload = _attachment(name, message)
    elif name.startswith("user_send_"):
        payload = Attachment("other")
    else:
        return None
    return InboundEvent(msg_id, CHANNEL, user, payload, admin=user in admins)


def _attachment(name: str, message: Mapping[str, Any]) -> Attachment:
    items = message.get("attachments") or []
    first = items[0] if isinstance(items, list) and items else {}
    body = first.get("payload", {}) if isinstance(first, Mapping) else {}
    url = clean_text(str(body.get("url", ""))) if isinstance(body, Mapping) else ""
    if name == "user_send_image":
        return Attachment("photo", 0, url, "", "image/jpeg")
    size = str(body.get("size", "0")) if isinstance(body, Mapping) else "0"
    file_name = clean_text(str(body.get("name", ""))) if isinstance(body, Mapping) else ""
    kind = clean_text(str(body.get("type", ""))).lower() if isinstance(body, Mapping) else ""
    mime = {
        "pdf": "application/pdf",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "png": "image/png",
    }.get(kind, kind)
    # isascii: str.isdigit also accepts "²", which int() refuses.
    known = size.isascii() and size.isdigit()
    return Attachment("document", int(size) if known else 0, url, file_name, mime)


def render(payload: Mapping[str, Any], hint: str) -> dict[str, Any]:
    """An outbox row as an OA message: buttons when they fit (at most 5), otherwise the
    options numbered in the text, which the engine reads when typed."""
    text = str(payload.get("text", ""))
    choices = [(str(c[0]), str(c[1])) for c in payload.get("choices") or []]
    message: dict[str, Any] = {}
    if choices and len(choices) <= MAX_BUTTONS:
        message["attachment"] = {
            "type": "template",
            "payload": {
                "buttons": [
                    {
                        "title": label[:MAX_BUTTON_TITLE],
                        "type": "oa.query.hide",
                        "payload": CHOICE_PREFIX + choice_id,
                    }
                    for choice_id, label in choices
                ]
            },
        }
    elif choices:
        # Words the engine reads when typed (done, back, skip, cancel) are not numbered.
        words = (":back", ":skip", ":cancel", ":done")
        nav = [label for cid, label in choices if cid.endswith(words)]
        body = [label for cid, label in choices if not cid.endswith(words)]
        lines = [f"{n}. {label}" for n, label in enumerate(body, start=1)]
        text = "\n".join([text, *lines] + ([hint.format(words=", ".join(nav))] if nav else []))
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    message["text"] = text or "…"
    return message


class ZaloSender:
    """Sends outbox rows to the OA API; one token refresh and one retry on -216."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, tokens: TokenStore, hint: str):
        self.client = client
        self.url = base_url.rstrip("/") + "/v3.0/oa/message/cs"
        self.tokens = tokens
        self.hint = hint

    async def send(self, row: OutboxRow) -> None:
        if row.payload.get("op") in ("edit", "photo", "document", "file"):
            if row.payload.get("op") == "edit":
                return  # Zalo cannot edit a sent message; the next question says enough
            raise PermanentSendError("files are not sent on Zalo")
        body = {"recipient": {"user_id": row.chat_id}, "message": render(row.payload, self.hint)}
        for attempt in (1, 2):
            token = await self.tokens.access_token()
            try:
                response = await self.client.post(
                    self.url, json=body, headers={"access_token": token}, timeout=10
                )
            except httpx.HTTPError as exc:
                raise TransientSendError(type(exc).__name__) from exc
            if response.status_code >= 500:
                raise TransientSendError(f"HTTP {response.status_code}")
            try:
                answer = response.json()
            except ValueError as exc:
                raise TransientSendError("not JSON") from exc
            code = int(answer.get("error", 0) or 0)
            if code == 0:
                return
            if code == -216 and attempt == 1:
                await self.tokens.refresh(force_if=token)  # once, then one retry
                continue
            if code in (-230, -232):
                raise UnreachableOnZalo(f"zalo {code}")
            if code == -213:
                raise ChatBlocked(f"zalo {code}")
            if code == -32:
                raise RateLimited(60)
            raise PermanentSendError(f"zalo {code}")
        raise PermanentSendError("zalo -216 after refresh")
