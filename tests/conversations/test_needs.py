"""What the engine declares it needs for an event, table-driven."""

from __future__ import annotations

import pytest

from conversations import Choice, Command, ConversationState, Inbound, Text
from conversations.needs import Lookups, needs

IDLE = ConversationState("vi")
SURVEY = ConversationState("vi", flow="survey", step="1.1", data={"rid": 5, "receipt": 12})
LOOKUP = ConversationState("vi", flow="lookup", step="phone", data={"code": "PA-2026-000001"})
STAFF = ConversationState("vi", flow="staff", step="note", data={"case": "PA-2026-000002"})
DRAFT = ConversationState("vi", flow="complaint", step="describe")
CODE = "PA-2026-123456"


@pytest.mark.parametrize(
    ("state", "event", "admin", "expected"),
    [
        (IDLE, Command("start", "TOK"), False, Lookups(receipt_token="TOK")),
        (IDLE, Command("batdau", " TOK "), False, Lookups(receipt_token="TOK")),
        (IDLE, Command("menu", "TOK"), False, Lookups(receipt_token="TOK")),
        (IDLE, Command("START@sipas_bot", "TOK"), False, Lookups(receipt_token="TOK")),
        (IDLE, Command("start"), False, Lookups()),
        (IDLE, Command("khaosat", "TOK"), False, Lookups()),
        (SURVEY, Choice("1.1:5"), False, Lookups(receipt_id=12)),
        (SURVEY, Command("start", "OTHER"), False, Lookups(receipt_token="OTHER", receipt_id=12)),
        (IDLE, Command("tracuu", CODE.lower()), False, Lookups(case_codes=frozenset({CODE}))),
        (IDLE, Choice(f"rate:{CODE}:5"), False, Lookups(case_codes=frozenset({CODE}))),
        (IDLE, Choice(f"case:{CODE}:take"), True, Lookups(case_codes=frozenset({CODE}))),
        (IDLE, Choice(f"supp:{CODE}"), False, Lookups(case_codes=frozenset({CODE}))),
        (IDLE, Choice("menu:survey"), False, Lookups()),
        (IDLE, Text(f"mã {CODE}"), False, Lookups(case_codes=frozenset({CODE}))),
        (IDLE, Text("pa 2026 000001"), False, Lookups(case_codes=frozenset({"PA-2026-000001"}))),
        (IDLE, Text(f"hỏi về {CODE}"), False, Lookups()),
        (
            LOOKUP,
            Text("0912345678"),
            False,
            Lookups(case_codes=frozenset({"PA-2026-000001"})),
        ),
        (
            STAFF,
            Text(f"trùng với {CODE}"),
            True,
            Lookups(case_codes=frozenset({"PA-2026-000002", CODE})),
        ),
        (IDLE, Command("hoso"), True, Lookups(open_cases=True)),
        (IDLE, Command("cases"), True, Lookups(open_cases=True)),
        (IDLE, Command("hoso"), False, Lookups()),
        (IDLE, Command("hoso", CODE), True, Lookups(case_codes=frozenset({CODE}))),
        (DRAFT, Text("mô tả"), False, Lookups(complaints_today=True)),
    ],
    ids=[
        "start-token", "batdau-alias", "menu-alias", "start-with-bot-name", "start-bare",
        "other-command-arg", "survey-receipt", "start-in-survey", "lookup-lowercase",
        "rate-button", "case-button", "supplement-button", "menu-button", "code-in-idle-text",
        "spaced-code-in-idle-text", "code-inside-idle-sentence",
        "lookup-flow", "staff-note", "staff-list", "staff-list-alias", "list-not-admin",
        "case-by-code", "drafting",
    ],
)  # fmt: skip
def test_needs(state: ConversationState, event: Inbound, admin: bool, expected: Lookups) -> None:
    assert needs(state, event, admin=admin) == expected
