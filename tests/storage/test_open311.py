"""Open311 queries on a real database: filters, order, limit, and only public columns read.

The complaints seeded here carry a reporter's name, phone, chat, a description, staff notes
and files full of personal data; ``tests/bot/test_open311.py`` reuses them (``seed``) to prove
none of it reaches the public API.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import read_transaction, write_transaction
from storage.queries.open311 import (
    DEFAULT_WINDOW,
    MAX_LIMIT,
    PublicRequest,
    public_request,
    public_requests,
    public_requests_by_code,
)
from storage.schema import complaint_events, complaint_files, complaints, contacts

NOW = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)

# Personal data planted in every non-public column; none of it may ever be selected.
NAME = "Nguyễn Văn A"
PHONE = "0912345678"
CHAT_ID = "777000555"
ADDRESS = "Số 5 ngõ 10"
DESCRIPTION = (
    f"Tôi là {NAME}, nhà {ADDRESS} phố Hàng Bông, gọi {PHONE}: công trình bên cạnh xây sai phép"
)
NOTES = (
    f"Đã gọi ông {NAME} theo số {PHONE}",
    "Cán bộ Trần Thị B sẽ xuống kiểm tra tại nhà riêng",
)
FILE_NAME = "cccd_nguyen_van_a.jpg"
FILE_BYTES = b"\x89PNG\r\nSECRET-BYTES-4242 CCCD 001099012345"
PERSONAL_COLUMNS = {
    "description",
    "reporter_name",
    "reporter_phone",
    "contact_id",
    "anonymous",
    "source",
    "language",
    "draft_id",
    "duplicate_of",
    "rating",
    "rated_at",
}

# code, category, status, created (days before NOW), updated (days before NOW), due date.
SEED: list[tuple[str, str, str, float, float, date]] = [
    ("PA-2026-000101", "quyhoach", "new", 1, 1, date(2026, 3, 18)),
    ("PA-2026-000102", "capphep", "in_progress", 2, 0.5, date(2026, 3, 17)),
    ("PA-2026-000103", "thaido", "waiting_citizen", 3, 2, date(2026, 3, 9)),
    ("PA-2026-000104", "quyhoach", "resolved", 10, 4, date(2026, 3, 6)),
    ("PA-2026-000105", "phi", "out_of_scope", 20, 19, date(2026, 2, 27)),
    ("PA-2026-000106", "quyhoach", "duplicate", 30, 29, date(2026, 2, 18)),
    # Exactly at the edge of the 90-day default window: included.
    ("PA-2025-000107", "khac", "resolved", 90, 80, date(2025, 12, 19)),
    # One second past the edge, and long ago: left out by default.
    ("PA-2025-000108", "trehen", "in_progress", 90 + 1 / 86400, 85, date(2025, 12, 12)),
    ("PA-2025-000109", "quyhoach", "resolved", 200, 190, date(2025, 8, 30)),
]
OPEN = {"PA-2026-000101", "PA-2026-000102", "PA-2026-000103", "PA-2025-000108"}


def at(days_before: float) -> datetime:
    return NOW - timedelta(days=days_before)


async def seed(engine: AsyncEngine) -> dict[str, PublicRequest]:
    """Writes SEED, each complaint with a contact, personal data, events and a stored file;
    returns what the public queries should give for each code."""
    expected: dict[str, PublicRequest] = {}
    async with write_transaction(engine) as conn:
        contact_id = (
            await conn.execute(
                contacts.insert()
                .values(channel="telegram", external_id=CHAT_ID, language="vi", created_at=NOW)
                .returning(contacts.c.id)
            )
        ).scalar_one()
        first_id: int | None = None
        for n, (code, cat, status, created, updated, due) in enumerate(SEED):
            complaint_id = (
                await conn.execute(
                    complaints.insert()
                    .values(
                        code=code,
                        draft_id=9000 + n,
                        category=cat,
                        description=DESCRIPTION,
                        status=status,
                        source="hotline" if n % 2 else "chat",
                        contact_id=contact_id,
                        anonymous=n == 2,
                        reporter_name=NAME,
                        reporter_phone=PHONE,
                        language="vi",
                        created_at=at(created),
                        updated_at=at(updated),
                        due_on=due,
                        duplicate_of=first_id if status == "duplicate" else None,
                        rating=4 if status == "resolved" else None,
                        rated_at=at(updated) if status == "resolved" else None,
                    )
                    .returning(complaints.c.id)
                )
            ).scalar_one()
            first_id = first_id or complaint_id
            await conn.execute(
                complaint_events.insert(),
                [
                    {
                        "complaint_id": complaint_id,
                        "at": at(created),
                        "actor": "citizen",
                        "from_status": None,
                        "to_status": "new",
                        "note": NOTES[0],
                        "public": True,
                    },
                    {
                        "complaint_id": complaint_id,
                        "at": at(updated),
                        "actor": "staff:tran.thi.b",
                        "from_status": "new",
                        "to_status": status,
                        "note": NOTES[1],
                        "public": False,
                    },
                ],
            )
            await conn.execute(
                complaint_files.insert().values(
                    complaint_id=complaint_id,
                    media="photo",
                    file_name=FILE_NAME,
                    mime="image/jpeg",
                    size=len(FILE_BYTES),
                    channel="telegram",
                    channel_file_id="AgACAgIAAxkBAAIBQ2",
                    status="stored",
                    data=FILE_BYTES,
                    sha256="0" * 64,
                    created_at=at(created),
                    stored_at=at(created),
                )
            )
            expected[code] = PublicRequest(code, cat, status, at(created), at(updated), due)
    return expected


async def query(engine: AsyncEngine, **filters: object) -> list[PublicRequest]:
    args: dict[str, object] = {
        "status": None,
        "service_code": None,
        "start": None,
        "end": None,
        "limit": MAX_LIMIT,
        "now": NOW,
    }
    args.update(filters)
    async with read_transaction(engine) as conn:
        return await public_requests(conn, **args)  # type: ignore[arg-type]


def codes(found: list[PublicRequest]) -> list[str]:
    return [r.code for r in found]


def newest_first(expected: dict[str, PublicRequest], wanted: set[str]) -> list[str]:
    return [c for c, r in sorted(expected.items(), key=lambda i: i[1].created_at, reverse=True)
            if c in wanted]  # fmt: skip


def test_a_public_request_holds_nothing_personal() -> None:
    fields = {f.name for f in dataclasses.fields(PublicRequest)}
    assert fields == {"code", "category", "status", "created_at", "updated_at", "due_on"}
    assert not fields & PERSONAL_COLUMNS


async def test_the_default_is_the_last_90_days_newest_first(engine: AsyncEngine) -> None:
    expected = await seed(engine)
    found = await query(engine)
    in_window = {c for c, r in expected.items() if r.created_at >= NOW - DEFAULT_WINDOW}
    assert in_window == set(expected) - {"PA-2025-000108", "PA-2025-000109"}
    assert codes(found) == newest_first(expected, in_window)
    # Every value round-trips: aware UTC datetimes and the due date.
    assert found == [expected[c] for c in codes(found)]
    assert all(r.created_at.tzinfo is not None for r in found)


async def test_the_default_window_follows_now(engine: AsyncEngine) -> None:
    expected = await seed(engine)
    found = await query(engine, now=NOW + timedelta(days=60))
    assert set(codes(found)) == {c for c, r in expected.items() if r.created_at >= NOW - timedelta(days=30)}  # fmt: skip


async def test_status_open_and_closed(engine: AsyncEngine) -> None:
    expected = await seed(engine)
    start = NOW - timedelta(days=365)
    opened = await query(engine, status="open", start=start)
    closed = await query(engine, status="closed", start=start)
    assert codes(opened) == newest_first(expected, OPEN)
    assert codes(closed) == newest_first(expected, set(expected) - OPEN)
    assert {r.status for r in opened} == {"new", "in_progress", "waiting_citizen"}
    assert {r.status for r in closed} == {"resolved", "out_of_scope", "duplicate"}


async def test_service_code_one_or_several(engine: AsyncEngine) -> None:
    expected = await seed(engine)
    planning = await query(engine, service_code="quyhoach")
    assert codes(planning) == ["PA-2026-000101", "PA-2026-000104", "PA-2026-000106"]
    several = await query(engine, service_code=["phi", "thaido", "nosuchcode"])
    assert codes(several) == ["PA-2026-000103", "PA-2026-000105"]
    assert await query(engine, service_code=[]) == []
    combined = await query(engine, service_code="quyhoach", status="closed")
    assert codes(combined) == ["PA-2026-000104", "PA-2026-000106"]
    assert all(expected[r.code] == r for r in planning + several)


async def test_dates_bound_the_creation_time_inclusively(engine: AsyncEngine) -> None:
    await seed(engine)
    # Exactly on both bounds: PA-2026-000103 (3 days ago) and PA-2026-000104 (10 days ago).
    found = await query(engine, start=at(10), end=at(3))
    assert codes(found) == ["PA-2026-000103", "PA-2026-000104"]
    # A start alone reaches back past the 90-day default; so does an end alone.
    assert codes(await query(engine, start=at(100))) == [
        "PA-2026-000101", "PA-2026-000102", "PA-2026-000103", "PA-2026-000104",
        "PA-2026-000105", "PA-2026-000106", "PA-2025-000107", "PA-2025-000108",
    ]  # fmt: skip
    assert codes(await query(engine, end=at(85))) == [
        "PA-2025-000107", "PA-2025-000108", "PA-2025-000109",
    ]  # fmt: skip
    # Any offset is the same instant: 3 days ago in Hanoi time.
    hanoi = at(3).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert codes(await query(engine, start=hanoi, end=hanoi)) == ["PA-2026-000103"]
    assert await query(engine, start=at(2.5), end=at(2.4)) == []


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="naive"):
        await query(engine, start=datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="naive"):
        await query(engine, end=datetime(2026, 3, 1))


async def test_the_limit_keeps_the_newest_and_is_capped(engine: AsyncEngine) -> None:
    expected = await seed(engine)
    assert codes(await query(engine, limit=2)) == ["PA-2026-000101", "PA-2026-000102"]
    with pytest.raises(ValueError, match="limit"):
        await query(engine, limit=0)
    # More rows than the cap, all created at the same instant: ids break the tie, newest first.
    async with write_transaction(engine) as conn:
        await conn.execute(
            complaints.insert(),
            [
                {
                    "code": f"PA-2026-{500000 + i:06d}",
                    "category": "khac",
                    "description": DESCRIPTION,
                    "status": "new",
                    "source": "chat",
                    "anonymous": True,
                    "language": "vi",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "due_on": date(2026, 3, 19),
                }
                for i in range(MAX_LIMIT + 5)
            ],
        )
    found = await query(engine, limit=MAX_LIMIT * 10)
    assert len(found) == MAX_LIMIT
    assert codes(found)[:3] == ["PA-2026-501004", "PA-2026-501003", "PA-2026-501002"]
    assert "PA-2026-000101" not in codes(found)
    assert len(expected) == len(SEED)


async def test_one_request_by_code(engine: AsyncEngine) -> None:
    expected = await seed(engine)
    async with read_transaction(engine) as conn:
        for code, row in expected.items():
            assert await public_request(conn, code) == row
        assert await public_request(conn, "PA-2026-999999") is None
        assert await public_request(conn, "' OR 1=1 --") is None


async def test_several_requests_by_code(engine: AsyncEngine) -> None:
    expected = await seed(engine)
    wanted = ["PA-2025-000109", "PA-2026-000102", "PA-2026-999999", "PA-2026-000102"]
    async with read_transaction(engine) as conn:
        found = await public_requests_by_code(conn, wanted)
        assert await public_requests_by_code(conn, []) == []
        with pytest.raises(ValueError, match="at most"):
            await public_requests_by_code(conn, [f"PA-2026-{i:06d}" for i in range(MAX_LIMIT + 1)])
    # Old ones too (no date window), newest first, each once, unknown codes left out.
    assert found == [expected["PA-2026-000102"], expected["PA-2025-000109"]]


@pytest.mark.parametrize(
    ("limit", "offset", "wanted"),
    [(2, 0, slice(0, 2)), (2, 2, slice(2, 4)), (3, 6, slice(6, 9)), (5, 9, slice(9, 9))],
)
async def test_a_page_is_an_offset_in_the_newest_first_order(
    engine: AsyncEngine, limit: int, offset: int, wanted: slice
) -> None:
    expected = await seed(engine)
    every = newest_first(expected, set(expected))
    found = await query(engine, start=NOW - timedelta(days=365), limit=limit, offset=offset)
    assert codes(found) == every[wanted]
    with pytest.raises(ValueError, match="offset"):
        await query(engine, offset=-1)
