"""Property-based: random event sequences through engine and storage keep the invariants.

- no exception escapes (and the engine never needs its error fallback);
- at most one answer per item per response;
- a response's answers change only while it is in progress;
- every citizen event gets at least one reply.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Attachment, Choice, Command, Inbound, InboundEvent, Text
from jobs.expiry import expire_due
from storage import migrate, open_engine, read_transaction
from storage.schema import answers, survey_responses
from tests.support.clock import SequentialClock, SequentialIds

TEXTS = ["1", "5", "9", "có", "không", "xong", "quay lại", "bỏ qua", "Rất hài lòng", "1 3",
         "gửi phiếu", "khảo sát", "", "  ", "ý kiến của tôi", "x" * 1200, "⑤", "năm"]  # fmt: skip
COMMANDS = ["start", "khaosat", "huy", "trogiup", "ngonngu", "survey", "cancel", "help", "bogus"]
STALE = [
    "1.1:5",
    "info:posted",
    "consent:yes",
    "summary:submit",
    "lang:fr",
    "menu:x",
    "::",
    "5.4:9",
]

SETTINGS = DispatchSettings(survey_ttl=timedelta(hours=1))


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('prop')) / 'prop.db'}"

    async def setup() -> None:
        engine = open_engine(url)
        await migrate(engine)
        await engine.dispose()

    asyncio.run(setup())
    return url


async def _frozen_answers(engine: AsyncEngine) -> dict[int, list[tuple[str, object, object]]]:
    async with read_transaction(engine) as conn:
        rows = await conn.execute(
            select(answers.c.response_id, answers.c.item, answers.c.value_int, answers.c.value_text)
            .join(survey_responses, survey_responses.c.id == answers.c.response_id)
            .where(survey_responses.c.status != "in_progress")
            .order_by(answers.c.response_id, answers.c.item)
        )
        frozen: dict[int, list[tuple[str, object, object]]] = {}
        for rid, item, vi, vt in rows:
            frozen.setdefault(int(rid), []).append((item, vi, vt))
        return frozen


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_event_sequences_keep_invariants(db_url: str, data: st.DataObject) -> None:
    run = uuid.uuid4().hex[:8]
    users = [f"{run}-a", f"{run}-b"]
    steps = data.draw(st.integers(min_value=5, max_value=60), label="steps")

    async def scenario() -> None:
        engine = open_engine(db_url)
        clock = SequentialClock()
        ids = SequentialIds(start=int(uuid.uuid4().int % 10**12) * 1000)
        dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
        last_choices: dict[str, list[str]] = {u: [] for u in users}
        counter = itertools.count()
        try:
            for _ in range(steps):
                user = data.draw(st.sampled_from(users), label="user")
                kind = data.draw(
                    st.sampled_from(["choice", "choice", "choice", "text", "command", "stale",
                                     "file", "wait"]),
                    label="kind",
                )  # fmt: skip
                if kind == "wait":
                    clock.advance(timedelta(minutes=data.draw(st.integers(1, 180))))
                    await expire_due(dispatcher)
                    continue
                payload: Inbound
                if kind == "choice" and last_choices[user]:
                    payload = Choice(data.draw(st.sampled_from(last_choices[user])))
                elif kind == "text":
                    payload = Text(data.draw(st.sampled_from(TEXTS)))
                elif kind == "stale":
                    payload = Choice(data.draw(st.sampled_from(STALE)))
                elif kind == "file":
                    payload = Attachment("photo", 1000)
                else:
                    name = data.draw(st.sampled_from(COMMANDS))
                    payload = Command(name, data.draw(st.sampled_from(["", "R-NONE"])))
                before = await _frozen_answers(engine)
                event = InboundEvent(f"{run}-{next(counter)}", "prop", user, payload)
                result = (await dispatcher.process([event]))[0]
                assert isinstance(result, Handled), result
                assert result.messages, f"no reply to {payload}"
                assert "common.error" not in [m.key for m in result.messages]
                with_choices = [m for m in result.messages if m.choices]
                if with_choices:
                    last_choices[user] = [c[0] for c in with_choices[-1].choices]
                after = await _frozen_answers(engine)
                assert {rid: after[rid] for rid in before} == before
            async with read_transaction(engine) as conn:
                dup = await conn.execute(
                    select(answers.c.response_id, answers.c.item)
                    .group_by(answers.c.response_id, answers.c.item)
                    .having(func.count() > 1)
                )
                assert dup.all() == []
        finally:
            await dispatcher.close()
            await engine.dispose()

    asyncio.run(scenario())
