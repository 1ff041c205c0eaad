"""One batch's look-ups (``FactsCache.load``, both databases): what every event of the batch
asked for is fetched, whichever event asked, and nothing nobody asked for (issue 17: the
survivors of ``facts.py``'s mutation run)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.facts import FactsCache
from conversations.needs import Lookups
from storage import read_transaction, write_transaction
from storage.queries.dossiers import NewDossier, insert_dossier
from storage.queries.surveys import create_receipt
from storage.queries.zalo_chats import citizen_wrote, record_notices
from storage.schema import complaints, contacts, dossiers, receipts

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


async def test_a_receipt_is_found_by_its_short_code_too(engine: AsyncEngine) -> None:
    """Typed on Zalo, the 10 digits of the slip find the receipt, and are known by it."""
    ids, _ = await _seed(engine)
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(receipts).where(receipts.c.id == ids[1]).values(short_code="1234567890")
        )
    cache = FactsCache(NOW, TZ)
    wanted = Lookups(receipt_token="1234567890")
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, wanted)])
    assert cache.by_token["1234567890"] == cache.by_token["R1" * 12]
    assert cache.by_id[ids[1]] == cache.by_token["R1" * 12]
    receipt = cache.facts(wanted, 1, admin=False, sender="u").receipt
    assert receipt is not None
    assert (receipt.id, receipt.token, receipt.procedure) == (ids[1], "R1" * 12, "1.009972")


async def _filed_from(engine: AsyncEngine, code: str, channel: str, chat: str) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(
            insert(contacts).values(channel=channel, external_id=chat, created_at=NOW)
        )
        found = await conn.execute(select(contacts.c.id).where(contacts.c.external_id == chat))
        contact_id = int(found.scalar_one())
        await conn.execute(
            update(complaints).where(complaints.c.code == code).values(contact_id=contact_id)
        )


async def test_the_zalo_window_of_the_cases_looked_up_and_a_refused_template(
    engine: AsyncEngine,
) -> None:
    """When each Zalo sender last wrote (Telegram chats are not looked up, even one whose id
    a Zalo chat shares), and a template Zalo refused since it last went through is not used:
    notices are then held (and staff told), only for a batch that met a Zalo case."""
    await _seed(engine)
    await _filed_from(engine, "PA-2026-000001", "zalo", "z-1")
    await _filed_from(engine, "PA-2026-000002", "telegram", "z-2")
    async with write_transaction(engine) as conn:
        await citizen_wrote(conn, "z-1", NOW - timedelta(days=8))
        await citizen_wrote(conn, "z-2", NOW - timedelta(days=1))  # a Zalo chat, same id
        await record_notices(conn, ["template"], NOW - timedelta(hours=2))
        await record_notices(conn, ["tpl_refused"], NOW - timedelta(hours=1))
    both = Lookups(case_codes=frozenset({"PA-2026-000001", "PA-2026-000002"}))
    cache = FactsCache(NOW, TZ, zalo=("tpl", False))
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, both)])
    assert cache.zalo_last == {"z-1": NOW - timedelta(days=8)}
    assert cache.zalo == ("", False)  # the template refused: held
    facts = cache.facts(both, 1, admin=True, sender="staff:1")
    assert facts.complaints["PA-2026-000001"].reach == "held"
    assert facts.complaints["PA-2026-000002"].reach == "direct"

    telegram_only = Lookups(case_codes=frozenset({"PA-2026-000002"}))
    cache = FactsCache(NOW, TZ, zalo=("tpl", True))
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, telegram_only)])
    assert cache.zalo == ("tpl", True)  # no Zalo case in the batch: nothing to change

    async with write_transaction(engine) as conn:
        await record_notices(conn, ["template"], NOW)  # went through since: the setting works
    cache = FactsCache(NOW, TZ, zalo=("tpl", True))
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, both)])
    assert cache.zalo == ("tpl", True)
    assert cache.facts(both, 1, admin=True, sender="s").complaints["PA-2026-000001"].reach == (
        "template"
    )


async def test_the_open_list_knows_the_zalo_window_of_its_zalo_cases_only(
    engine: AsyncEngine,
) -> None:
    """A case chosen from the open list is acted on with the list's facts: when its Zalo sender
    last wrote is looked up with the list (not for a Telegram chat whose id a Zalo chat shares,
    nor for a case filed by no chat), so the notice goes the way it would for a case typed."""
    await _seed(engine)
    await _filed_from(engine, "PA-2026-000001", "zalo", "z-1")
    await _filed_from(engine, "PA-2026-000002", "telegram", "z-2")
    async with write_transaction(engine) as conn:
        await citizen_wrote(conn, "z-1", NOW - timedelta(days=1))
        await citizen_wrote(conn, "z-2", NOW - timedelta(hours=1))  # a Zalo chat, same id
    listing = Lookups(open_cases=True)
    cache = FactsCache(NOW, TZ, zalo=("", True))
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, listing)])
    assert cache.zalo_last == {"z-1": NOW - timedelta(days=1)}
    listed = cache.facts(listing, 1, admin=True, sender="staff:1").open_cases
    assert listed is not None
    assert {c.code: c.reach for c in listed} == {
        "PA-2026-000001": "direct",  # wrote a day ago: within Zalo's window
        "PA-2026-000002": "direct",  # Telegram
    }
    # Eight days later the Zalo sender is outside the window; a Telegram one never is.
    later = FactsCache(NOW + timedelta(days=8), TZ, zalo=("", True))
    async with read_transaction(engine) as conn:
        await later.load(conn, [(1, listing)])
    listed = later.facts(listing, 1, admin=True, sender="staff:1").open_cases
    assert listed is not None
    assert {c.code: c.reach for c in listed} == {
        "PA-2026-000001": "held",
        "PA-2026-000002": "direct",
    }


async def test_a_dossier_is_found_by_its_slip_s_short_code_and_known_by_it(
    engine: AsyncEngine,
) -> None:
    """Typed on Zalo, the 10 digits of the appointment slip find the dossier."""
    _, dossier_ids = await _seed(engine)
    async with write_transaction(engine) as conn:
        await conn.execute(
            update(dossiers).where(dossiers.c.id == dossier_ids[1]).values(short_code="0987654321")
        )
    cache = FactsCache(NOW, TZ)
    wanted = Lookups(dossier_token="0987654321")
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, wanted)])
    assert cache.dossier_tokens == {"0987654321": dossier_ids[1]}
    found = cache.dossier(dossier_ids[1])
    assert found is not None
    assert (found.code, found.short_code) == ("HS-2026-0001", "0987654321")
    dossier = cache.facts(wanted, 1, admin=False, sender="u").dossier
    assert dossier is not None
    assert (dossier.id, dossier.code) == (dossier_ids[1], "HS-2026-0001")


async def test_a_dossier_asked_for_once_in_a_batch_is_not_read_again(engine: AsyncEngine) -> None:
    """Each event of a batch sees the dossier as the batch first read it (and the batch's own
    changes), not a second read of the table: asked-for tokens and ids are remembered across
    the batch's loads, whichever load asked."""
    _, dossier_ids = await _seed(engine)
    cache = FactsCache(NOW, TZ)
    by_token = [Lookups(dossier_token=f"tok{n:021d}") for n in range(2)]
    by_id = [Lookups(dossier_ids=frozenset({i})) for i in dossier_ids]
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, by_token[0]), (1, by_id[0])])
        await cache.load(conn, [(2, by_token[1]), (2, by_id[1])])
    async with write_transaction(engine) as conn:
        await conn.execute(update(dossiers).values(status="handed_over"))
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(1, by_token[0]), (1, by_id[0])])
        await cache.load(conn, [(2, by_token[1]), (2, by_id[1])])
    assert [cache.dossiers[i].status for i in dossier_ids] == ["received", "received"]


