"""Round-trip latency of the real bot process over HTTP, polling and webhook.

Starts a fake Bot API server (tests/support/fake_telegram.py) and ``python -m bot`` against it
(SQLite, durable commits), then has citizens send messages one at a time and times, on the
fake server's clock, from the moment a citizen's message exists to the bot's first reply in
that chat. 100 citizens send two messages each (``/khaosat`` then "có"), taken round-robin, one
message in flight at a time and at most 20 a second: faster, the bot's own limit of about 30
messages a second overall (Telegram's) would be what is measured. Prints one line per mode:

    polling: round trip over 200 messages: median 4.1 ms, p99 9.8 ms

Run from the repository root: ``python bench/telegram.py`` (or ``python -m bench.telegram``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.bot_process import BotProcess, free_port
from tests.support.fake_telegram import FakeTelegram

FIRST_CITIZEN = 50_000
PACE_S = 0.05


def measure(mode: str, messages: int) -> list[float]:
    citizens = messages // 2
    with FakeTelegram(token="4242:BENCH", username="sipas_bench_bot") as fake:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-"))
        port = free_port() if mode == "webhook" else None
        process = BotProcess(fake, workdir, webhook_port=port, extra_env={"LOG_LEVEL": "WARNING"})
        process.start()
        try:
            warm = FIRST_CITIZEN - 1
            _one(fake, process, mode, warm, "/start")
            timings: list[float] = []
            for text in ("/khaosat", "có"):
                for n in range(citizens):
                    started = time.monotonic()
                    timings.append(_one(fake, process, mode, FIRST_CITIZEN + n, text))
                    time.sleep(max(0.0, PACE_S - (time.monotonic() - started)))
            return timings
        finally:
            process.stop()


def _one(fake: FakeTelegram, process: BotProcess, mode: str, chat_id: int, text: str) -> float:
    """Seconds from the citizen's message to the bot's first reply, on the fake's clock."""
    count = len(fake.messages(chat_id))
    started = time.monotonic()
    update_id = fake.user_sends_text(chat_id, text)
    if mode == "webhook":
        status = fake.post_update_to(process.webhook_url, update_id, secret=process.secret)
        if status != 200:
            raise RuntimeError(f"webhook answered {status}")
    replies = fake.wait_for_messages(chat_id, count + 1, timeout=15)
    return replies[count].sent_at - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("polling", "webhook", "both"), default="both")
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    modes = ("polling", "webhook") if args.mode == "both" else (args.mode,)
    for mode in modes:
        timings = sorted(measure(mode, args.messages))
        p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
        print(
            f"{mode}: round trip over {len(timings)} messages: "
            f"median {statistics.median(timings) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
