"""Issue 10, point 4, through plain SQL on PostgreSQL (re-test finding): every row keeps the id
of the transaction that last wrote it (``xmin``, any ``SELECT`` reads it). A survey ends in one
transaction that also writes the chat's conversation row, empties its consent and marks its
receipt used, so until something writes those rows again, ``survey_responses.xmin =
conversations.xmin`` (and ``= consents.xmin``, ``= receipts.xmin``) joins a response to its
chat, its consent and its receipt. The hourly ``shuffle`` restamped only the survey rows, an
hour later at worst, and never the consents nor the receipts.

Six surveys (three from a receipt, one cancelled), their steps interleaved and sent in batches
mixing chats (one transaction then writes several chats, as the dispatcher's group commit
does). Then the restamp that an ended survey asks for, through the jobs runner with a clock
the test moves: once it ran, no response, answer, consent or receipt row shares an ``xmin``
with a conversation or contact row, nor with one another's table. SQLite has no such column:
the job is never asked for there."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Inbound, InboundEvent, Text, default_catalog
from jobs.runner import RESTAMP_EVERY_S, JobsRunner
from storage import read_transaction, write_transaction
from storage.queries.surveys import create_receipt
from tests.jobs.test_leadership import DIGESTS
from tests.support.clock import SettableClock
from tests.support.db import POSTGRES_URL, SKIP_POSTGRES, Database, migrated, postgres_schema

pytestmark = pytest.mark.postgres

START = datetime(2026, 11, 30, 2, 17, 41, tzinfo=UTC)
TOKENS = ("slip-token-0001", "slip-token-0002", "slip-token-0003")
#: The chat side: rows that name a chat.
CHAT_TABLES = ("conversations", "contacts")
#: The survey side, each group restamped apart (a receipt stamped with its response would
#: pair them; a response and its answers are joined by their key anyway).
GROUPS = {"survey_responses": 1, "answers": 1, "consents": 2, "receipts": 3}
SURVEY_TABLES = tuple(GROUPS)


@pytest.fixture
async def pg() -> AsyncIterator[AsyncEngine]:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    async with postgres_schema() as db:
        engine = await migrated(Database(db.url, db.schema))
        yield engine
        await engine.dispose()


@dataclass
class Walk:
    """One chat answering a survey a step at a time: buttons picked at random, the comment
    typed, submitted (or cancelled after a few steps)."""

    chat: str
    opening: Inbound
    rng: random.Random
    cancel: bool = False
    n: int = 0
    choices: list[str] = field(default_factory=list)
    toggled: bool = False
    done: bool = False

    def event(self) -> InboundEvent | None:
        if self.done:
            return None
        self.n += 1
        return InboundEvent(f"{self.chat}-{self.n}", "telegram", self.chat, self._payload())

    def _payload(self) -> Inbound:
        if self.n == 1:
            return self.opening
        if self.n == 2:
            return Choice("consent:yes")
        if "summary:submit" in self.choices or (self.cancel and self.n > 6) or self.n > 150:
            self.done = True
            return Command("huy") if self.cancel else Choice("summary:submit")
        if "comment:skip" in self.choices:
            return Text(f"Góp ý của {self.chat}")
        step = self.choices[0].split(":", 1)[0] if self.choices else ""
        toggles = [c for c in self.choices if not c.endswith((":back", ":skip", ":done"))]
        if any(c.endswith(":done") for c in self.choices):  # a multi-select: one, then done
            self.toggled = not self.toggled
            return Choice(toggles[0] if self.toggled else f"{step}:done")
        if not toggles:
            return Choice(f"{step}:skip") if step else Text("bỏ qua")
        return Choice(self.rng.choice(toggles))

    def answered(self, handled: Handled) -> None:
        self.choices = [value for m in handled.messages for value, _ in (m.choices or ())]


async def _interleaved_surveys(dispatcher: Dispatcher, clock: SettableClock) -> None:
    rng = random.Random(10)
    walks = [
        Walk("chat-a", Command("start", TOKENS[0]), rng),
        Walk("chat-b", Command("khaosat"), rng),
        Walk("chat-c", Command("start", TOKENS[1]), rng),
        Walk("chat-d", Command("khaosat"), rng, cancel=True),
        Walk("chat-e", Command("start", TOKENS[2]), rng),
        Walk("chat-f", Command("khaosat"), rng),
    ]
    for turn in range(400):
        # Chats in pairs, each pair's two steps in one transaction (a group commit).
        todo = [w for w in walks if not w.done]
        if not todo:
            return
        rng.shuffle(todo)
        for pair in (todo[i : i + 2] for i in range(0, len(todo), 2)):
            events = [e for e in (w.event() for w in pair) if e is not None]
            clock.now += timedelta(seconds=13)
            results = await dispatcher.process(events)
            for walk, handled in zip(pair, results, strict=True):
                assert isinstance(handled, Handled), (turn, handled)
                walk.answered(handled)
    raise AssertionError("the surveys did not end")


async def _xmins(engine: AsyncEngine, table: str) -> set[str]:
    async with read_transaction(engine) as conn:
        found = await conn.execute(text(f"SELECT DISTINCT xmin::text FROM {table}"))
        return set(found.scalars())


async def _links(engine: AsyncEngine) -> dict[str, set[str]]:
    """For each table of the survey side, the transaction ids it shares with a chat's rows or
    with another group of the survey side (as "table: xid")."""
    xmins = {t: await _xmins(engine, t) for t in CHAT_TABLES + SURVEY_TABLES}
    links: dict[str, set[str]] = {}
    for table in SURVEY_TABLES:
        others = [*CHAT_TABLES, *(t for t in SURVEY_TABLES if GROUPS[t] != GROUPS[table])]
        links[table] = {f"{o}: {x}" for o in others for x in xmins[table] & xmins[o]}
    return links


async def _setup(engine: AsyncEngine) -> tuple[Dispatcher, JobsRunner, SettableClock]:
    clock = SettableClock(START)
    async with write_transaction(engine) as conn:
        for token in TOKENS:
            await create_receipt(conn, token, "1.009972", clock())
    dispatcher = Dispatcher(engine, DispatchSettings(survey_ttl=timedelta(days=7)), clock=clock)
    runner = JobsRunner(engine, dispatcher, DIGESTS, default_catalog(), clock)
    return dispatcher, runner, clock


class Backwards(random.Random):
    """The restamp's randomness, made to put the responses in the reverse of a known order:
    whatever order they come out in, then, is the restamp's doing, not the end order kept."""

    def __init__(self, order: list[int]) -> None:
        super().__init__(0)
        self.rank = {response: i for i, response in enumerate(order)}

    def shuffle(self, x: list[int]) -> None:  # type: ignore[override]
        if x and all(item in self.rank for item in x):
            x.sort(key=lambda item: -self.rank[item])
        else:
            super().shuffle(x)


