"""Dossiers in the engine, table-driven: what it looks up, what an invitation press does in each
state of the invitation, and what each status event changes and says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conversations import (
    Choice,
    CloseInvitation,
    Command,
    ConversationState,
    DossierFacts,
    EndResponse,
    Env,
    Facts,
    ForgetContact,
    Inbound,
    InviteStatus,
    ReceiptFacts,
    StartResponse,
    TakeInvitation,
    handle,
)
from conversations.dossier_events import Applied, DossierUpdate, Refused, apply
from conversations.flows.dossier import link_token
from conversations.needs import Lookups, needs
from tests.support.engine import dossier

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
IDLE = ConversationState("vi")
INVITED_SURVEY = ConversationState(
    "vi", flow="survey", step="1.1", data={"rid": 5, "dossier": 42, "month": "2026-03"}
)
DOSSIER = dossier(
    status="handed_over",
    field="Cấp phép xây dựng",
    handed_over_at=datetime(2026, 3, 9, 2, 0, tzinfo=UTC),
    invite="invited",
    invite_expires_at=NOW + timedelta(days=6),
    followed=True,
)


def env() -> Env:
    return Env(now=NOW, new_id=lambda: 777)


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        (IDLE, Command("start", "d_TOK"), Lookups(receipt_token="d_TOK", dossier_token="TOK")),
        (IDLE, Command("start", "d_"), Lookups(receipt_token="d_")),
        (IDLE, Choice("dfol:TOK:yes"), Lookups(dossier_token="TOK")),
        (IDLE, Choice("dinv:42"), Lookups(dossier_ids=frozenset({42}))),
        (IDLE, Choice("dunf:42"), Lookups(dossier_ids=frozenset({42}))),
        (IDLE, Choice("dinv:x42"), Lookups()),
        (IDLE, Choice("dinv:" + "9" * 40), Lookups()),
        (IDLE, Command("hosocuatoi"), Lookups(followed_dossiers=True)),
        (IDLE, Command("hoso-cua-toi"), Lookups(followed_dossiers=True)),
        (IDLE, Command("huytheodoi", "HS-1"), Lookups(followed_dossiers=True)),
        (IDLE, Command("unfollow"), Lookups(followed_dossiers=True)),
        (INVITED_SURVEY, Choice("1.1:5"), Lookups(dossier_ids=frozenset({42}))),
    ],
    ids=["link", "empty-link", "follow-button", "invite-button", "stop-button", "forged-id",
         "huge-id", "list", "list-hyphen", "stop-by-code", "stop-alias", "invited-survey"],
)  # fmt: skip
def test_needs(state: ConversationState, event: Inbound, expected: Lookups) -> None:
    assert needs(state, event) == expected


def test_a_receipt_token_that_happens_to_start_with_d_is_still_a_receipt() -> None:
    receipt = ReceiptFacts(id=3, token="d_Receipt0123456789abcd", procedure="1.009972")
    outcome = handle(IDLE, Command("start", receipt.token), env(), Facts(receipt=receipt))
    assert [r.key for r in outcome.replies] == ["survey.consent"]
    unknown = handle(IDLE, Command("start", "d_Nobody0123456789abcdef"), env(), Facts())
    assert [r.key for r in unknown.replies] == ["dossier.unknown", "menu.again"]


def test_link_token() -> None:
    assert link_token(" d_abc ") == "abc"
    assert link_token("abc") is None
    assert link_token("d_") is None


@pytest.mark.parametrize(
    ("invite", "followed", "expires_in", "key"),
    [
        ("invited", True, timedelta(days=1), "survey.consent"),
        ("invited", True, timedelta(seconds=-1), "dossier.invite_closed"),
        ("invited", True, timedelta(0), "dossier.invite_closed"),  # its last instant is past
        ("in_progress", True, timedelta(days=1), "dossier.invite_elsewhere"),
        ("ended", True, timedelta(days=1), "dossier.invite_closed"),
        (None, True, timedelta(days=1), "dossier.invite_unknown"),
        ("invited", False, timedelta(days=1), "dossier.invite_unknown"),
    ],
    ids=["open", "past-its-end", "at-its-end", "taken", "ended", "none", "not-followed"],
)
def test_an_invitation_press_in_each_state(
    invite: InviteStatus | None, followed: bool, expires_in: timedelta, key: str
) -> None:
    dossier = replace(DOSSIER, invite=invite, followed=followed, invite_expires_at=NOW + expires_in)
    outcome = handle(IDLE, Choice("dinv:42"), env(), Facts(dossiers={42: dossier}))
    assert outcome.replies[0].key == key
    assert outcome.changes == ()


def test_the_survey_of_an_invitation_takes_it_and_records_only_the_month() -> None:
    facts = Facts(dossiers={42: DOSSIER})
    started = handle(IDLE, Choice("dinv:42"), env(), facts)
    assert started.state is not None
    assert started.state.data["dossier"] == 42
    assert started.state.data["month"] == "2026-03"
    agreed = handle(started.state, Choice("consent:yes"), env(), facts)
    response = next(c for c in agreed.changes if isinstance(c, StartResponse))
    assert response == StartResponse(
        777, response.questionnaire, NOW, None, "1.009972", "Cấp phép xây dựng", date(2026, 3, 1)
    )
    assert TakeInvitation(42) in agreed.changes
    assert agreed.state is not None
    cancelled = handle(agreed.state, Command("huy"), env(), facts)
    assert cancelled.changes == (
        EndResponse(777, "abandoned", NOW, None),
        CloseInvitation(42, "abandoned", NOW),
    )
    assert cancelled.state is not None
    assert "dossier" not in cancelled.state.data  # the chat's link to it goes with the survey


def test_forgetting_mid_survey_closes_the_invitation_too() -> None:
    outcome = handle(INVITED_SURVEY, Choice("forget:yes"), env(), Facts())
    assert outcome.changes == (ForgetContact(5), CloseInvitation(42, "abandoned", NOW))


# --- status events --------------------------------------------------------------------------

OPEN = dossier(
    id=7,
    code="HS-7",
    token="t",
    received_on=date(2026, 3, 2),
    due_on=date(2026, 3, 20),
    status="processing",
)
AT = datetime(2026, 3, 18, 17, 30, tzinfo=UTC)  # 00:30 on 19/03 in Hanoi


def applied(dossier: DossierFacts, update: DossierUpdate) -> Applied | Refused:
    return apply(
        dossier, update, agency="Sở Xây dựng", tz=HANOI, invite_until=AT + timedelta(days=7)
    )


def test_result_ready_sets_the_local_day_the_result_was_made() -> None:
    done = applied(OPEN, DossierUpdate("result_ready", AT))
    assert isinstance(done, Applied)
    assert done.completed_on == date(2026, 3, 19)
    handed = applied(
        replace(OPEN, completed_on=date(2026, 3, 19)),
        DossierUpdate("handed_over", AT + timedelta(days=3)),
    )
    assert isinstance(handed, Applied)
    assert handed.completed_on == date(2026, 3, 19)  # the first "ready" day counts
    assert handed.invite
    assert [r.key for r in handed.notices] == ["dossier.notice.handed_over", "dossier.invite"]
    assert handed.notices[1].choices[0].id == "dinv:7"


@pytest.mark.parametrize(
    ("new_due", "ok"),
    [(date(2026, 3, 20), False), (date(2026, 3, 19), False), (date(2026, 3, 27), True)],
    ids=["same-day", "earlier", "later"],
)
def test_a_late_event_must_move_the_date_forward(new_due: date, ok: bool) -> None:
    done = applied(OPEN, DossierUpdate("late", AT, new_due_on=new_due))
    assert isinstance(done, Applied) is ok
    if isinstance(done, Applied):
        assert done.rescheduled_on == new_due
        assert done.status == "late"


@pytest.mark.parametrize("status", ["handed_over", "withdrawn"])
def test_a_closed_dossier_takes_nothing(status: str) -> None:
    closed = replace(OPEN, status=status)
    assert applied(closed, DossierUpdate("processing", AT)) == Refused(
        "dossier_closed", f"dossier HS-7 is {status} already"
    )
