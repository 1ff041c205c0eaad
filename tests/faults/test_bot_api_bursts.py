"""The Bot API answering 429 (flood control, with retry_after) and 500 in bursts while
citizens answer the survey side by side.

May happen: replies late by the retry_after and the back-off; a send refused and sent again.
Must not happen: a reply lost or sent twice (a refused call changes nothing, so each text must
land exactly once), a survey left unfinished or not recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.harness import (
    START_S,
    STEPS,
    Backend,
    Citizen,
    bot_process,
    completed_surveys,
    wait_until,
)
from tests.support.fake_telegram import FakeTelegram

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

CHATS = [7_340_000_301, 7_340_000_302, 7_340_000_303]
#: (step at which the burst starts, method, status, calls refused)
BURSTS = [
    (3, "sendMessage", 429, 6),
    (8, "sendMessage", 500, 6),
    (12, "editMessageText", 500, 4),
    (16, "sendMessage", 429, 3),
    (16, "editMessageText", 429, 3),
]


def test_429_and_500_bursts_lose_and_double_nothing(
    fake: FakeTelegram, tmp_path: Path, backend: Backend
) -> None:
    process = bot_process(fake, tmp_path, backend)
    citizens = [Citizen(fake, chat) for chat in CHATS]
    process.start(timeout=START_S)
    try:
        for step in range(len(STEPS)):
            for at, method, status, count in BURSTS:
                if at == step:
                    fake.fail_next(method, status=status, retry_after=1, count=count)
            for citizen in citizens:
                citizen.act()
            for citizen in citizens:
                citizen.wait()
        wait_until("the thanks", lambda: all(c.thanked() == 1 for c in citizens))
    finally:
        process.stop()
    refused = [c for c in fake.calls if c.status in (429, 500)]
    assert len(refused) == sum(count for *_, count in BURSTS)  # every burst was met
    for citizen in citizens:
        assert citizen.doubled() == []
        assert citizen.thanked() == 1
    assert completed_surveys(backend) == len(CHATS)