async def _ended_order(engine: AsyncEngine) -> list[int]:
    """Ended responses in the order their surveys ended (the ending transaction, kept as
    ``xmin`` until the restamp; two chats of one batch end in the same one)."""
    async with read_transaction(engine) as conn:
        found = await conn.execute(
            text(
                "SELECT id FROM survey_responses WHERE status <> 'in_progress'"
                " ORDER BY xmin::text::bigint, ctid"
            )
        )
        return [int(i) for i in found.scalars()]


async def _physical_order(engine: AsyncEngine) -> tuple[list[int], list[int]]:
    """Ended responses in their rows' physical order (``ctid``), and the responses in the
    physical order of their first answer row: what a plain ``SELECT`` returns them in."""
    async with read_transaction(engine) as conn:
        responses = await conn.execute(
            text("SELECT id FROM survey_responses WHERE status <> 'in_progress' ORDER BY ctid")
        )
        answered = await conn.execute(
            text("SELECT response_id FROM answers GROUP BY response_id ORDER BY min(ctid)")
        )
        return [int(i) for i in responses.scalars()], [int(i) for i in answered.scalars()]


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with read_transaction(engine) as conn:
        return {
            t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
            for t in SURVEY_TABLES
        }


async def test_an_ended_survey_shares_no_transaction_id_with_its_chat_a_minute_on(
    pg: AsyncEngine,
) -> None:
    dispatcher, runner, clock = await _setup(pg)
    await _interleaved_surveys(dispatcher, clock)
    await dispatcher.close()
    async with read_transaction(pg) as conn:
        statuses = await conn.execute(
            text("SELECT status, count(*) FROM survey_responses GROUP BY 1")
        )
        assert dict(statuses.tuples().all()) == {"completed": 5, "abandoned": 1}
        used = await conn.execute(text("SELECT survey_status FROM receipts"))
        assert list(used.scalars()) == ["used"] * 3
    before = await _links(pg)
    # What the job is for: a plain SELECT pairs the rows of each survey with its chat.
    assert all(before[t] for t in SURVEY_TABLES), before
    counts = await _counts(pg)
    ended = await _ended_order(pg)
    # Before: the rows lie in the order the surveys ended, the chats' ids give that order.
    assert (await _physical_order(pg))[0] == ended
    assert len(await _xmins(pg, "conversations")) > 1

    # The ended surveys asked for the restamp: it runs at once, then not again within the
    # minute, however many more surveys end.
    restamp = runner.restamp
    assert restamp is not None
    assert restamp.pending
    restamp.rng = Backwards(ended)
    assert await restamp.tick()
    assert restamp.runs == 1
    assert await _links(pg) == {t: set() for t in SURVEY_TABLES}
    assert await _counts(pg) == counts  # nothing lost
    # Every chat written since the first of these surveys ended shares one transaction id:
    # none tells when its survey ended.
    assert len(await _xmins(pg, "conversations")) == 1
    # The rows lie in the order of their random ids (the run's ``CLUSTER``, after a restamp
    # in the order it drew), not the one the surveys ended in.
    responses, answered = await _physical_order(pg)
    assert responses == sorted(ended)
    assert answered == sorted(ended)

    # A late survey in the same minute: its link lasts until the minute is over.
    async with write_transaction(pg) as conn:
        await create_receipt(conn, "slip-token-0004", "1.009972", clock())
    late = Walk("chat-g", Command("start", "slip-token-0004"), random.Random(3))
    while (event := late.event()) is not None:
        (handled,) = await dispatcher.process([event])
        assert isinstance(handled, Handled)
        late.answered(handled)
    await dispatcher.close()
    assert restamp.pending
    assert not await restamp.tick()  # too soon
    assert restamp.runs == 1
    assert (await _links(pg))["receipts"]
    # The minute over, the runner's loop (every process runs it) takes it up.
    clock.now += timedelta(seconds=RESTAMP_EVERY_S)
    stop = asyncio.Event()
    loop = asyncio.create_task(restamp.run(stop))
    try:
        async with asyncio.timeout(30):
            while restamp.runs < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    assert await _links(pg) == {t: set() for t in SURVEY_TABLES}
    # The one chat of that minute is restamped with others drawn at random (here all six).
    assert len(await _xmins(pg, "conversations")) == 1


