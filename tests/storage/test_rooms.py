"""Staff rooms that moved, and the room registry the Telegram adapter asks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.rooms import StaffRooms, is_group, officer_key, split_key
from storage import read_transaction, write_transaction
from storage.queries.rooms import move_room, moved_rooms, rooms_told, untold_rooms

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_a_move_is_stored_once_and_told_once(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        assert await move_room(conn, "telegram", "-4001", "-1004001", NOW)
        assert not await move_room(conn, "telegram", "-4001", "-1004002", NOW)  # moved again
        assert await move_room(conn, "telegram", "-4009", "-1004009", NOW)
    async with read_transaction(engine) as conn:
        assert await moved_rooms(conn, "telegram") == {"-4001": "-1004002", "-4009": "-1004009"}
        assert await moved_rooms(conn, "zalo") == {}
        untold = await untold_rooms(conn)
    assert untold == [("telegram", "-4001", "-1004002"), ("telegram", "-4009", "-1004009")]
    async with write_transaction(engine) as conn:
        await rooms_told(conn, [("telegram", "-4001")], NOW)
    async with read_transaction(engine) as conn:
        assert await untold_rooms(conn) == [("telegram", "-4009", "-1004009")]


async def test_the_registry_knows_rooms_by_either_id(engine: AsyncEngine) -> None:
    rooms = StaffRooms(engine, [-4001, 9001, "-1007"], lambda: NOW)
    assert rooms.configured == {"-4001", "-1007"}  # a person's private chat is no room
    assert rooms.room_of("-4001") == "-4001"
    assert rooms.room_of("-4002") is None
    assert not await rooms.move("-4002", "-1004002")  # not a staff room: nothing to move
    assert await rooms.move("-4001", "-1004001")
    assert not await rooms.move("-4001", "-1004001")  # the second service message
    assert rooms.room_of("-1004001") == "-4001"
    assert rooms.current("-4001") == "-1004001"
    assert rooms.current("9001") == "9001"
    # Another process learns the move from storage when the new group writes.
    other = StaffRooms(engine, ["-4001"], lambda: NOW)
    assert other.room_of("-1004001") is None
    assert await other.find("-1004001") == "-4001"
    assert await other.find("-5555") is None


@pytest.mark.parametrize(
    ("key", "chat", "officer"),
    [("-4001:9001", "-4001", "9001"), ("7001", "7001", None), ("-1001:2", "-1001", "2")],
)
def test_officer_keys(key: str, chat: str, officer: str | None) -> None:
    assert split_key(key) == (chat, officer)
    if officer is not None:
        assert officer_key(chat, officer) == key


@pytest.mark.parametrize(
    ("chat", "group"), [("-4001", True), ("-1001234567890", True), ("7001", False), ("-", False)]
)
def test_groups_by_id(chat: str, group: bool) -> None:
    assert is_group(chat) is group
