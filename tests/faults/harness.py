"""The fault suite's tools: the database a bot runs on and ways to make it fail, a citizen
who answers the survey through the fake Bot API, and the verdicts (nothing lost, nothing
doubled) every test ends with."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage import open_engine, read_transaction
from tests.e2e.test_telegram_api import SURVEY
from tests.support.bot_process import BotProcess
from tests.support.fake_telegram import FakeTelegram
from tests.support.tcp_proxy import TcpProxy

#: The whole survey as a citizen answers it: the command, then each button.
STEPS = ["/khaosat", *SURVEY]
#: How long a (re)start may take: a shared, busy machine can take tens of seconds.
START_S = 90.0
#: The last answer's reply says this.
THANKS = "Phiếu đã được ghi nhận"


@dataclass
class Backend:
    """The bot's database: ``url`` for the bot, ``direct`` for the test's own look."""

    kind: str
    url: str
    direct: str
    proxy: TcpProxy | None = None

    @contextlib.contextmanager
    def unavailable(self) -> Iterator[None]:
        """The database cannot be used: PostgreSQL's connections are cut and refused;
        SQLite's file is locked by another process's write transaction."""
        if self.proxy is not None:
            self.proxy.cut()
            try:
                yield
            finally:
                self.proxy.restore()
            return
        with self.locked():
            yield

    @contextlib.contextmanager
    def locked(self, table: str | None = None) -> Iterator[None]:
        """Writes wait: to ``table`` on PostgreSQL (a lock that lets plain reads through),
        to the whole file on SQLite (``table`` ignored)."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(make_url(self.direct).database or "", timeout=30)
            conn.isolation_level = None
            conn.execute("BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                conn.execute("ROLLBACK")
                conn.close()
            return
        holder = subprocess.Popen(
            ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", self.psql_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdin is not None
        assert holder.stdout is not None
        holder.stdin.write(f"BEGIN; LOCK TABLE {table} IN EXCLUSIVE MODE; SELECT 'locked';\n")
        holder.stdin.flush()
        try:
            assert holder.stdout.readline().strip() == "locked"
            yield
        finally:
            holder.stdin.close()
            holder.stdout.close()
            holder.kill()  # the session ends, its lock with it
            holder.wait(timeout=10)

    @property
    def psql_url(self) -> str:
        return make_url(self.direct).set(drivername="postgresql").render_as_string(False)

    def waiting_on_lock(self, statement: str) -> bool:
        """PostgreSQL: a session of the bot waits for a lock inside ``statement``."""
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND wait_event_type = 'Lock' AND query ILIKE '%{statement}%'"
        )
        out = subprocess.run(
            ["psql", "-Atc", sql, self.psql_url], capture_output=True, text=True, check=True
        )
        return int(out.stdout.strip() or 0) > 0


def wait_until(what: str, check: Callable[[], object], timeout: float = 30.0) -> None:
    """Polls ``check()`` until true (a state in another process has no event to await)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def bot_process(
    fake: FakeTelegram, tmp_path: Path, backend: Backend, name: str = "bot", **env: str
) -> BotProcess:
    workdir = tmp_path / name
    workdir.mkdir(exist_ok=True)
    # Processes on one database share the survey marks' key through one file (README).
    env.setdefault("RECEIPT_SECRET_FILE", str(tmp_path / "receipt_secret"))
    return BotProcess(fake, workdir, database_url=backend.url, extra_env=env)


def scalar(backend: Backend, sql: str) -> int:
    """One number from the database, read directly (not through the bot's relay)."""

    async def read() -> int:
        engine = open_engine(backend.direct)
        try:
            async with read_transaction(engine) as conn:
                return int((await conn.execute(text(sql))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(read())


class Citizen:
    """One chat answering the survey step by step over the fake Bot API (polling)."""

    def __init__(self, fake: FakeTelegram, chat: int) -> None:
        self.fake = fake
        self.chat = chat
        self.done = 0
        self._before = 0

    def answers(self) -> int:
        """Successful sends and edits to this chat so far."""
        return sum(
            1
            for method in ("sendMessage", "editMessageText")
            for c in self.fake.calls_to(method)
            if c.chat_id == self.chat and c.status == 200
        )

    def act(self) -> int:
        """Sends the next step (not waiting for its answer); returns its update id."""
        step = STEPS[self.done]
        self._before = self.answers()
        self.done += 1
        if step.startswith("/"):
            return self.fake.user_sends_command(self.chat, step)
        return self.fake.user_presses(self.chat, self._offering(step), step)

    def wait(self, timeout: float = 60.0) -> None:
        """Until the step just sent is answered."""
        try:
            wait_until(
                f"an answer to {STEPS[self.done - 1]} in {self.chat}", self._answered, timeout
            )
        except AssertionError as exc:
            raise AssertionError(self.fake.describe(str(exc), last=40)) from None

    def _answered(self) -> bool:
        if self.answers() <= self._before:
            return False
        # Some steps are answered twice (the question closed, the next one asked): the
        # answer is whole once the next step's button is offered.
        following = STEPS[self.done] if self.done < len(STEPS) else None
        return following is None or self._newest(following) is not None

    def start(self, process: BotProcess, until: int) -> None:
        """Starts ``process`` and answers the steps before step ``until``."""
        process.start(timeout=START_S)
        while self.done < until:
            self.step()

    def step(self, timeout: float = 60.0) -> None:
        self.act()
        self.wait(timeout)

    def finish(self, timeout: float = 60.0) -> None:
        while self.done < len(STEPS):
            self.step(timeout)
        wait_until("the thanks", lambda: self.thanked() > 0, timeout)

    def thanked(self) -> int:
        return sum(1 for m in self.fake.messages(self.chat) if THANKS in (m.text or ""))

    def _newest(self, data: str) -> int | None:
        for message in reversed(self.fake.messages(self.chat)):
            if any(cb == data for _, cb in self.fake.keyboard(message)):
                return message.message_id
        return None

    def _offering(self, data: str) -> int:
        wait_until(f"a message offering {data}", lambda: self._newest(data) is not None)
        found = self._newest(data)
        assert found is not None
        return found

    def doubled(self) -> list[str]:
        """Texts sent to this chat more than once (each question is asked once)."""
        texts = Counter(
            str(c.params.get("text"))
            for c in self.fake.calls_to("sendMessage")
            if c.chat_id == self.chat and c.status == 200
        )
        return [t for t, n in texts.items() if n > 1]


def pending(backend: Backend) -> int:
    """Outbox rows not yet recorded as sent (or given up)."""
    return scalar(backend, "SELECT count(*) FROM outbox WHERE status = 'pending'")


def completed_surveys(backend: Backend) -> int:
    return scalar(backend, "SELECT count(*) FROM survey_responses WHERE completed_at IS NOT NULL")


#: A Vietnamese phone number as a citizen types it (10 digits from 0, spaces or dots allowed),
#: standing as a word of its own: inside a longer word it is part of something else, such as
#: a chat's hash (12 hex digits, salted at random per database: "chat=e0912345678b" in about
#: one run in 370 per chat, which made a fault test fail now and then on a log with no phone).
PHONE = re.compile(r"(?<![\w.])0\d{2,3}[ .]?\d{3}[ .]?\d{3,4}(?![\w.])")


def personal_data_in_logs(folder: Path, chats: Iterable[int]) -> list[str]:
    """Raw chat ids (only their salted hash may be logged) and phone numbers found in any
    bot log under ``folder``, with the log's name."""
    found: list[str] = []
    for log in sorted(folder.rglob("bot-*.log")):
        text = log.read_text(encoding="utf-8", errors="replace")
        found += [f"{log.name}: chat {c}" for c in chats if re.search(rf"(?<!\d){c}(?!\d)", text)]
        found += [f"{log.name}: phone {m}" for m in PHONE.findall(text)]
    return found
