"""One chat whose sends hang does not hold up anyone else's replies (the real process).

The fake Bot API holds every call to one chat for 10 s (a citizen on a bad network path, a
Telegram data centre in trouble). Other citizens write meanwhile; each of their replies must
arrive while that chat's send is still held, and about as fast as before the hang: their
median round trip, on the fake server's clock, at most 200 ms above the median measured just
before, in the same process (what the machine's load costs both, the comparison cancels).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bot_process import BotProcess, free_port
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.e2e

HANGING = 7100
HANG_S = 10.0
SAMPLES = 7
#: How much later another chat's reply may come while one chat hangs (issue 18).
ALLOWED_DELAY_S = 0.2


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with FakeTelegram(token="123456:HANG-token", username="sipas_test_bot") as server:
        yield server


def _round_trip(fake: FakeTelegram, process: BotProcess, chat: int) -> tuple[float, float]:
    """Sends /start from ``chat``; returns (seconds from the message to the bot's first
    reply, the reply's arrival), both on the fake server's clock."""
    update = fake.user_sends_command(chat, "/start")
    assert fake.post_update_to(process.webhook_url, update, process.secret) == 200
    created = fake.update(update).created_at
    [reply] = fake.wait_for(
        lambda f: [c for c in f.calls_to("sendMessage") if c.chat_id == chat][:1],
        30,
        f"a reply to {chat}",
    )
    return reply.at - created, reply.at


def test_a_hanging_chat_does_not_delay_the_others(fake: FakeTelegram, tmp_path: Path) -> None:
    # Over the webhook: in polling mode the fake's long poll stalls while a chat hangs (with
    # the code before the fast path too), which would measure the fake, not the sender.
    process = BotProcess(
        fake, tmp_path, webhook_port=free_port(), extra_env={"LOG_LEVEL": "WARNING"}
    )
    process.start()
    try:
        _round_trip(fake, process, 7000)  # warm: the first reply pays for imports and connections
        before = [_round_trip(fake, process, 7001 + n)[0] for n in range(SAMPLES)]
        fake.slow_chat(HANGING, HANG_S)
        hanging = fake.user_sends_command(HANGING, "/start")
        # Answered 200 once stored: its reply is on its way to the fake, which holds it.
        assert fake.post_update_to(process.webhook_url, hanging, process.secret) == 200
        during = [_round_trip(fake, process, 7101 + n) for n in range(SAMPLES)]
        # Order: every other reply arrived while the hanging chat's send was still held
        # (the fake records a call only once it answers it).
        held = [c for c in fake.calls_to("sendMessage") if c.chat_id == HANGING]
        assert held == [], "the hanging chat's send was answered before the others'"
        # Delay: compared with the same process a moment before, on the same clock.
        delay = statistics.median(t for t, _ in during) - statistics.median(before)
        assert delay <= ALLOWED_DELAY_S, (before, during)
        fake.slow_chat(HANGING, 0)
    finally:
        fake.slow_chat(HANGING, 0)
        process.stop()