async def test_the_hourly_job_restamps_consents_and_receipts_too(pg: AsyncEngine) -> None:
    """Even with no restamp after the surveys (the process that ended them stopped first),
    the hourly job leaves no consent or receipt in a chat's transaction."""
    dispatcher, runner, clock = await _setup(pg)
    await _interleaved_surveys(dispatcher, clock)
    await dispatcher.close()
    assert all((await _links(pg)).values())
    clock.now += timedelta(minutes=50)
    await runner.jobs["shuffle"][0]()
    assert await _links(pg) == {t: set() for t in SURVEY_TABLES}


#: Every table whose rows a chat's transaction writes (re-test: the leases were left out).
CHAT_BEARING = (
    "conversations",
    "contacts",
    "outbox",
    "outbox_leases",
    "zalo_chats",
    "web_messages",
    "processed_events",
)


async def _xids(engine: AsyncEngine, query: str) -> list[int]:
    async with read_transaction(engine) as conn:
        found = await conn.execute(text(query))
        return [int(x) for x in found.scalars()]


async def _chat_side(engine: AsyncEngine) -> list[int]:
    """``xmin`` of every row a chat's transaction wrote: the chat-bearing tables, the surveys
    still in progress (their response and answers) and the consents still under a contact."""
    queries = [f"SELECT xmin::text::bigint FROM {t}" for t in CHAT_BEARING] + [
        "SELECT xmin::text::bigint FROM survey_responses WHERE status = 'in_progress'",
        "SELECT a.xmin::text::bigint FROM answers a JOIN survey_responses r"
        " ON r.id = a.response_id WHERE r.status = 'in_progress'",
        "SELECT xmin::text::bigint FROM consents WHERE contact_id IS NOT NULL",
        "SELECT xmin::text::bigint FROM receipts WHERE survey_status <> 'used'",
    ]
    return [x for q in queries for x in await _xids(engine, q)]


