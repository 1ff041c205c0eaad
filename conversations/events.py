"""Inbound events: the closed list of things a citizen (or the clock) can do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Text:
    """Free text typed by the citizen.

    ``message_id``: the channel's id of the message, where it has one (Telegram), so that a
    later edit of the same message can be recognised; ``edited``: this is such an edit
    (Telegram's ``edited_message``), carrying the message's new text.
    """

    text: str
    message_id: str = ""
    edited: bool = False
    kind: Literal["text"] = "text"
    #: How many characters the citizen typed, when the channel kept only the start of it
    #: (``typed``); 0 when ``text`` is all of it.
    length: int = 0
    #: The start of the bot's own message this one answers (Telegram's reply to a message),
    #: "" when it answers none: a staff prompt names its case, so an answer to an older
    #: prompt is recognised as such.
    reply_to: str = ""

    @classmethod
    def typed(cls, text: str, keep: int) -> Text:
        """``text`` cut to ``keep`` characters, remembering its real length: the engine can
        then say how long it was (5,000 characters, not the 4,097 it was handed)."""
        return cls(text[:keep], length=len(text) if len(text) > keep else 0)


@dataclass(frozen=True, slots=True)
class Choice:
    """A button press: the short ASCII id the engine attached to a choice."""

    id: str
    kind: Literal["choice"] = "choice"


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command, name without the slash, lower case, with its argument.

    ``typed`` is the whole plain message when a channel read it as this command (a receipt's
    short code typed without ``/start``); empty for a command the user wrote as one. A step
    waiting for free text takes such a message as the text it is (:func:`read_as`)."""

    name: str
    arg: str = ""
    kind: Literal["command"] = "command"
    typed: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A photo or document; the survey does not take files, complaints will.

    ``media`` "other" is what is neither (a sticker, voice, location, contact, video note,
    poll …), named in ``what`` for the hint. ``caption``: the text sent with the file, read
    as text where a step waits for text. ``group``: the album it belongs to (Telegram's
    ``media_group_id``, or a burst of images the runtime gathered), so an album is
    acknowledged once.
    """

    media: Literal["photo", "document", "other"]
    size: int = 0
    file_id: str = ""  # the channel's id for fetching the bytes later
    name: str = ""
    mime: str = ""
    caption: str = ""
    group: str = ""
    what: str = ""
    kind: Literal["attachment"] = "attachment"


@dataclass(frozen=True, slots=True)
class Expired:
    """Sent by the expiry job when a survey was left untouched too long."""

    kind: Literal["expired"] = "expired"


@dataclass(frozen=True, slots=True)
class TimedOut:
    """Sent by the reminder job when a survey has stalled (once, in daytime)."""

    kind: Literal["timed_out"] = "timed_out"


Inbound = Text | Choice | Command | Attachment | Expired | TimedOut


@dataclass(frozen=True, slots=True)
class Origin:
    """The channel message whose button was pressed, so its answer can be shown on it."""

    message_id: str
    text: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One inbound event with its envelope: who sent it, on which channel, and its unique id.

    ``event_id`` is unique per channel (Telegram's update_id, Zalo's msg id, the expiry job's
    key) so a redelivered event is recognised and dropped.
    """

    event_id: str
    channel: str
    external_id: str
    payload: Inbound
    origin: Origin | None = None
    #: The adapter checked the sender against the configured administrators.
    admin: bool = False
    #: The person who sent it, where that is not the chat (an officer in a staff group:
    #: ``external_id`` is then "<group>:<user>", one conversation per officer), and their name.
    sender_id: str = ""
    sender_name: str = ""
    #: It comes from a staff room (a Telegram group named in ADMIN_CHAT_IDS): the bot speaks
    #: there only to staff, as staff.
    room: bool = False
    #: A group not named in ADMIN_CHAT_IDS, where an administrator wrote to the bot (a group
    #: that became a supergroup unseen, a room set up wrongly): its id, so they are told what
    #: to set; "" otherwise.
    stray_room: str = ""
    #: Messages held for this chat and put back in line as it wrote (Zalo's window
    #: reopened), in order: each one's button ids (``conversations.resent``).
    resent: tuple[tuple[str, ...], ...] = ()
    #: Where a web chat post came from, as keyed marks (``bot.web.survey_limit``: an HMAC of
    #: the client address and the survey period, one per survey without a receipt that
    #: address may complete in the period; never the address itself). Empty: no limit by
    #: address (a counter kiosk, other channels).
    address_marks: tuple[str, ...] = ()
    #: The account of the channel it came through, where one database may serve several
    #: (a Telegram bot, a Zalo OA), as ``jobs.event_keys.account_mark`` makes it: the
    #: channel's ids are unique per account only, so the key that recognises a redelivery
    #: names it. "" for channels whose ids are ours (web, jobs).
    via: str = ""
