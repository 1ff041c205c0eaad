"""The "too long" hint tells the real length of what was typed, whatever the channel kept."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from bot.channels import web, zalo_events
from conversations import MAX_INBOUND_CHARS, Text
from conversations.context import Env
from conversations.effects import ConversationState
from conversations.engine import handle

ENV = Env(now=datetime(2026, 11, 30, 3, tzinfo=UTC), new_id=itertools.count(1).__next__)


@pytest.mark.parametrize("parse", [zalo_events.parse_text, web.parse_text], ids=["zalo", "web"])
@pytest.mark.parametrize("length", [MAX_INBOUND_CHARS + 1, 5000, 12_345])
def test_the_hint_reports_what_was_typed(parse: object, length: int) -> None:
    typed = "ý" * (length - 1) + "."
    event = parse(typed)  # type: ignore[operator]
    assert isinstance(event, Text)
    assert len(event.text) == MAX_INBOUND_CHARS + 1  # the channel keeps only the start
    outcome = handle(ConversationState(language="vi"), event, ENV)
    hint = outcome.replies[0]
    assert hint.key == "common.too_long"
    assert dict(hint.params) == {"got": length, "max": MAX_INBOUND_CHARS}


@pytest.mark.parametrize("length", [0, 1, MAX_INBOUND_CHARS, MAX_INBOUND_CHARS + 1])
def test_a_text_the_channel_did_not_cut_keeps_no_length(length: int) -> None:
    event = Text.typed("a" * length, MAX_INBOUND_CHARS + 1)
    assert (event.text, event.length) == ("a" * length, 0)
