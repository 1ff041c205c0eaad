"""One batch's look-ups (``FactsCache.load``, both databases): what every event of the batch
asked for is fetched, whichever event asked, and nothing nobody asked for (issue 17: the
survivors of ``facts.py``'s mutation run)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.facts import FactsCache
from conversations.needs import Lookups
from storage import read_transaction, write_transaction
from storage.queries.dossiers import NewDossier, insert_dossier
from storage.queries.surveys import create_receipt
from storage.schema import complaints, dossiers

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def _seed(engine: AsyncEngine) -> tuple[list[int], list[int]]:
    """Two receipts, two dossiers, two complaints; returns the receipts' and dossiers' ids."""
    receipt_ids: list[int] = []
    dossier_ids: list[int] = []
    async with write_transaction(engine) as conn:
        for n in range(2):
            receipt_ids.append(await create_receipt(conn, f"R{n}" * 12, "1.009972", NOW))
            new = NewDossier(
                code=f"HS-2026-{n:04d}",
                token=f"tok{n:021d}",
                client="motcua",
                procedure="1.009972",
                received_on=date(2026, 2, 2),
                due_on=date(2026, 3, 2),
            )
            assert await insert_dossier(conn, new, NOW)
            found = await conn.execute(select(dossiers.c.id).where(dossiers.c.code == new.code))
            dossier_ids.append(int(found.scalar_one()))
            await conn.execute(
                complaints.insert(),
                {
                    "code": f"PA-2026-00000{n + 1}",
                    "draft_id": 7000 + n,
                    "category": "capphep",
                    "description": "Công trình lấn chiếm vỉa hè.",
                    "status": "new",
                    "source": "chat",
                    "anonymous": True,
                    "language": "vi",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "due_on": (NOW + timedelta(days=14)).date(),
                },
            )
    return receipt_ids, dossier_ids


async def test_what_each_event_of_a_batch_asked_for_is_fetched(engine: AsyncEngine) -> None:
    receipts, dossier_ids = await _seed(engine)
    first = Lookups(
        receipt_token="R0" * 12,
        case_codes=frozenset({"PA-2026-000001"}),
        dossier_ids=frozenset({dossier_ids[0]}),
    )
    second = Lookups(
        receipt_id=receipts[1],
        case_codes=frozenset({"PA-2026-000002"}),
        dossier_ids=frozenset({dossier_ids[1]}),
    )
    cache = FactsCache(NOW, TZ)
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, first), (2, second)])
    assert set(cache.by_id) == set(receipts)
    assert set(cache.by_token) == {"R0" * 12, "R1" * 12}
    assert set(cache.cases) == {"PA-2026-000001", "PA-2026-000002"}
    assert set(cache.dossiers) == set(dossier_ids)
    facts = cache.facts(second, 2, admin=False, sender="u2")
    assert facts.receipt is not None
    assert facts.receipt.id == receipts[1]
    assert set(facts.complaints) == {"PA-2026-000002"}
    assert set(facts.dossiers) == {dossier_ids[1]}
    # Nobody asked for the list of open cases or a count: neither was fetched.
    assert cache.open_cases is None
    assert cache.today_counts == {}


async def test_the_open_cases_and_the_day_s_count_are_fetched_when_asked(
    engine: AsyncEngine,
) -> None:
    await _seed(engine)
    cache = FactsCache(NOW, TZ)
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, Lookups()), (2, Lookups(open_cases=True))])
    assert cache.open_cases is not None
    assert {r.code for r in cache.open_cases} == {"PA-2026-000001", "PA-2026-000002"}
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, Lookups(complaints_today=True)), (2, Lookups())])
    assert cache.today_counts == {1: 0}