async def _survey_side(engine: AsyncEngine) -> dict[str, list[int]]:
    """``xmin`` of the rows of the ended surveys, by table."""
    return {
        "survey_responses": await _xids(
            engine,
            "SELECT xmin::text::bigint FROM survey_responses WHERE status <> 'in_progress'",
        ),
        "answers": await _xids(
            engine,
            "SELECT a.xmin::text::bigint FROM answers a JOIN survey_responses r"
            " ON r.id = a.response_id WHERE r.status <> 'in_progress'",
        ),
        "consents": await _xids(
            engine, "SELECT xmin::text::bigint FROM consents WHERE contact_id IS NULL"
        ),
        "receipts": await _xids(
            engine, "SELECT xmin::text::bigint FROM receipts WHERE survey_status = 'used'"
        ),
    }


async def _cancelled(engine: AsyncEngine) -> tuple[int, int]:
    """``xmin`` of the abandoned response and of the emptied consent."""
    (response,) = await _xids(
        engine, "SELECT xmin::text::bigint FROM survey_responses WHERE status = 'abandoned'"
    )
    (consent,) = await _xids(
        engine, "SELECT xmin::text::bigint FROM consents WHERE contact_id IS NULL"
    )
    return response, consent


async def test_a_cancelled_survey_is_restamped_again_after_the_chats_that_went_on(
    pg: AsyncEngine,
) -> None:
    """The re-tester's case: one chat cancels (``/huy``) while five others are mid-survey;
    the restamp runs at once, then the others go on answering (their own rows get their own
    transaction ids again, right after the cancelled survey's). Once the next run is over
    (a minute on, without any other survey ending), every row a chat's transaction wrote
    since shares one transaction id, older than every row of the ended survey, which was
    restamped again: no chat's own id is the one nearest to it."""
    dispatcher, runner, clock = await _setup(pg)
    rng = random.Random(7)
    walks = [
        Walk("chat-a", Command("start", TOKENS[0]), rng),
        Walk("chat-b", Command("khaosat"), rng),
        Walk("chat-c", Command("start", TOKENS[1]), rng),
        Walk("chat-d", Command("khaosat"), rng, cancel=True),
        Walk("chat-e", Command("khaosat"), rng),
        Walk("chat-f", Command("khaosat"), rng),
    ]

    async def step(walk: Walk) -> None:
        event = walk.event()
        assert event is not None
        clock.now += timedelta(seconds=3)
        (handled,) = await dispatcher.process([event])
        assert isinstance(handled, Handled)
        walk.answered(handled)

    for _ in range(4):
        for walk in walks:
            await step(walk)
    cancelling = walks[3]
    while not cancelling.done:
        await step(cancelling)
    await dispatcher.close()
    restamp = runner.restamp
    assert restamp is not None
    assert restamp.pending
    assert await restamp.tick()
    first = await _cancelled(pg)
    # The others go on, each writing its own rows in its own transactions.
    for _ in range(2):
        for walk in walks[:3] + walks[4:]:
            await step(walk)
    await dispatcher.close()
    async with read_transaction(pg) as conn:
        ended = await conn.execute(
            text("SELECT count(*) FROM survey_responses WHERE status <> 'in_progress'")
        )
        assert ended.scalar_one() == 1  # only the cancelled one: nothing asked for a run
    # A minute on, the run owed after the last one restamps them all again.
    clock.now += timedelta(seconds=RESTAMP_EVERY_S)
    assert await restamp.tick()
    assert restamp.runs == 2
    again = await _cancelled(pg)
    assert all(a > b for a, b in zip(again, first, strict=True)), (first, again)
    survey = await _survey_side(pg)
    chats = await _chat_side(pg)
    lowest = min(x for xs in survey.values() for x in xs)
    # No chat row after the survey rows (nothing wrote since), and the chats' latest id is
    # one shared by every chat that wrote since the first run.
    assert max(chats) < lowest, (sorted(set(chats))[-5:], survey)
    group = max(chats)
    async with read_transaction(pg) as conn:
        shared = await conn.execute(
            text(f"SELECT count(*) FROM conversations WHERE xmin::text::bigint = {group}")
        )
        assert shared.scalar_one() >= 5
    # Every row of a chat-bearing table written since the first run is in that group (the
    # rows of surveys still in progress keep their chats' ids, before it: each is tied to its
    # chat until it ends anyway).
    bearing = [
        x for t in CHAT_BEARING for x in await _xids(pg, f"SELECT xmin::text::bigint FROM {t}")
    ]
    assert [x for x in bearing if max(first) < x < group] == []
    # The cancelled chat's lease row (when it still has one) is no nearer than the group.
    leases = await _xids(pg, "SELECT xmin::text::bigint FROM outbox_leases")
    assert all(x <= group for x in leases)
