"""Measures of dossiers for leaders: the pure figures (on time, within half the legal limit,
response rate, answer delay), and the same from storage in the report, digest and export."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings
from bot.runtime.dossiers import DeskSettings, DossierDesk, DossierIn, EventIn
from conversations import Choice, Command, InboundEvent, default_catalog
from conversations.periods import Period
from conversations.workdays import load_calendar
from jobs.digest import build_digest, build_report_message
from jobs.dossier_measures import compute, dossier_lines
from jobs.export_xlsx import export_workbook
from jobs.reports import ReportScope, build_report, case_summary, dossier_measures
from storage import read_transaction
from storage.queries.dossier_report import CompletedDossier, DossierCounts
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = load_calendar()
CATALOG = default_catalog()

# Received Monday 02/03/2026. 13/03 is 9 working days later, 31/03 is 21.
ROWS = [
    CompletedDossier("1.009972", "Cấp giấy phép xây dựng", date(2026, 3, 2), date(2026, 3, 30), date(2026, 3, 13), 20),
    CompletedDossier("1.009972", "Cấp giấy phép xây dựng", date(2026, 3, 2), date(2026, 3, 30), date(2026, 3, 31), 20),
    CompletedDossier("1.009972", "Cấp giấy phép xây dựng", date(2026, 3, 2), date(2026, 3, 30), date(2026, 3, 16), 20),
    CompletedDossier("2.000001", None, date(2026, 3, 2), date(2026, 3, 20), date(2026, 3, 20), None),
]  # fmt: skip


def test_on_time_late_and_within_half_the_legal_limit_per_procedure() -> None:
    measures = compute(
        DossierCounts(registered=10, followed=4, invited=4, answered=3, in_progress=1),
        ROWS,
        {0: 2, 3: 1},
        CAL,
        {"1.009972": (82.5, 12)},
        84.0,
    )
    permit, other = measures.procedures
    assert (permit.procedure, permit.completed, permit.on_time, permit.late) == (
        "1.009972",
        3,
        2,
        1,
    )
    # 9 working days (13/03) and 10 (16/03) are within half of 20; 21 (31/03) is not.
    assert (permit.with_limit, permit.within_half) == (3, 2)
    assert permit.half_share.percent == 66.67
    assert (permit.sipas_index, permit.sipas_base) == (82.5, 12)
    assert (other.on_time, other.with_limit, other.half_share.percent) == (1, 0, None)
    total = measures.total()
    assert (total.completed, total.on_time, total.late, total.within_half) == (4, 3, 1, 2)
    assert measures.response_rate.percent == 75.0
    assert measures.followed.percent == 40.0
    assert measures.median_days == 0
    assert measures.answered_within_a_day.percent == 66.67
    assert measures.to_json()["invitations"] == {
        "sent": 4, "answered": 3, "in_progress": 1, "response_rate": 75.0,
    }  # fmt: skip
    text = "\n".join(CATALOG.render(r, "vi").text for r in dossier_lines(measures))
    assert text == (
        "Hồ sơ theo dõi qua chat (từ hệ thống một cửa):\n"
        "• Hồ sơ tiếp nhận trong kỳ: 10; được theo dõi qua chat: 4 (40,00%)\n"
        "• Mời đánh giá khi trả kết quả: 4 hồ sơ; đã đánh giá: 3 — tỷ lệ phản hồi 75,00%\n"
        "• Từ khi trả kết quả đến khi bắt đầu đánh giá: trung vị dưới 1 ngày; 66,67% bắt đầu trong vòng một ngày\n"
        "• Hồ sơ có kết quả trong kỳ: 4; đúng hẹn 3 (75,00%), trễ hẹn 1 (25,00%)\n"
        "• Giải quyết trong một nửa thời hạn quy định (mục tiêu 50%): 2/3 (66,67%); chỉ số hài lòng SIPAS cùng kỳ: 84,00%\n"
        "  – Cấp giấy phép xây dựng: 3 hồ sơ; đúng hẹn 66,67%, trễ hẹn 33,33%; trong 50% thời hạn 66,67%; SIPAS 82,50% (12 phiếu)\n"
        "  – 2.000001: 1 hồ sơ; đúng hẹn 100,00%, trễ hẹn 0,00%; trong 50% thời hạn chưa có đánh giá; SIPAS chưa có đánh giá (0 phiếu)"
    )


def test_median_days_and_an_empty_period() -> None:
    empty = compute(DossierCounts(), [], {}, CAL)
    assert empty.empty
    assert dossier_lines(empty) == []
    assert empty.median_days is None
    late = compute(DossierCounts(invited=3, answered=3), [], {1: 1, 7: 2}, CAL)
    assert late.median_days == 7
    assert not late.empty


async def test_the_report_shows_dossiers_beside_the_sipas_index(engine: AsyncEngine) -> None:
    """From storage: three dossiers, two followed; one handed over late and rated from its
    invitation, one handed over on time whose invitation nobody took up."""
    clock = SequentialClock(start=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    desk = DossierDesk(engine, DeskSettings(), CATALOG, clock)
    dispatcher = Dispatcher(engine, DispatchSettings(tz=HANOI), clock=clock, new_id=SequentialIds())
    tokens = {}
    for code, due in (("HS-1", "2026-03-10"), ("HS-2", "2026-03-20"), ("HS-3", "2026-03-30")):
        body = DossierIn(
            code=code,
            procedure="1.009972",
            received_on=date(2026, 3, 2),
            due_on=date.fromisoformat(due),
        )
        tokens[code] = (await desk.register("motcua", body)).token
    for n, (code, chat) in enumerate((("HS-1", "c1"), ("HS-2", "c2"))):
        for payload in (Command("start", f"d_{tokens[code]}"), Choice(f"dfol:{tokens[code]}:yes")):
            await dispatcher.process([InboundEvent(f"{n}-{payload.kind}", "test", chat, payload)])
    clock.advance(timedelta(days=9))  # 11/03: HS-1 is a day late
    await desk.post_event("motcua", "HS-1", EventIn(event_id="a", kind="handed_over"))
    await desk.post_event("motcua", "HS-2", EventIn(event_id="b", kind="handed_over"))
    clock.advance(timedelta(hours=2))
    await complete_survey(dispatcher, "c1", random.Random(3), opening=Choice("dinv:1"))

    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    scope = ReportScope(HANOI)
    async with read_transaction(engine) as conn:
        report = await build_report(conn, period, scope)
        measures = await dossier_measures(conn, period, scope, CAL, report.index)
        cases = await case_summary(conn, period, HANOI, date(2026, 3, 31), CAL)
    assert (measures.counts.registered, measures.counts.followed) == (3, 2)
    assert (measures.counts.invited, measures.counts.answered) == (2, 1)
    assert measures.answer_days[0] == 1
    (permit,) = measures.procedures
    assert (permit.completed, permit.on_time, permit.late) == (2, 1, 1)
    assert (permit.with_limit, permit.within_half) == (2, 2)  # 7 working days ≤ 20 / 2
    assert permit.sipas_base == 1  # the survey of the invitation counts for its procedure
    # One survey for the procedure: its index would be that citizen's answers, and whoever
    # handed out its one used receipt knows whose. Not shown; the count is.
    assert report.index is not None
    assert permit.sipas_index is None

    message = CATALOG.render(build_report_message(report, None, "Sở Xây dựng", measures), "vi").text
    assert "SIPAS không hiện (dưới 5 phiếu, để giữ ẩn danh) (1 phiếu)" in message
    assert (
        "• Mời đánh giá khi trả kết quả: 2 hồ sơ; đã đánh giá: 1 — tỷ lệ phản hồi 50,00%" in message
    )
    assert message.index("Chỉ số hài lòng chung") < message.index("Hồ sơ theo dõi qua chat")
    digest = build_digest("monthly", period, report, None, cases, "Sở Xây dựng", measures)
    assert "tỷ lệ phản hồi 50,00%" in CATALOG.render(digest, "vi").text
    assert measures.to_json()["completed"]["late"] == {"count": 1, "base": 2, "percent": 50.0}

    data = export_workbook(
        report, [], [], agency="Sở Xây dựng", generated_at=datetime(2026, 4, 1, tzinfo=UTC),
        dossiers=measures,
    )  # fmt: skip
    sheet = load_workbook(io.BytesIO(data))["Hồ sơ"]
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["Tỷ lệ phản hồi (%)", 50.0] in rows
    assert [
        "1.009972",
        "Cấp giấy phép xây dựng",
        2,
        1,
        50.0,
        1,
        50.0,
        2,
        2,
        100.0,
        1,  # the index of one survey is left out
    ] in rows


async def test_a_report_without_dossiers_reads_as_before(engine: AsyncEngine) -> None:
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    async with read_transaction(engine) as conn:
        report = await build_report(conn, period, ReportScope(HANOI))
        measures = await dossier_measures(conn, period, ReportScope(HANOI), CAL, report.index)
    assert measures.empty
    assert build_report_message(report, None, "X", measures) == build_report_message(
        report, None, "X"
    )
