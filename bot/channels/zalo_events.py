"""Reading Zalo's webhook: the signature on each event, how old an event may be, and what
each event means to the engine (``parse_event``, ``parse_text``). Pure: the webhook's I/O is
``bot/channels/zalo_inbound.py``; sending is ``bot/channels/zalo.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.channels.zalo_codes import candidate as short_code
from bot.channels.zalo_codes import near_miss, typed_code
from bot.channels.zalo_models import MalformedEvent, check, model_for, zalo_id
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
from conversations.commands import canonical
from jobs.event_keys import process_event_id

CHANNEL = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
#: Button payloads come back as the user's text: this prefix tells them from typed text.
CHOICE_PREFIX = "#c:"

#: A receipt token sent as a message (from the receipt slip) opens that receipt's survey.
#: Only the shape ``bot.cli.receipt_tokens.new_token`` issues counts (24 characters of the
#: URL-safe alphabet, never starting with "-"), and a dossier's link, the same behind "d_" (the
#: appointment slip): other words a citizen types stay text. Even that shape is read as a
#: token only where the chat does not wait for text (``conversations.typed.read_as``, the
#: short code's rule): at a description, a name or a comment it is what the citizen wrote.
RECEIPT_TOKEN = re.compile(r"(?:d_)?[A-Za-z0-9_][A-Za-z0-9_-]{23}")

#: When Zalo sends an event again after a non-200 answer: "Zalo retries after 30 s, 5 min,
#: 15 min, 30 min, 1 h, with ``num_retry``" (``shared/reference/ZALO.md``, Webhook). Read as
#: pauses between tries, the longer of the two readings: the last retry comes about 1 h 50 min
#: after the event, and a redelivery after our own outage is still accepted then.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
)


def replay_horizon(window: timedelta) -> timedelta:
    """How long after its timestamp an event may still arrive: the window, plus every retry
    (its msg_id must be remembered at least that long)."""
    return window + sum(RETRY_SCHEDULE, timedelta())


def signature(app_id: str, body: bytes, timestamp: str, oa_secret: str) -> str:
    """Zalo's webhook MAC: plain SHA-256 of app_id + raw body + timestamp + OA secret key."""
    material = app_id.encode() + body + timestamp.encode() + oa_secret.encode()
    return hashlib.sha256(material).hexdigest()


def verify(header: str | None, app_id: str, body: bytes, timestamp: str, oa_secret: str) -> bool:
    if not header or not header.startswith("mac="):
        return False
    expected = signature(app_id, body, timestamp, oa_secret)
    return hmac.compare_digest(header[4:].strip().lower().encode(), expected.encode())


def event_time(stamp: str) -> datetime | None:
    """The moment an event's ``timestamp`` (milliseconds since the epoch) names; None when
    it is not such a number."""
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 15:
        return None
    return datetime.fromtimestamp(int(stamp) / 1000, tz=UTC)


def too_old(stamp: str, now: datetime, window: timedelta) -> bool:
    """True for a replayed capture: an event stamped more than ``replay_horizon(window)``
    before ``now``, or more than ``window`` after it (a forged clock); a stamp that is no time
    at all counts as too old.

    ``window`` is how late a first delivery may come (clock skew, queueing). A retry keeps
    the event's own timestamp (it is what the signature covers), so Zalo's retries after a
    5xx of ours (say the database was down for 20 minutes) come up to the whole
    ``RETRY_SCHEDULE`` later still, and are accepted; nothing legitimate comes later than
    that. Within that horizon a capture sent again is refused by its msg_id instead
    (``jobs.event_keys``, remembered far longer than the horizon).
    """
    at = event_time(stamp)
    if at is None:
        return True
    return now - at > replay_horizon(window) or at - now > window


def _looks_like_token(text: str) -> bool:
    return RECEIPT_TOKEN.fullmatch(text) is not None


def parse_text(text: str) -> Inbound:
    text = clean_text(text)
    stripped = text.strip()
    if stripped.startswith(CHOICE_PREFIX):
        return Choice(stripped[len(CHOICE_PREFIX) : len(CHOICE_PREFIX) + 64])
    if stripped.startswith("/"):
        head, _, arg = stripped.partition(" ")
        name = head[1:32].lower()
        code = (short_code(arg) or near_miss(arg)) if canonical(name) == "start" else None
        return Command(name, code or arg.strip()[:MAX_COMMAND_ARG_CHARS])
    if _looks_like_token(stripped):
        return Command("start", stripped, typed=stripped)
    # The slip's short code, however typed: its digits are looked up (a wrong check digit
    # finds nothing, and the citizen is asked to check the code); digits of the wrong
    # length get the code's format as a hint. Both count as wrong codes.
    return typed_code(stripped) or Text.typed(text, MAX_INBOUND_CHARS + 1)


