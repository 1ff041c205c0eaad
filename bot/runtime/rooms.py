"""Staff rooms: the Telegram groups named in ADMIN_CHAT_IDS, and where each one is now.

When Telegram upgrades a group to a supergroup the chat gets a new id (``migrate_to_chat_id``)
and the old one refuses every message. A room keeps its configured id as its name: its
officers' conversations stay under "<room>:<user>", the outbox rows already queued keep their
address, and only the sending end asks :meth:`StaffRooms.current` where the room is now. The
move is stored (``staff_rooms``), so a restart or another process knows it; it is logged once
here and said once in the next digest (the setting should be changed to the new id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.rooms import move_room, moved_rooms
from storage.queries.staff_cards import remember_card

log = logging.getLogger("bot.rooms")

CHANNEL = "telegram"


def is_group(chat_id: str) -> bool:
    """Telegram group and supergroup ids are negative; users' private chats positive."""
    return chat_id.startswith("-") and chat_id[1:].isdigit()


def officer_key(room: str, user_id: int | str) -> str:
    """The conversation of one officer in a staff room: what they are in the middle of is
    theirs, never their colleagues' (two officers work on two cases at once)."""
    return f"{room}:{user_id}"


def split_key(chat_id: str) -> tuple[str, str | None]:
    """(the chat to send to, the officer) for a conversation key: "-100…:42" -> ("-100…",
    "42"); a private chat's key is the chat itself."""
    chat, sep, user = chat_id.partition(":")
    return (chat, user) if sep else (chat_id, None)


class StaffRooms:
    """The configured staff groups and their moves, kept in memory, stored on each move."""

    def __init__(
        self, engine: AsyncEngine, configured: Iterable[int | str], clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.configured = frozenset(str(c) for c in configured if is_group(str(c)))
        self._now_at: dict[str, str] = {}  # configured id -> current id
        self._named: dict[str, str] = {}  # current id -> configured id

    async def load(self) -> None:
        """Reads the stored moves (at start, and when a group the bot does not know writes)."""
        async with read_transaction(self.engine) as conn:
            moved = await moved_rooms(conn, CHANNEL)
        for room, current in moved.items():
            self._remember(room, current)

    def _remember(self, room: str, current: str) -> None:
        self._now_at[room] = current
        self._named[current] = room

    def room_of(self, chat_id: str) -> str | None:
        """The room (its configured id) a group chat is, or None when it is not a staff room."""
        if chat_id in self._named:
            return self._named[chat_id]
        return chat_id if chat_id in self.configured else None

    async def find(self, chat_id: str) -> str | None:
        """Like :meth:`room_of`, asking storage when the group is not known here (another
        process may have seen the room move)."""
        found = self.room_of(chat_id)
        if found is None and is_group(chat_id) and self.configured:
            await self.load()
            found = self.room_of(chat_id)
        return found

    def current(self, chat_id: str) -> str:
        """Where to send what is addressed to ``chat_id`` (a room's configured id, or any
        other chat, which is its own address)."""
        return self._now_at.get(chat_id, chat_id)

    async def move(self, old: str, new: str) -> bool:
        """The group ``old`` is now ``new``: stored, logged once. False when ``old`` is no
        staff room (a group the bot is in for nothing) or the move was known."""
        room = self.room_of(old)
        if room is None or self._now_at.get(room) == new or room == new:
            return False
        # Known at once: an update from the new group in the same batch finds its room.
        self._remember(room, new)
        log.warning(
            "event=staff_room_moved room=%s now=%s hint=set ADMIN_CHAT_IDS to the new id",
            room,
            new,
        )
        async with write_transaction(self.engine) as conn:
            await move_room(conn, CHANNEL, room, new, self.clock())
        return True

    async def card_shown(self, chat_id: str, message_id: str, code: str) -> None:
        """Case ``code``'s card is message ``message_id`` in the room ``chat_id`` (by its
        configured id, or the id it has now): kept, so the card is redrawn when the case
        changes from another chat. Nothing for a group that is no staff room."""
        room = self.room_of(chat_id)
        if room is None:
            return
        async with write_transaction(self.engine) as conn:
            await remember_card(conn, CHANNEL, room, message_id, code, self.clock())
