"""Case cards shown in staff rooms: kept by case, the newest few, for redrawing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.telegram import card_code
from bot.runtime.facts import FactsCache
from bot.runtime.rooms import StaffRooms
from conversations.needs import Lookups
from storage import read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.queries.rooms import move_room
from storage.queries.staff_cards import CARDS_PER_CASE, cards_of, remember_card
from storage.schema import complaints

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CODE = "PA-2026-000001"


async def test_cards_are_kept_by_case_newest_first(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        for n in range(CARDS_PER_CASE + 2):
            await remember_card(conn, "telegram", "-4001", str(10 + n), CODE, NOW + timedelta(n))
        await remember_card(conn, "telegram", "-4001", "10", CODE, NOW)  # the same, again
        await remember_card(conn, "telegram", "-4001", "99", "PA-2026-000002", NOW)
    async with read_transaction(engine) as conn:
        found = await cards_of(conn, [CODE, "PA-2026-000003"])
    assert list(found) == [CODE]
    assert [m for _, _, m in found[CODE]] == [str(10 + n) for n in range(CARDS_PER_CASE + 1, 1, -1)]
    assert {(c, r) for c, r, _ in found[CODE]} == {("telegram", "-4001")}


async def test_a_room_remembers_cards_under_its_configured_id(engine: AsyncEngine) -> None:
    """A card sent after the group became a supergroup is kept under the configured id, the
    address every staff message uses; a group that is no staff room keeps nothing."""
    async with write_transaction(engine) as conn:
        await move_room(conn, "telegram", "-4001", "-1004001", NOW)
    rooms = StaffRooms(engine, [-4001], lambda: NOW)
    await rooms.load()
    await rooms.card_shown("-1004001", "7", CODE)
    await rooms.card_shown("-4001", "8", CODE)
    await rooms.card_shown("-5005", "9", CODE)
    async with read_transaction(engine) as conn:
        found = await cards_of(conn, [CODE])
    assert sorted(found[CODE]) == [("telegram", "-4001", "7"), ("telegram", "-4001", "8")]


def test_a_card_is_a_message_with_one_case_s_action_buttons() -> None:
    card = TextMessage("Phản ánh …", ((f"case:{CODE}:take", "Nhận xử lý"),), "staff.case")
    listed = TextMessage("…", ((f"case:{CODE}:view", CODE), ("case:PA-2026-000002:view", "…")))
    assert card_code(card) == CODE
    assert card_code(listed) is None
    assert card_code(TextMessage("Phản ánh …", (), "staff.case")) is None  # closed: no buttons


async def test_a_case_from_the_staff_list_knows_its_room_cards(engine: AsyncEngine) -> None:
    """A case acted on from the list of open cases (a Zalo officer typing a number against the
    card sent to every staff chat) carries its room cards, so the room's card is redrawn
    (re-tester of issue 12, defect 2: a Zalo officer's first take left the group card stale)."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            complaints.insert(),
            {
                "code": CODE,
                "draft_id": 7001,
                "category": "capphep",
                "description": "Công trình lấn chiếm vỉa hè.",
                "status": "new",
                "source": "chat",
                "anonymous": True,
                "language": "vi",
                "created_at": NOW,
                "updated_at": NOW,
                "due_on": (NOW + timedelta(days=14)).date(),
            },
        )
        await remember_card(conn, "telegram", "-4001", "1", CODE, NOW)
    cache = FactsCache(NOW, ZoneInfo("Asia/Ho_Chi_Minh"))
    wanted = Lookups(open_cases=True)
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, wanted)])
    facts = cache.facts(wanted, 1, admin=True, sender="zalo-officer")
    assert facts.open_cases is not None
    [listed] = facts.open_cases
    assert listed.cards == (("telegram", "-4001", "1"),)
