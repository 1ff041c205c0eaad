"""A notice held outside Zalo's window and re-sent when the citizen writes: its question is
the live one (``conversations.resent``). Re-tester: the message that reopened the window got
"not understood" and the menu, and "5" typed for the rating opened the language picker.
Re-tester #2: the same for a notice delivered normally, inside the window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations import Choice, Command, ConversationState, Facts, Inbound, Reply, Text, handle
from conversations.context import ComplaintFacts
from conversations.flows import staff
from conversations.needs import needs
from conversations.resent import noticed, question_of, reopened
from tests.support.engine import ENV

CODE = "PA-2026-000777"
NOW = datetime(2026, 3, 12, 2, 0, tzinfo=UTC)
RATING = tuple(f"rate:{CODE}:{n}" for n in range(1, 6))
MORE = (f"supp:{CODE}",)


def _case(status: str) -> ComplaintFacts:
    return ComplaintFacts(
        code=CODE,
        category="other",
        status=status,
        description="Một phản ánh để thử.",
        source="zalo",
        anonymous=True,
        name=None,
        phone=None,
        language="vi",
        created_at=NOW,
        due_on=NOW.date(),
        owned=True,
        reachable=True,
    )


def _walk(resent: tuple[tuple[str, ...], ...], status: str, *events: Inbound) -> list[list[str]]:
    """The reply keys of each event, the first one meeting the messages ``resent``."""
    state = reopened(ConversationState("vi"), resent)
    said: list[list[str]] = []
    for event in events:
        codes = needs(state, event).case_codes
        facts = Facts(complaints={c: _case(status) for c in codes if c == CODE})
        outcome = handle(state, event, ENV, facts)
        said.append([r.key for r in outcome.replies])
        state = outcome.state or state
    return said


RESOLVED = "resolved"
PLEASE_CHOOSE = ["common.please_choose", "survey.consent"]
CONSENTED = ["survey.question"]
ANSWERED = ["survey.question.multi"]
CASES = [
    # (re-sent button ids, status, events, reply keys of each)
    ((RATING,), RESOLVED, [Text("5")], [["rating.thanks", "menu.again"]]),
    ((RATING,), RESOLVED, [Text("Rất hài lòng")], [["rating.thanks", "menu.again"]]),
    (
        ((), RATING),
        RESOLVED,
        [Text("Cho tôi hỏi kết quả"), Text("4"), Text("5")],
        [["zalo7.resent_rate"], ["rating.thanks", "menu.again"], ["language.ask"]],
    ),
    (
        (RATING,),
        RESOLVED,
        [Text("alo"), Text("alo"), Text("2")],
        [
            ["zalo7.resent_rate"],
            ["zalo7.unclear", "zalo7.rate_ask"],
            ["rating.thanks", "menu.again"],
        ],
    ),
    # Another question shown (the menu) ends the rating's turn: "5" is the menu's again.
    ((RATING,), RESOLVED, [Command("start"), Text("5")], [["menu.welcome"], ["language.ask"]]),
    (
        (RATING,),
        RESOLVED,
        [Choice(f"rate:{CODE}:3"), Text("5")],
        [["rating.thanks", "menu.again"], ["language.ask"]],
    ),
    (
        (MORE,),
        "waiting_citizen",
        [Text("Chào anh"), Text("1")],
        [["zalo7.resent_supp"], ["supplement.ask"]],
    ),
    # A notice without buttons: said what it is, and the menu (no "not understood").
    (
        ((),),
        "in_progress",
        [Text("Chào anh"), Text("5")],
        [["zalo7.resent", "menu.again"], ["language.ask"]],
    ),
    # Nothing re-sent: as before.
    ((), RESOLVED, [Text("alo"), Text("5")], [["menu.unknown"], ["language.ask"]]),
    # D7: the message that met the re-sent rating request opened a task (the survey's
    # consent): a digit typed next is the rating the request asked for, and the consent
    # screen comes again; once answered, a digit is the task's again.
    (
        (RATING,),
        RESOLVED,
        [Command("khaosat"), Text("3"), Text("3")],
        [
            ["survey.consent"],
            ["rating.thanks", "survey.consent"],
            ["common.please_choose", "survey.consent"],
        ],
    ),
    (
        (RATING,),
        RESOLVED,
        [Command("khaosat"), Text("Rất hài lòng")],
        [["survey.consent"], ["rating.thanks", "survey.consent"]],
    ),
    (
        (RATING,),
        RESOLVED,
        [Command("khaosat"), Text("Đồng ý"), Text("1")],
        [["survey.consent"], CONSENTED, ANSWERED],
    ),
    # Nothing re-sent: a digit at the consent step is the consent's.
    ((), RESOLVED, [Command("khaosat"), Text("3")], [["survey.consent"], PLEASE_CHOOSE]),
]


@pytest.mark.parametrize(("resent", "status", "events", "expected"), CASES)
def test_the_re_sent_question_is_live(
    resent: tuple[tuple[str, ...], ...],
    status: str,
    events: list[Inbound],
    expected: list[list[str]],
) -> None:
    assert _walk(resent, status, *events) == expected


def test_a_chat_in_a_task_keeps_its_own_question() -> None:
    busy = ConversationState("vi", flow="lookup", step="l.code")
    assert reopened(busy, (RATING,)) == busy


def notice_reply(to: str) -> Reply:
    """The notice a case's reporter gets when staff move it to ``to``."""
    return staff._citizen_notice(_case("in_progress"), to, "Đã xử lý.", None)