def parse_event(
    event: Mapping[str, Any],
    oa_id: str,
    admins: Collection[str] = (),
    names: Mapping[str, str] | None = None,
) -> InboundEvent | None:
    """The engine event a webhook event means; None for what the bot does not act on
    (echoes of the OA's own messages, events of other kinds). An officer (in ``admins``) is
    named as ``names`` says (Zalo's messages carry no name), never by their raw id."""
    name = str(event.get("event_name", ""))
    if name.startswith("oa_send") or name.startswith("oa_"):
        return None  # our own messages echoed back: never user input
    if model_for(name) is None:
        return None  # unfollow, seen and receipt events, and kinds Zalo adds later
    # Each kind the bot acts on is checked against its model first: what it reads below is
    # there, with the right type (a text that is an object is refused, not printed).
    check(name, event)
    if name == "follow":
        user = zalo_id(event["follower"]["id"])
        if user is None:
            raise MalformedEvent("follow: follower.id")
        stamp = clean_text(str(event.get("timestamp", "")))
        # Names neither the user nor the time in ``processed_events`` (``jobs.event_keys``);
        # Zalo only sends the event again when it was not taken, so a per-process key does.
        follow_id = process_event_id("follow", user, stamp)
        return InboundEvent(follow_id, CHANNEL, user, Command("start"))
    user = zalo_id(event["sender"]["id"])
    msg_id = zalo_id(event["message"]["msg_id"])
    if user is None or msg_id is None:
        raise MalformedEvent(f"{name}: sender.id or message.msg_id")
    if user == oa_id:
        return None
    message = event["message"]
    payload: Inbound
    if name == "user_send_text":
        payload = parse_text(str(message.get("text", "")))
    elif name in ("user_send_image", "user_send_file", "user_send_gif"):
        payload = _attachment(name, message)
    else:
        # A sticker, location, voice … : named for the hint (Zalo's own event names).
        what = _STRAY.get(name.removeprefix("user_send_"), "other")
        payload = Attachment("other", caption=_caption(message), what=what)
    if user not in admins:
        return InboundEvent(msg_id, CHANNEL, user, payload)
    name = (names or {}).get(user) or "Zalo"
    return InboundEvent(msg_id, CHANNEL, user, payload, admin=True, sender_name=name[:64])


#: The most attachments of one event read as files: more than a complaint keeps (its limit
#: is counted and told by the engine), few enough that one event cannot flood a batch.
MAX_EVENT_FILES = 20


def parse_events(
    event: Mapping[str, Any],
    oa_id: str,
    admins: Collection[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[InboundEvent]:
    """What a webhook event means, as ``parse_event``; an image or file event whose
    ``attachments`` list holds several (images picked together) is one engine event per
    attachment (up to ``MAX_EVENT_FILES``), sharing an album (``group``), so all are kept
    and answered once; the text sent with them is the first one's caption. The first keeps
    the event's ``msg_id``; the others are ``msg_id#n``, so a redelivery is recognised."""
    first = parse_event(event, oa_id, admins, names)
    if first is None:
        return []
    message = event.get("message") or {}
    items = message.get("attachments") if isinstance(message, Mapping) else None
    name = str(event.get("event_name", ""))
    if name not in _FILE_EVENTS or not isinstance(items, list) or len(items) < 2:
        return [first]
    group = f"zalo:{first.event_id}"[:64]
    parts: list[InboundEvent] = []
    for index, item in enumerate(items[:MAX_EVENT_FILES]):
        payload = _attachment(name, {**message, "attachments": [item]})
        payload = replace(payload, caption=payload.caption if index == 0 else "", group=group)
        event_id = first.event_id if index == 0 else f"{first.event_id}#{index}"
        parts.append(replace(first, event_id=event_id, payload=payload))
    return parts


#: The events whose attachments are files the complaint may keep.
_FILE_EVENTS = ("user_send_image", "user_send_file")

#: Zalo's ``user_send_<kind>`` events the bot cannot read, as the hint names them.
_STRAY = {
    "sticker": "sticker",
    "audio": "voice",
    "video": "video",
    "location": "location",
    "business_card": "contact",
    "link": "link",
}


def _caption(message: Mapping[str, Any]) -> str:
    """The text sent with an image or file (Zalo puts it in the message's ``text``)."""
    return clean_text(str(message.get("text") or ""))[:MAX_INBOUND_CHARS]


def _attachment(name: str, message: Mapping[str, Any]) -> Attachment:
    items = message.get("attachments") or []
    first = items[0] if isinstance(items, list) and items else {}
    body = first.get("payload", {}) if isinstance(first, Mapping) else {}
    url = clean_text(str(body.get("url", ""))) if isinstance(body, Mapping) else ""
    if name == "user_send_image":
        return Attachment("photo", 0, url, "", "image/jpeg", _caption(message))
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
    return Attachment(
        "document", int(size) if known else 0, url, file_name[:200], mime[:100], _caption(message)
    )
