"""A case is overdue on any of its open deadlines (forward, tell the sender it is accepted,
resolve), and the staff list and the digest say which one it missed: read from a real
database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.facts import _complaint
from conversations import default_catalog
from conversations.context import Env, Facts
from conversations.deadlines import missed_by
from conversations.effects import ConversationState
from conversations.flows.staff import case_list
from conversations.periods import Period
from conversations.workdays import load_calendar
from jobs.digest import case_lines
from jobs.reports import case_summary
from storage import read_transaction, write_transaction
from storage.queries.complaints import change_complaint, complaints_by_code, open_complaints
from storage.queries.export import complaints_for_export
from storage.schema import complaints

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = load_calendar()
#: Friday 20 March 2026, 10:00 in Hanoi.
NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
TODAY = date(2026, 3, 20)
FAR = date(2026, 4, 30)

# code, status, forward by, accept by, resolve by, officer
SEED: list[tuple[str, str, date | None, date | None, date, str | None]] = [
    # New, nobody acted: forwarding and the acceptance notice both missed.
    ("PA-2026-000001", "new", date(2026, 3, 6), date(2026, 3, 13), FAR, None),
    # New: only the 5 days to forward (if out of remit) have passed.
    ("PA-2026-000002", "new", date(2026, 3, 19), date(2026, 3, 26), FAR, None),
    # Taken (the sender was told): only the day to resolve counts, and it passed.
    ("PA-2026-000003", "in_progress", date(2026, 2, 20), date(2026, 2, 27), date(2026, 3, 18), "An"),
    # Taken long ago, still within the day to resolve: on time.
    ("PA-2026-000004", "in_progress", date(2026, 2, 20), date(2026, 2, 27), FAR, "An"),
    # Filed today: on time.
    ("PA-2026-000005", "new", date(2026, 3, 27), date(2026, 4, 3), FAR, None),
    # Closed late: no longer anybody's deadline.
    ("PA-2026-000006", "resolved", date(2026, 2, 2), date(2026, 2, 9), date(2026, 2, 20), "An"),
    # Filed before the law's deadlines were kept: only the day to resolve.
    ("PA-2026-000007", "waiting_citizen", None, None, date(2026, 3, 19), None),
]  # fmt: skip


async def _seed(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(
            complaints.insert(),
            [
                {
                    "code": code,
                    "draft_id": 7000 + n,
                    "category": "thutuc",
                    "description": "Hồ sơ chậm.",
                    "status": status,
                    "source": "chat",
                    "anonymous": True,
                    "language": "vi",
                    "created_at": datetime(2026, 2, 2, 3, 0, tzinfo=UTC),
                    "updated_at": datetime(2026, 2, 2, 3, 0, tzinfo=UTC),
                    "due_on": due,
                    "forward_due_on": forward,
                    "accept_due_on": accept,
                    "assignee": officer and f"staff:{officer}",
                    "assignee_name": officer,
                }
                for n, (code, status, forward, accept, due, officer) in enumerate(SEED)
            ],
        )


async def test_hoso_overdue_lists_every_missed_deadline(engine: AsyncEngine) -> None:
    await _seed(engine)
    async with read_transaction(engine) as conn:
        rows = await open_complaints(conn)
    facts = Facts(admin=True, sender="9", open_cases=tuple(_complaint(r, 0) for r in rows))
    env = Env(now=NOW, new_id=lambda: 1, tz=HANOI, calendar=CALENDAR)
    outcome = case_list(ConversationState(language="vi"), env, facts, "overdue")
    text = "\n".join(default_catalog().render(r, "vi").text for r in outcome.replies)
    assert text.splitlines()[1:] == [
        "• ⚠ PA-2026-000001 · Thủ tục hành chính · Mới tiếp nhận · hạn 30/04"
        " · quá hạn chuyển cơ quan có thẩm quyền 06/03 (10 ngày);"
        " quá hạn báo thụ lý 13/03 (5 ngày)",
        "• ⚠ PA-2026-000003 · Thủ tục hành chính · Đang xử lý · hạn 18/03"
        " · quá hạn giải quyết 18/03 (2 ngày) · An",
        "• ⚠ PA-2026-000007 · Thủ tục hành chính · Chờ người gửi bổ sung · hạn 19/03"
        " · quá hạn giải quyết 19/03 (1 ngày)",
        "• ⚠ PA-2026-000002 · Thủ tục hành chính · Mới tiếp nhận · hạn 30/04"
        " · quá hạn chuyển cơ quan có thẩm quyền 19/03 (1 ngày)",
    ]
    assert text.splitlines()[0].startswith("Phản ánh đang mở (quá hạn): 4")


async def test_the_digest_counts_a_missed_acceptance_notice_as_overdue(
    engine: AsyncEngine,
) -> None:
    await _seed(engine)
    async with read_transaction(engine) as conn:
        cases = await case_summary(conn, Period(TODAY, TODAY), HANOI, TODAY, CALENDAR)
    assert [(code, [m.kind for m in missed]) for code, missed in cases.overdue] == [
        ("PA-2026-000001", ["forward", "accept"]),
        ("PA-2026-000003", ["resolve"]),
        ("PA-2026-000002", ["forward"]),
        ("PA-2026-000007", ["resolve"]),
    ]
    assert cases.open == 6
    # A case already overdue is not also "due soon".
    assert cases.due_soon == ()
    # Per officer, a case overdue on any deadline counts as overdue.
    assert cases.officers == (("An", 2, 1), (None, 4, 3))
    text = [default_catalog().render(r, "vi").text for r in case_lines(cases)]
    assert text[1:5] == [
        "⚠ Quá hạn: 4 (PA-2026-000001, PA-2026-000003, PA-2026-000002, PA-2026-000007)",
        "   – Quá hạn chuyển cơ quan có thẩm quyền (5 ngày làm việc): 2"
        " (PA-2026-000001, PA-2026-000002)",
        "   – Quá hạn báo thụ lý cho người gửi (10 ngày làm việc): 1 (PA-2026-000001)",
        "   – Quá hạn giải quyết: 2 (PA-2026-000003, PA-2026-000007)",
    ]


async def test_a_case_handed_back_owes_neither_the_notice_nor_the_forwarding(
    engine: AsyncEngine,
) -> None:
    """Taken (the sender told), then handed back: "new" and nobody's again, but once the 5
    and 10 working days pass only the day to resolve can make it overdue."""
    await _seed(engine)
    taken = datetime(2026, 3, 19, 2, 0, tzinfo=UTC)
    async with write_transaction(engine) as conn:
        for at, to, act in ((taken, "in_progress", "take"), (NOW, "new", "release")):
            assert await change_complaint(
                conn, "PA-2026-000005", to_status=to, note=None, public=False,
                actor="staff:An", at=at, duplicate_of=None, files=(), channel="telegram",
                action=act, assign=("staff:An", "An") if act == "take" else None,
                unassign=act == "release",
            )  # fmt: skip
    async with read_transaction(engine) as conn:
        row = (await complaints_by_code(conn, ["PA-2026-000005"]))["PA-2026-000005"]
        listed = {r.code: r for r in await open_complaints(conn)}
    assert (row.status, row.assignee, row.accepted_at) == ("new", None, taken)
    case = _complaint(listed["PA-2026-000005"], 0)
    # 03/04 and 27/03 (accept, forward) passed; 30/04 (resolve) not yet, then passed.
    assert missed_by(case, date(2026, 4, 10)) == ()
    assert [m.kind for m in missed_by(case, date(2026, 5, 4))] == ["resolve"]
    # A case that never left "new" still owes both.
    never = _complaint(listed["PA-2026-000002"], 0)
    assert [m.kind for m in missed_by(never, date(2026, 4, 10))] == ["forward", "accept"]


async def test_no_overdue_case_falls_past_the_list_limit(engine: AsyncEngine) -> None:
    """More open cases than the list holds (200): those overdue only on the forward or the
    accept deadline, whose day to resolve is the latest of all, still come first."""
    on_time = [
        {
            "code": f"PA-2026-{n:06d}", "draft_id": 9000 + n, "category": "thutuc",
            "description": "Hồ sơ chậm.", "status": "in_progress", "source": "chat",
            "anonymous": True, "language": "vi",
            "created_at": datetime(2026, 3, 10, 3, 0, tzinfo=UTC),
            "updated_at": datetime(2026, 3, 10, 3, 0, tzinfo=UTC),
            "due_on": date(2026, 3, 25), "forward_due_on": date(2026, 3, 17),
            "accept_due_on": date(2026, 3, 24),
            "accepted_at": datetime(2026, 3, 11, 3, 0, tzinfo=UTC),
        }
        for n in range(100, 310)
    ]  # fmt: skip
    late = [
        # code, forward by, accept by, forwarded to
        ("PA-2026-000011", date(2026, 3, 6), date(2026, 3, 13), "UBND phường"),  # accept only
        ("PA-2026-000012", date(2026, 3, 19), date(2026, 3, 26), None),  # forward only
    ]
    async with write_transaction(engine) as conn:
        await conn.execute(complaints.insert(), on_time)
        await conn.execute(
            complaints.insert(),
            [
                {
                    **on_time[0], "code": code, "draft_id": 8000 + n, "status": "new",
                    "due_on": FAR, "forward_due_on": forward, "accept_due_on": accept,
                    "forwarded_to": to, "accepted_at": None,
                }
                for n, (code, forward, accept, to) in enumerate(late)
            ],
        )  # fmt: skip
    async with read_transaction(engine) as conn:
        rows = await open_complaints(conn)
    assert len(rows) == 200
    facts = Facts(admin=True, sender="9", open_cases=tuple(_complaint(r, 0) for r in rows))
    env = Env(now=NOW, new_id=lambda: 1, tz=HANOI, calendar=CALENDAR)
    outcome = case_list(ConversationState(language="vi"), env, facts, "overdue")
    text = "\n".join(default_catalog().render(r, "vi").text for r in outcome.replies)
    assert [line.split(" · ")[0] for line in text.splitlines()[1:]] == [
        "• ⚠ PA-2026-000011",
        "• ⚠ PA-2026-000012",
    ]


async def test_the_export_reads_every_deadline_the_digest_counts(engine: AsyncEngine) -> None:
    await _seed(engine)
    async with read_transaction(engine) as conn:
        exported = await complaints_for_export(conn, date(2026, 2, 1), date(2026, 2, 28), HANOI)
        cases = await case_summary(conn, Period(TODAY, TODAY), HANOI, TODAY, CALENDAR)
    found = {c.code: [m.kind for m in missed_by(c, TODAY, c.closed_on)] for c in exported}
    assert {code: kinds for code, kinds in found.items() if kinds} == {
        code: [m.kind for m in missed] for code, missed in cases.overdue
    }


async def test_the_export_lists_every_case_still_open_whatever_its_filing_date(
    engine: AsyncEngine,
) -> None:
    """Filed in February, exported for March: the open ones are listed (the overdue first of
    all), the case closed in February is not."""
    await _seed(engine)
    async with read_transaction(engine) as conn:
        exported = await complaints_for_export(conn, date(2026, 3, 1), date(2026, 3, 31), HANOI)
    assert [c.code for c in exported] == [code for code, status, *_ in SEED if status != "resolved"]
