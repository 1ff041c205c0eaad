"""A case's notice keeps what it is across the outbox (``TextMessage.notice``): the status it
tells, stored with it, so that a channel with a window sends it as a notice when it is taken
from the queue, whatever its catalog key. A row queued before the flag was stored reads as the
code of its time read it (a "notice.<status>" key was a notice)."""

from __future__ import annotations

import pytest

from storage.outbound import TextMessage, decode, encode

FORWARD = TextMessage(
    "Phản ánh PA-2026-000001 không thuộc thẩm quyền...",
    key="law.notice_forwarded",
    told=("zalo", "staff", "template", "PA-2026-000001"),
    notice="out_of_scope",
)


@pytest.mark.parametrize(
    "message",
    [
        FORWARD,
        TextMessage(
            "Phản ánh PA-2026-000001 đã giải quyết",
            (("rate:1:5", "5"),),
            "notice.resolved",
            notice="resolved",
        ),
        TextMessage("Xin chào", key="menu.main"),
    ],
    ids=["forward", "answer", "other"],
)
def test_a_message_reads_back_as_it_was_queued(message: TextMessage) -> None:
    body, blob = encode(message)
    assert decode(body, blob) == message


@pytest.mark.parametrize(
    ("key", "notice"),
    [("notice.resolved", "resolved"), ("notice.in_progress", "in_progress"), ("menu.main", "")],
)
def test_a_row_queued_before_the_flag_reads_by_its_key(key: str, notice: str) -> None:
    body = {"kind": "text", "text": "…", "choices": [], "key": key}
    message = decode(body, None)
    assert isinstance(message, TextMessage)
    assert message.notice == notice
