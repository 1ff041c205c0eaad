"""A case changed from anywhere redraws its card in every staff room; only the card pressed in
that room itself is redrawn in place. Telegram numbers messages per chat, so a card pressed in
an officer's private chat may carry the same message id as the room's card: it still is not
the room's card (re-tester of issue 12, defect 1)."""

from __future__ import annotations

import pytest

from conversations.context import ComplaintFacts, Facts
from conversations.effects import ConversationState, RedrawCard
from conversations.flows.staff import action
from tests.support.engine import ENV, complaint

CODE = "PA-2026-000123"
ROOM = ("telegram", "-1001", "2")  # the room's card is message 2 of the group
OFFICER = "9002"


def _case() -> ComplaintFacts:
    return complaint(cards=(ROOM,))


def _room_redraws(facts: Facts) -> list[RedrawCard]:
    state = ConversationState(flow=None, step=None, data={}, language="vi")
    outcome = action(state, ENV, facts, CODE, "take", OFFICER)
    return [c for c in outcome.changes if isinstance(c, RedrawCard) and c.room is not None]


@pytest.mark.parametrize(
    ("pressed", "room", "redrawn"),
    [
        ("2", False, 1),  # private chat, its own card happens to be message 2 too
        ("4", False, 1),  # private chat, another id
        ("", False, 1),  # typed on Zalo: nothing pressed
        ("2", True, 0),  # the room's own card pressed: redrawn in place, not twice
        ("7", True, 1),  # another card in the room (the /hoso list): the case's card too
    ],
)
def test_the_rooms_card_follows_a_change_made_anywhere(
    pressed: str, room: bool, redrawn: int
) -> None:
    facts = Facts(
        admin=True, sender=OFFICER, pressed=pressed, room=room, complaints={CODE: _case()}
    )
    assert len(_room_redraws(facts)) == redrawn
