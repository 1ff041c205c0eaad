"""kill -9 of the bot at each step of one event's life: inside its transaction (waiting to
record the event, to load the conversation, to queue the replies), after the commit before
the reply is sent, and after Telegram took the reply before the bot could mark it sent.

May happen: the update is delivered again (Telegram keeps what polling did not confirm) and
the reply is sent after the restart; when the kill falls between Telegram taking a reply and
the bot marking it sent, that one reply is sent a second time (at-least-once: the stated
window is one message per crash). Must not happen: an answer lost (the survey cannot be
finished, or is not recorded) or recorded twice, any other message sent twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.harness import (
    START_S,
    Backend,
    Citizen,
    bot_process,
    completed_surveys,
    pending,
    wait_until,
)
from tests.support.fake_telegram import Call, FakeTelegram

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

CHAT = 7_310_000_501
#: The step killed: pressing "1 trip" is answered by a new question (not an edit).
KILLED_AT = 5

#: Statements of the per-event transaction, in order, by a table each one waits on.
INSIDE = {
    "recording the event": ("processed_events", "INSERT INTO processed_events"),
    "loading the conversation": ("conversations", "FOR UPDATE"),
    "queueing the replies": ("outbox", "INSERT INTO outbox"),
}


@pytest.mark.parametrize("step", list(INSIDE))
def test_killed_inside_the_event_transaction(
    fake: FakeTelegram, tmp_path: Path, backend: Backend, step: str
) -> None:
    table, statement = INSIDE[step]
    if backend.kind == "sqlite" and step != "recording the event":
        pytest.skip("SQLite takes its one write lock before the first statement: one step")
    process = bot_process(fake, tmp_path, backend)
    citizen = Citizen(fake, CHAT)
    try:
        citizen.start(process, until=KILLED_AT)
        # What was sent is recorded first: the kill falls inside this one event, not also
        # between an earlier send and its record (the send tests' case).
        wait_until("the earlier sends recorded", lambda: pending(backend) == 0)
        with backend.locked(table):
            update = citizen.act()
            if backend.kind == "sqlite":
                # Handed to the bot, which now waits for the file's write lock.
                wait_until("the update handed out", lambda: fake.update(update).delivered_at)
            else:
                wait_until(f"the bot stopped at {statement}", _waits(backend, statement))
            process.kill()
        assert citizen.answers() == citizen._before  # nothing went out before the kill
        process.start(timeout=START_S)
        citizen.wait()
        citizen.finish()
    finally:
        process.stop()
    assert citizen.doubled() == []
    assert citizen.thanked() == 1
    assert completed_surveys(backend) == 1


def _waits(backend: Backend, statement: str) -> Callable[[], bool]:
    return lambda: backend.waiting_on_lock(statement)


@pytest.mark.parametrize("taken", [False, True], ids=["before-the-send", "after-the-send"])
def test_killed_while_sending(
    fake: FakeTelegram, tmp_path: Path, backend: Backend, taken: bool
) -> None:
    process = bot_process(fake, tmp_path, backend)
    citizen = Citizen(fake, CHAT)
    try:
        citizen.start(process, until=KILLED_AT)
        sent_before = len(_sends(fake))
        fake.trap("sendMessage", process.kill, chat_id=CHAT, stored=taken)
        citizen.act()
        wait_until("the kill", lambda: process.proc is not None and process.proc.poll() is not None)
        process.start(timeout=START_S)
        if not taken:
            citizen.wait()
        citizen.finish()
    finally:
        process.stop()
    doubled = citizen.doubled()
    if taken:
        # At most the one reply Telegram took as the bot died, and only that one.
        trapped = _sends(fake)[sent_before]
        assert set(doubled) <= {str(trapped.params.get("text"))}
    else:
        assert doubled == []
    assert citizen.thanked() == 1
    assert completed_surveys(backend) == 1


def _sends(fake: FakeTelegram) -> list[Call]:
    return [c for c in fake.calls_to("sendMessage") if c.chat_id == CHAT]
