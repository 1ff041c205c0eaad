"""Consent to ZNS notices at filing (issue 15): asked on Zalo only when ZNS is configured,
after the phone of a named complaint, with its purpose and carrier; refusing still files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from conversations import Choice, ConversationState, Env, Text, default_catalog, handle
from conversations.context import Facts
from conversations.effects import OpenComplaint
from conversations.flows import complaint

CATALOG = default_catalog()
NOW = datetime(2026, 12, 1, 3, tzinfo=UTC)
ENV = Env(now=NOW, new_id=lambda: 7, agency="Sở Xây dựng", channel="zalo", zns=True)


def _at_phone(hotline: bool = False) -> ConversationState:
    draft = complaint.Draft(
        draft=1, cat="khac", text="Một nội dung đủ dài.", anon=False, name="Trần Văn Ba",
        hotline=hotline,
    )  # fmt: skip
    return ConversationState("vi", complaint.FLOW, complaint.PHONE, draft.dump())


# env, hotline, the step after the phone
AFTER_PHONE = [
    (ENV, False, complaint.ZNS),
    (replace(ENV, zns=False), False, complaint.ADDRESS),
    (ENV, True, complaint.ADDRESS),  # staff recording a call are not asked
]


@pytest.mark.parametrize(("env", "hotline", "step"), AFTER_PHONE)
def test_consent_is_asked_after_the_phone_only_where_zns_may_be_used(
    env: Env, hotline: bool, step: str
) -> None:
    out = handle(_at_phone(hotline), Text("0912 345 678"), env)
    assert out.state is not None
    assert out.state.step == step
    if step == complaint.ZNS:
        text = "\n".join(CATALOG.render(r, "vi").text for r in out.replies)
        assert "số điện thoại vừa cho" in text
        assert "ZNS" in text
        assert "không đồng ý: phản ánh vẫn được gửi" in text.lower()


# answer, consent stored
ANSWERS = [
    (Choice("c.zns:yes"), True),
    (Choice("c.zns:no"), False),
    (Text("1"), True),
    (Text("2"), False),
    (Text("Không"), False),
]


@pytest.mark.parametrize(("answer", "consent"), ANSWERS)
def test_the_answer_is_filed_with_the_complaint(answer: object, consent: bool) -> None:
    state = handle(_at_phone(), Text("0912 345 678"), ENV).state
    assert state is not None
    state = handle(state, answer, ENV).state  # type: ignore[arg-type]
    assert state is not None
    assert state.step == complaint.ADDRESS
    state = handle(state, Text("12 Lê Lợi, phường Bến Thành"), ENV).state
    assert state is not None
    assert state.step == complaint.CONFIRM
    out = handle(state, Choice("c.confirm:send"), ENV, Facts())
    [opened] = [c for c in out.changes if isinstance(c, OpenComplaint)]
    assert opened.zns_consent is consent
    assert opened.phone == "0912345678"


def test_anything_else_is_asked_again_and_back_returns_to_it() -> None:
    state = handle(_at_phone(), Text("0912 345 678"), ENV).state
    assert state is not None
    again = handle(state, Text("bỏ qua"), ENV)
    assert again.state == state
    moved = handle(state, Choice("c.zns:no"), ENV).state
    assert moved is not None
    back = handle(moved, Choice("c.addr:back"), ENV).state
    assert back is not None
    assert back.step == complaint.ZNS