async def test_a_receipt_or_case_asked_for_once_in_a_batch_is_not_read_again(
    engine: AsyncEngine,
) -> None:
    """Receipts by token and by id, cases by code, a chat's count of the day: what one load of
    the batch asked for is remembered by the loads after it, even those that ask for other
    kinds of things (the batch adds what it files itself)."""
    receipt_ids, _ = await _seed(engine)
    await _filed_from(engine, "PA-2026-000001", "telegram", "t-1")
    async with write_transaction(engine) as conn:
        await conn.execute(update(complaints).values(created_at=NOW - timedelta(days=2)))
        found = await conn.execute(select(contacts.c.id).where(contacts.c.external_id == "t-1"))
        contact_id = int(found.scalar_one())
    asks = [
        Lookups(complaints_today=True),
        Lookups(receipt_token="R0" * 12),
        Lookups(receipt_id=receipt_ids[1]),
        Lookups(case_codes=frozenset({"PA-2026-000001"})),
        Lookups(case_codes=frozenset({"PA-2026-000002"})),
    ]
    cache = FactsCache(NOW, TZ)
    async with read_transaction(engine) as conn:
        for lookups in asks:
            await cache.load(conn, [(contact_id, lookups)])
    async with write_transaction(engine) as conn:
        await conn.execute(update(receipts).values(procedure="2.000001"))
        await conn.execute(update(complaints).values(description="Đã sửa.", created_at=NOW))
    async with read_transaction(engine) as conn:
        for lookups in asks:
            await cache.load(conn, [(contact_id, lookups)])
    assert cache.today_counts == {contact_id: 0}
    assert cache.by_token["R0" * 12].procedure == "1.009972"
    assert cache.by_id[receipt_ids[1]].procedure == "1.009972"
    assert {c.description for c in cache.cases.values()} == {"Công trình lấn chiếm vỉa hè."}


async def test_the_day_s_count_starts_at_local_midnight(engine: AsyncEngine) -> None:
    """The daily limit of complaints counts from midnight in Hanoi, not in UTC: at 03:00 on
    3 March local (20:00 UTC the day before), a case filed at 00:30 local counts, one filed
    the afternoon before does not."""
    await _seed(engine)
    await _filed_from(engine, "PA-2026-000001", "telegram", "t-1")
    async with write_transaction(engine) as conn:
        found = await conn.execute(select(contacts.c.id).where(contacts.c.external_id == "t-1"))
        contact_id = int(found.scalar_one())
        await conn.execute(
            update(complaints).values(
                contact_id=contact_id, created_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
            )
        )
        await conn.execute(
            update(complaints)
            .where(complaints.c.code == "PA-2026-000001")
            .values(created_at=datetime(2026, 3, 2, 17, 30, tzinfo=UTC))  # 00:30 on 3 March
        )
    cache = FactsCache(datetime(2026, 3, 2, 20, 0, tzinfo=UTC), TZ)
    async with read_transaction(engine) as conn:
        await cache.load(conn, [(contact_id, Lookups(complaints_today=True))])
    assert cache.today_counts == {contact_id: 1}
