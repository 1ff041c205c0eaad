"""Throughput of the dossier API: 10,000 status events posted over HTTP to the real bot.

Starts a fake Bot API server (tests/support/fake_telegram.py) and ``python -m bot`` against it,
on a fresh SQLite file and then on a fresh PostgreSQL database. Registers 1,250 dossiers over
the API; 100 of them are followed by a Telegram chat (through the deep link, as a citizen
would), so their events also queue notices that the bot sends. Then posts each dossier's 8
events in order (received, processing, needs_documents, processing, late, processing,
result_ready, handed_over: 10,000 in all), signed like a one-stop system, from 16 clients
side by side (threads, one keep-alive connection each), and prints one line per database:

    sqlite: 10000 events over HTTP in 21.3 s: 469 events/s, median 31.0 ms, p99 78.4 ms

Run from the repository root: ``python bench/dossiers.py`` (PostgreSQL from
``--postgres URL`` or TEST_POSTGRES_URL; skipped with a line saying so when neither is set).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.web.dossier_auth import signed_headers
from tests.support.bot_process import BotProcess
from tests.support.fake_telegram import FakeTelegram

CLIENT, SECRET = "bench", "bench-secret-0123456789abcdef0123"
STORY: tuple[dict[str, Any], ...] = (
    {"kind": "received"},
    {"kind": "processing"},
    {"kind": "needs_documents", "missing": ["Bản vẽ thiết kế", "Giấy tờ về quyền sử dụng đất"]},
    {"kind": "processing"},
    {"kind": "late", "reason": "Chờ ý kiến thẩm định"},
    {"kind": "processing"},
    {"kind": "result_ready"},
    {"kind": "handed_over"},
)
FIRST_CHAT = 80_000


class Client:
    """One keep-alive HTTP/1.1 connection (http.client: light, so the figures are the bot's,
    not a client library's pool bookkeeping)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, payload: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = signed_headers(CLIENT, SECRET, "POST", path, body, time.time())
        started = time.perf_counter()
        self.conn.request("POST", path, body=body, headers=headers)
        answer = self.conn.getresponse()
        data = answer.read()
        elapsed = time.perf_counter() - started
        if answer.status >= 300:
            raise RuntimeError(f"{path}: {answer.status} {data.decode()}")
        return elapsed, json.loads(data)


def _follow(fake: FakeTelegram, chat: int, start: str) -> None:
    token = start.removeprefix("d_")
    fake.user_sends_command(chat, "/start", start)
    fake.wait_for(
        lambda f: any(
            cb == f"dfol:{token}:yes" for m in f.messages(chat) for _, cb in f.keyboard(m)
        ),
        timeout=30,
        what="the consent question",
    )
    asked = next(m for m in fake.messages(chat) if fake.keyboard(m))
    count = len(fake.messages(chat))
    fake.user_presses(chat, asked.message_id, f"dfol:{token}:yes")
    fake.wait_for(lambda f: len(f.messages(chat)) > count, timeout=30, what="following")


def _run(
    process: BotProcess, fake: FakeTelegram, dossiers: int, followed: int, clients: int
) -> tuple[list[float], float, int]:
    today = date.today()
    setup = Client(process.webhook_port)
    starts: list[str] = []
    for n in range(dossiers):
        _, answer = setup.post(
            "/api/v1/dossiers",
            {"code": f"HS-B-{n:05d}", "procedure": "1.009972", "received_on": today.isoformat(),
             "due_on": (today + timedelta(days=10)).isoformat()},
        )  # fmt: skip
        starts.append(answer["start"])
    for n in range(followed):
        _follow(fake, FIRST_CHAT + n, starts[n])
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for n in range(dossiers):
        todo.put(n)
    timings: list[float] = []
    notified: list[int] = []

    def worker() -> None:
        client = Client(process.webhook_port)
        while True:
            try:
                n = todo.get_nowait()
            except queue.Empty:
                return
            for k, step in enumerate(STORY):
                payload = {"event_id": f"{n}-{k}-{uuid.uuid4().hex[:8]}", **step}
                if step["kind"] == "late":
                    payload["new_due_on"] = (today + timedelta(days=20)).isoformat()
                elapsed, answer = client.post(f"/api/v1/dossiers/HS-B-{n:05d}/events", payload)
                timings.append(elapsed)
                notified.append(int(answer["notified"]))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, time.perf_counter() - started, sum(notified)


def measure(label: str, database_url: str, dossiers: int, followed: int, clients: int) -> None:
    with FakeTelegram(token="4242:BENCH-DOSSIERS", username="sipas_bench_bot") as fake:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-dossiers-{label}-"))
        env = {"LOG_LEVEL": "WARNING", "DOSSIER_API_KEYS": f"{CLIENT}:{SECRET}"}
        process = BotProcess(fake, workdir, database_url=database_url, extra_env=env)
        process.start(timeout=60)
        try:
            timings, seconds, notified = _run(process, fake, dossiers, followed, clients)
        finally:
            process.stop()
    timings.sort()
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    median = statistics.median(timings)
    print(
        f"{label}: {len(timings)} events over HTTP in {seconds:.1f} s: "
        f"{len(timings) / seconds:.0f} events/s, median {median * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms ({clients} clients, {notified} notices queued)",
        flush=True,
    )


async def _database(url: str, name: str, create: bool) -> None:
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            if create:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="a multiple of 8")
    parser.add_argument("--followed", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", ""))
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    dossiers = args.events // len(STORY)
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="bench-dossiers-db-") as folder:
            url = f"sqlite+aiosqlite:///{folder}/bot.db"
            measure("sqlite", url, dossiers, args.followed, args.clients)
    if args.only in (None, "postgres"):
        if not args.postgres:
            print("postgres: skipped (set --postgres URL or TEST_POSTGRES_URL)", flush=True)
            return 0
        name = f"bench_dossiers_{uuid.uuid4().hex[:8]}"
        asyncio.run(_database(args.postgres, name, create=True))
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            measure("postgres", url, dossiers, args.followed, args.clients)
        finally:
            asyncio.run(_database(args.postgres, name, create=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