def _walk_delivered(question: str, status: str, *events: Inbound) -> list[list[str]]:
    """As :func:`_walk`, for a notice delivered normally (no re-send): ``question`` is what
    the runtime kept of it with the chat (``question_of``), met by the chat's next event."""
    state = ConversationState("vi")
    said: list[list[str]] = []
    pending: str | None = question
    for event in events:
        state = noticed(state, pending)
        pending = None  # the next event reads it; then the state carries it
        codes = needs(state, event).case_codes
        facts = Facts(complaints={c: _case(status) for c in codes if c == CODE})
        outcome = handle(state, event, ENV, facts)
        said.append([r.key for r in outcome.replies])
        state = outcome.state or state
    return said


THANKS = ["rating.thanks", "menu.again"]
DELIVERED = [
    # (question the delivered notice asks, status, events, reply keys of each)
    (f"rate:{CODE}", RESOLVED, [Text("5")], [THANKS]),
    (f"rate:{CODE}", RESOLVED, [Text(" 4 ")], [THANKS]),
    (f"rate:{CODE}", RESOLVED, [Text("Rất hài lòng")], [THANKS]),
    (f"rate:{CODE}", RESOLVED, [Text("rat hai long")], [THANKS]),
    # Answered, then the menu is the question: its numbers are the menu's again.
    (f"rate:{CODE}", RESOLVED, [Text("5"), Text("5")], [THANKS, ["language.ask"]]),
    (f"rate:{CODE}", RESOLVED, [Text("5"), Text("4")], [THANKS, ["help.text", "menu.again"]]),
    # No answer: the question again, how to answer it by typing (not the menu).
    (
        f"rate:{CODE}",
        RESOLVED,
        [Text("alo"), Text("3")],
        [["zalo7.unclear", "zalo7.rate_ask"], THANKS],
    ),
    # Another question shown (the menu) ends the notice's turn.
    (f"rate:{CODE}", RESOLVED, [Command("start"), Text("5")], [["menu.welcome"], ["language.ask"]]),
    (f"supp:{CODE}", "waiting_citizen", [Text("1")], [["supplement.ask"]]),
    (f"supp:{CODE}", "waiting_citizen", [Text("Gửi bổ sung")], [["supplement.ask"]]),
    (f"supp:{CODE}", "waiting_citizen", [Text("gui bo sung")], [["supplement.ask"]]),
    (
        f"supp:{CODE}",
        "waiting_citizen",
        [Text("Tôi có ảnh"), Text("1")],
        [["zalo7.unclear", "zalo7.supp_ask"], ["supplement.ask"]],
    ),
]


@pytest.mark.parametrize(("question", "status", "events", "expected"), DELIVERED)
def test_a_notice_delivered_normally_is_the_live_question(
    question: str, status: str, events: list[Inbound], expected: list[list[str]]
) -> None:
    assert _walk_delivered(question, status, *events) == expected


@pytest.mark.parametrize(
    ("reply", "question"),
    [
        (notice_reply("resolved"), f"rate:{CODE}"),
        (notice_reply("waiting_citizen"), f"supp:{CODE}"),
        (notice_reply("in_progress"), None),
    ],
)
def test_the_question_a_notice_asks(reply: Reply, question: str | None) -> None:
    assert question_of(reply) == question


def test_a_delivered_notice_leaves_a_chat_in_a_task_alone() -> None:
    busy = ConversationState("vi", flow="lookup", step="l.code")
    assert noticed(busy, f"rate:{CODE}") == busy
    assert noticed(ConversationState("vi"), None) == ConversationState("vi")
    assert noticed(ConversationState("vi"), "menu:1") == ConversationState("vi")
