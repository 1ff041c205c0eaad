"""Issuing receipts on a real database: one batch in, the same rows back, tokens unique."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.dossiers import NewDossier, insert_dossier
from storage.queries.receipts import (
    IssuedReceipt,
    NewReceipt,
    issue_receipts,
    short_codes_taken,
)
from storage.queries.surveys import receipts_by_token
from storage.schema import receipts

NOW = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
BATCH = [
    NewReceipt("tok-a_1", "1.001234", "Xây dựng", date(2026, 3, 5), date(2026, 6, 3)),
    NewReceipt("tok-b_2", "1.001234", None, None, date(2026, 6, 3)),
    NewReceipt("tok-c_3", "2.000111", "Đất đai", date(2026, 3, 4), None),
]


async def _count(engine: AsyncEngine) -> int:
    async with read_transaction(engine) as conn:
        return int((await conn.execute(select(func.count()).select_from(receipts))).scalar_one())


async def test_three_receipts_are_issued_and_read_back(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        issued = await issue_receipts(conn, BATCH, NOW)

    assert [r.token for r in issued] == [r.token for r in BATCH]
    assert len({r.id for r in issued}) == 3
    for new, got in zip(BATCH, issued, strict=True):
        assert got == IssuedReceipt(
            got.id, new.token, new.procedure, new.field, new.handed_over_on, new.valid_until
        )
    async with read_transaction(engine) as conn:
        rows = await receipts_by_token(conn, [r.token for r in BATCH])
        stored = {
            r.token: (r.handed_over_on, r.created_at)
            for r in await conn.execute(
                select(receipts.c.token, receipts.c.handed_over_on, receipts.c.created_at)
            )
        }
    for got in issued:
        row = rows[got.token]
        assert (row.id, row.procedure, row.field, row.valid_until) == (
            got.id, got.procedure, got.field, got.valid_until,
        )  # fmt: skip
        assert row.response_status is None  # not used for a survey yet
        assert stored[got.token] == (got.handed_over_on, NOW)


async def test_nothing_to_issue_gives_nothing(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        assert await issue_receipts(conn, [], NOW) == []
    assert await _count(engine) == 0


async def test_a_large_batch_gets_each_token_its_own_id(engine: AsyncEngine) -> None:
    # More rows than one multi-row INSERT holds: the ids must still be matched to the right
    # tokens, whatever order the database returns them in.
    batch = [NewReceipt(f"t{i:05d}", f"P{i % 7}") for i in range(2500)]
    async with write_transaction(engine) as conn:
        issued = await issue_receipts(conn, batch, NOW)
    async with read_transaction(engine) as conn:
        rows = await receipts_by_token(conn, [r.token for r in batch])
    assert [r.token for r in issued] == [r.token for r in batch]
    assert {r.token: r.id for r in issued} == {t: row.id for t, row in rows.items()}
    assert all(rows[r.token].procedure == r.procedure for r in batch)


async def test_a_token_in_use_fails_the_whole_batch(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await issue_receipts(conn, BATCH[:1], NOW)

    again = [NewReceipt("tok-new", "P"), BATCH[0]]
    with pytest.raises(IntegrityError):
        async with write_transaction(engine) as conn:
            await issue_receipts(conn, again, NOW)
    assert await _count(engine) == 1
    async with read_transaction(engine) as conn:
        assert await receipts_by_token(conn, ["tok-new"]) == {}


async def test_a_token_twice_in_one_batch_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with write_transaction(engine) as conn:
            await issue_receipts(conn, [NewReceipt("same", "P"), NewReceipt("same", "Q")], NOW)
    assert await _count(engine) == 0


#: 2,500 codes asked at once (three chunks of at most 1,000): taken ones at the first place,
#: at each end of the first chunk's boundary and at the last, by receipt and by dossier.
ASKED = [f"{1_000_000_000 + i}" for i in range(2500)]
BY_RECEIPT = (ASKED[0], ASKED[1000])
BY_DOSSIER = (ASKED[999], ASKED[2499])


async def _hold_codes(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await issue_receipts(
            conn,
            [NewReceipt(f"tok-{c}", "P", short_code=c) for c in BY_RECEIPT]
            + [NewReceipt("tok-none", "P")],  # a receipt without a short code
            NOW,
        )
        for n, code in enumerate(BY_DOSSIER):
            new = NewDossier(
                f"HS-{n}", f"dtok-{n}", "motcua", "P", date(2026, 3, 2), date(2026, 3, 30),
                short_code=code,
            )  # fmt: skip
            assert await insert_dossier(conn, new, NOW)


@pytest.mark.parametrize(
    ("asked", "taken"),
    [
        ([], set()),
        ([None, ""], set()),  # no code at all is never taken
        (["4821773015"], set()),
        ([BY_RECEIPT[0], None], {BY_RECEIPT[0]}),
        ([BY_DOSSIER[0], BY_DOSSIER[0]], {BY_DOSSIER[0]}),
        ([BY_DOSSIER[1], "4821773015", BY_RECEIPT[1]], {BY_DOSSIER[1], BY_RECEIPT[1]}),
        ([*ASKED, None], {*BY_RECEIPT, *BY_DOSSIER}),
    ],
    ids=["nothing", "no-code", "free", "receipt", "dossier", "both", "2500-codes"],
)
async def test_a_short_code_is_taken_by_a_receipt_or_a_dossier(
    engine: AsyncEngine, asked: list[str | None], taken: set[str]
) -> None:
    """One code space: a code an earlier receipt or dossier slip holds names that slip, so a
    new one may not have it."""
    await _hold_codes(engine)
    async with read_transaction(engine) as conn:
        assert await short_codes_taken(conn, asked) == taken
