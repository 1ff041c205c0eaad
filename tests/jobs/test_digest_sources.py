"""The digest counts completed surveys by how they opened: from a receipt, from a dossier's
invitation, or from the menu (the kind one chat could otherwise repeat)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from conversations import Command, default_catalog
from conversations.periods import Period
from jobs.digests import digest_payloads
from storage import read_transaction, write_transaction
from storage.queries.aggregates import SurveySources, completed_sources
from storage.queries.surveys import create_receipt
from tests.jobs.test_digests import DIGESTS, local
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

MONDAY = Period(date(2026, 11, 2), date(2026, 11, 2))


async def test_completed_surveys_are_counted_by_how_they_opened(engine: AsyncEngine) -> None:
    clock = SequentialClock(start=datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # 08:00 local
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    async with write_transaction(engine) as conn:
        for token in ("slip-token-0001", "slip-token-0002"):
            await create_receipt(conn, token, "1.009972", clock())
    rng = random.Random(5)
    for user in ("menu-a", "menu-b", "menu-c"):
        await complete_survey(dispatcher, user, rng)
    await complete_survey(dispatcher, "menu-d", rng, finish="cancel")  # not completed
    await complete_survey(dispatcher, "slip-a", rng, opening=Command("start", "slip-token-0001"))
    await complete_survey(dispatcher, "slip-b", rng, opening=Command("start", "slip-token-0002"))
    await dispatcher.close()
    # Two menu surveys on the other method: in neither its counts nor their breakdown.
    other = Dispatcher(
        engine,
        DispatchSettings(survey_method="sipas-2640"),
        clock=clock,
        new_id=SequentialIds(5001),
    )
    for user in ("menu-e", "menu-f"):
        await complete_survey(other, user, rng)
    await other.close()

    async with read_transaction(engine) as conn:
        monday = await completed_sources(
            conn, local(2026, 11, 2, 0), local(2026, 11, 3, 0), method="sipas-1001"
        )
        old = await completed_sources(
            conn, local(2026, 11, 2, 0), local(2026, 11, 3, 0), method="sipas-2640"
        )
        tuesday = await completed_sources(
            conn, local(2026, 11, 3, 0), local(2026, 11, 4, 0), method="sipas-1001"
        )
    assert monday == SurveySources(receipt=2, invitation=0, open=3)
    assert old == SurveySources(receipt=0, invitation=0, open=2)
    assert tuesday == SurveySources()

    [text, *_] = await digest_payloads(
        engine, "daily", MONDAY, DIGESTS, default_catalog(), local(2026, 11, 3, 8)
    )
    lines = getattr(text, "text", "").splitlines()
    counts = next(i for i, line in enumerate(lines) if line.startswith("Phiếu khảo sát: 5 hoàn"))
    # Under the totals it breaks down, of the same method.
    assert lines[counts + 1].startswith(
        "Trong đó: 2 qua mã trên giấy hẹn; 0 theo lời mời khi trả hồ sơ; 3 tự mở từ menu"
    )
