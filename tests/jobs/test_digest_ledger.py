"""The digest ledger: a period's digest is claimed once, by whichever process gets there
first; the claim, not the earlier look, is what stops a second copy (two processes can both
see "not sent yet"). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import default_catalog
from conversations.periods import Period
from jobs.digests import send_digest
from storage import read_transaction, write_transaction
from storage.queries.jobs import claim_digest, digest_sent
from tests.jobs.test_digests import DIGESTS, _admin_messages, _seed, local

NOW = datetime(2026, 11, 3, 0, 31, tzinfo=UTC)
MONDAY = date(2026, 11, 2)


async def test_a_period_is_claimed_once_per_kind(engine: AsyncEngine) -> None:
    claims = [
        ("daily", MONDAY, MONDAY),
        ("daily", MONDAY, MONDAY),  # the same again: refused
        ("weekly", MONDAY, date(2026, 11, 8)),  # another kind, same start
        ("daily", date(2026, 11, 3), date(2026, 11, 3)),  # the next day
        ("weekly", MONDAY, date(2026, 11, 8)),
    ]
    got = []
    for kind, start, end in claims:
        async with write_transaction(engine) as conn:
            got.append(await claim_digest(conn, kind, start, end, NOW))
    assert got == [True, False, True, True, False]
    async with read_transaction(engine) as conn:
        assert await digest_sent(conn, "daily", MONDAY)
        assert await digest_sent(conn, "weekly", MONDAY)
        assert not await digest_sent(conn, "daily", date(2026, 11, 4))
        assert not await digest_sent(conn, "monthly", MONDAY)


async def test_a_second_process_past_the_look_sends_nothing(engine: AsyncEngine) -> None:
    """Two processes both saw the period unsent and both build the digest: one copy leaves."""
    await _seed(engine)
    period = Period(MONDAY, MONDAY)
    catalog = default_catalog()
    now = local(2026, 11, 3, 7, 31)
    first = await send_digest(engine, "daily", period, DIGESTS, catalog, now)
    second = await send_digest(engine, "daily", period, DIGESTS, catalog, now)
    assert (first, second) == (True, False)
    assert await _admin_messages(engine) == 1
