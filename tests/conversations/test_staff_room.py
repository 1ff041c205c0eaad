"""What the staff room itself answers, event by event (``conversations/flows/staff_room.py``).

Table-driven, on the pure function: who may speak there at all, which buttons and texts are
handed on to the staff handling every chat shares (``None``), which get the room's short help,
and how a pending note is cancelled. The transcripts (``tests/transcripts/staff/room*.yaml``)
show the same from the chat's side; they do not see whether a pressed button is closed, nor
the state a cancelled note leaves, which is what a room shared by officers depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conversations.context import ComplaintFacts, Facts
from conversations.effects import ConversationState, Outcome
from conversations.events import Attachment, Choice, Command, Expired, Inbound, Text
from conversations.flows import staff, staff_room
from tests.support.engine import ENV, complaint

CODE = "PA-2026-000123"
OFFICER = "9002"
IDLE = ConversationState(language="vi")
#: An officer pressed "answer & close" on a case card: the room waits for the note.
NOTE_PENDING = ConversationState(
    language="vi", flow=staff.FLOW, step=staff.NOTE, data={"case": CODE, "act": "answer"}
)
#: A hotline call being recorded with the complaint questions (kept by the flow's own rules).
HOTLINE = ConversationState(language="vi", flow="complaint", step="text", data={"kept": 1})


def _case() -> ComplaintFacts:
    return complaint(status="in_progress")


@dataclass(frozen=True)
class Case:
    """One event in the room: what the room answers (None: handed on unchanged)."""

    name: str
    state: ConversationState
    event: Inbound
    #: Reply keys, or None when the room hands the event on.
    replies: tuple[str, ...] | None
    ack: str | None = None
    #: The flow the conversation is in afterwards ("same": unchanged).
    flow_after: str | None = "same"
    admin: bool = True


HELP = (staff_room.HELP,)
CASES = [
    # Not staff: nothing at all, whatever they send, and the state stays.
    Case("stranger text", IDLE, Text("xin chào"), (), admin=False),
    Case("stranger command", IDLE, Command("hoso"), (), admin=False),
    Case("stranger note", NOTE_PENDING, Text("Đã xử lý", reply_to="x"), (), admin=False),
    Case("stranger button", IDLE, Choice(f"case:{CODE}:take"), (), admin=False),
    # Buttons.
    Case("case button, idle", IDLE, Choice(f"case:{CODE}:take"), None),
    Case("case button, note pending", NOTE_PENDING, Choice(f"case:{CODE}:take"), None),
    Case("note button, note pending", NOTE_PENDING, Choice(f"{staff.NOTE}:cancel"), None),
    Case("note button, nothing pending", IDLE, Choice(f"{staff.NOTE}:cancel"), HELP, "close"),
    Case("menu button, idle", IDLE, Choice("menu:survey"), HELP, "close"),
    Case("menu button, note pending", NOTE_PENDING, Choice("menu:survey"), HELP, "close"),
    Case("hotline call's button", HOTLINE, Choice("c.cat:capphep"), None),
    # Text while a note is pending.
    Case("cancel word", NOTE_PENDING, Text("Hủy"), ("cancel.done",), flow_after=None),
    Case("cancel word, no marks", NOTE_PENDING, Text("huy bo"), ("cancel.done",), flow_after=None),
    Case("a mention, not a reply", NOTE_PENDING, Text("@bot đã xong"), HELP),
    Case(
        "stale prompt's reply while pending",
        NOTE_PENDING,
        Text("Đã xong", reply_to="Trả lời & đóng phản ánh PA-2026-000999"),
        ("staff.prompt_stale",),
    ),
    Case(
        "a file for the note",
        NOTE_PENDING,
        Attachment("photo", file_id="f1"),
        ("staff.ask_note.answer",),
    ),
    Case("a wait ran out", NOTE_PENDING, Expired(), None),
    # Text in a hotline call: the complaint questions' own.
    Case("hotline call's text", HOTLINE, Text("Nội dung cuộc gọi"), None),
    Case("hotline call's cancel word", HOTLINE, Text("hủy"), None),
    # Text with nothing pending.
    Case("a case code", IDLE, Text(f"  {CODE.lower()} "), ("staff.case",)),
    Case("an unknown case code", IDLE, Text("PA-2026-000999"), ("staff.unknown_case",)),
    Case(
        "a reply to an answered prompt",
        IDLE,
        Text("Đã xong", reply_to=f"Trả lời & đóng phản ánh {CODE}"),
        ("staff.prompt_stale_idle",),
    ),
    Case("stray text", IDLE, Text("chào cả nhà"), HELP),
    Case("a cancel word, nothing pending", IDLE, Text("hủy"), HELP),
    # Commands.
    Case("staff command", IDLE, Command("hoso"), None),
    Case("staff command, note pending", NOTE_PENDING, Command("baocao"), None),
    Case("hotline: one-to-one only", IDLE, Command("hotline"), HELP),
    Case("citizen command", IDLE, Command("khaosat"), HELP),
    Case("citizen command, note pending", NOTE_PENDING, Command("phananh"), HELP),
    Case("/huy, note pending", NOTE_PENDING, Command("huy"), ("cancel.done",), "close", None),
    Case("/huy, hotline call", HOTLINE, Command("huy"), None),
    Case("/huy, nothing pending", IDLE, Command("huy"), ("staff.room.nothing_pending",)),
]


def _keys(outcome: Outcome) -> tuple[str, ...]:
    return tuple(reply.key for reply in outcome.replies)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_room_answers(case: Case) -> None:
    facts = Facts(admin=case.admin, sender=OFFICER, room=True, complaints={CODE: _case()})
    outcome = staff_room.handle(case.state, case.event, ENV, facts)
    if case.replies is None:
        assert outcome is None
        return
    assert outcome is not None
    keys = _keys(outcome)
    assert keys[: len(case.replies)] == case.replies, keys
    if case.replies == HELP or not case.replies:
        assert keys == case.replies
    assert outcome.ack == case.ack
    after = outcome.state or case.state
    if case.flow_after == "same":
        assert after == case.state
    else:
        assert after.flow == case.flow_after
        assert after.step is None
        assert after.expires_at is None
