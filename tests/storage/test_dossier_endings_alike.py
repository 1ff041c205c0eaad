"""Issue 10, anonymity: once the survey of a dossier's invitation is over, nothing on the
dossier's side says how it ended. The tester's reproduction: three dossiers of one procedure
handed over the same month, one survey completed, one cancelled, one left to expire (and a
fourth invitation never taken). Before, ``dossiers.invite_status`` kept completed / abandoned /
expired, which paired each dossier (and through ``dossier_follows`` its chat) with the one
response of that status. Now every dossier row and follow link is the same but for the
dossier's own identity; the report counts the answered surveys from the anonymous responses.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnClause

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from bot.runtime.dossiers import DeskSettings, DossierDesk, DossierIn, EventIn
from conversations import Choice, Command, Inbound, InboundEvent, Text, default_catalog
from jobs.dossier_invitations import DossierJobSettings, expire_and_forget, remind_invitations
from jobs.expiry import expire_due
from storage import migrate, read_transaction
from storage.queries.dossier_report import dossier_counts
from storage.schema import dossier_answer_days, dossier_follows, dossiers, survey_responses
from tests.support.db import Database

START = datetime(2026, 12, 7, 2, 13, 27, tzinfo=UTC)  # 09:13:27 in Hanoi
PROCEDURE = "1.009972"
#: What tells the dossiers apart by construction (they are different dossiers), and nothing else.
IDENTITY = {"id", "code", "token", "short_code"}


class Clock:
    """Stands still until moved, so the dossiers' rows differ only by what their surveys did."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Chat:
    def __init__(self, dispatcher: Dispatcher, chat_id: str) -> None:
        self.dispatcher = dispatcher
        self.chat_id = chat_id
        self.n = 0

    async def send(self, *payloads: Inbound) -> list[str]:
        keys: list[str] = []
        for payload in payloads:
            self.n += 1
            (handled,) = await self.dispatcher.process(
                [InboundEvent(f"{self.chat_id}-{self.n}", "telegram", self.chat_id, payload)]
            )
            assert isinstance(handled, Handled)
            keys = [m.key for m in handled.messages]
        return keys

    async def complete(self) -> None:
        for _ in range(200):
            if "survey.summary" in await self.send(Text("bỏ qua")):
                break
        assert "survey.thanks" in await self.send(Text("gửi phiếu"))


async def _rows(engine: AsyncEngine) -> tuple[dict[str, dict[str, Any]], dict[str, list[Any]]]:
    """Each dossier's row without its identity, and its follow links' times, by code."""
    async with read_transaction(engine) as conn:
        rows = {r["code"]: dict(r) for r in (await conn.execute(select(dossiers))).mappings()}
        links = (
            await conn.execute(
                select(dossiers.c.code, dossier_follows.c.followed_at).join(
                    dossier_follows, dossier_follows.c.dossier_id == dossiers.c.id
                )
            )
        ).all()
    follows: dict[str, list[Any]] = {code: [] for code in rows}
    for code, at in links:
        follows[code].append(at)
    return {c: {k: v for k, v in r.items() if k not in IDENTITY} for c, r in rows.items()}, follows


async def test_a_completed_a_cancelled_and_an_expired_survey_leave_the_same_dossier_rows(
    engine: AsyncEngine,
) -> None:
    clock = Clock(START)
    desk = DossierDesk(engine, DeskSettings(), default_catalog(), clock)
    settings = DispatchSettings(survey_ttl=timedelta(hours=2))
    dispatcher = Dispatcher(engine, settings, clock=clock)
    jobs = DossierJobSettings()
    codes = {"HS-1": "8101", "HS-2": "8102", "HS-3": "8103", "HS-4": "8104"}
    chats = {code: Chat(dispatcher, chat) for code, chat in codes.items()}
    for code, chat in chats.items():
        body = DossierIn(
            code=code,
            procedure=PROCEDURE,
            field="Cấp phép xây dựng",
            received_on=date(2026, 11, 9),
            due_on=date(2026, 12, 9),
        )
        token = (await desk.register("motcua", body)).token
        await chat.send(Command("start", f"d_{token}"), Choice(f"dfol:{token}:yes"))
    clock.now += timedelta(hours=1)
    for code in chats:
        await desk.post_event("motcua", code, EventIn(event_id=f"h-{code}", kind="handed_over"))
    async with read_transaction(engine) as conn:
        found = await conn.execute(select(dossiers.c.code, dossiers.c.id))
        ids = {str(code): int(i) for code, i in found}
    invited, _ = await _rows(engine)

    # Each chat ends its survey at another time, so a time kept per dossier would show too.
    for n, code in enumerate(("HS-1", "HS-2", "HS-3")):
        clock.now = START + timedelta(hours=2, minutes=17 * n, seconds=13 * n)
        await chats[code].send(Choice(f"dinv:{ids[code]}"), Choice("consent:yes"))
        await chats[code].send(Choice("1.1:4"))
    await chats["HS-1"].complete()
    assert "cancel.survey" in await chats["HS-2"].send(Command("huy"))
    clock.now = START + timedelta(hours=5, minutes=41, seconds=7)
    assert await expire_due(dispatcher) == 1  # HS-3's survey, left two hours
    # HS-4's invitation, never taken, is reminded the next morning (the others, taken, are
    # not), then runs out; the expiry job passes over the others too.
    clock.now = START + timedelta(days=1, hours=2)
    assert await remind_invitations(engine, default_catalog(), clock.now, jobs) == 1
    clock.now = START + timedelta(days=8)
    await expire_and_forget(engine, clock.now, jobs)
    await dispatcher.close()

    async with read_transaction(engine) as conn:
        responses = (
            await conn.execute(
                select(
                    survey_responses.c.status,
                    survey_responses.c.procedure,
                    survey_responses.c.handed_over_month,
                )
            )
        ).all()
    # The tester's data: one response of each ending, all of the same procedure and month.
    assert sorted(responses) == [
        ("abandoned", PROCEDURE, date(2026, 12, 1)),
        ("completed", PROCEDURE, date(2026, 12, 1)),
        ("expired", PROCEDURE, date(2026, 12, 1)),
    ]
    rows, follows = await _rows(engine)
    # Every dossier's row and links are alike: nothing pairs one with a response's ending.
    assert rows["HS-1"] == rows["HS-2"] == rows["HS-3"] == rows["HS-4"]
    assert follows["HS-1"] == follows["HS-2"] == follows["HS-3"] == follows["HS-4"]
    assert rows["HS-1"]["invite_status"] == "ended"
    assert rows["HS-1"]["invite_remind_at"] is None
    # And the ending changed nothing else of the row since the invitation was sent.
    changed = {k for k, v in rows["HS-1"].items() if invited["HS-1"][k] != v}
    assert changed == {"invite_status", "invite_remind_at"}

    if engine.dialect.name == "postgresql":
        # Nor does the transaction that wrote a dossier's row (its xmin, read by any SELECT)
        # pair it with an aggregate only one ending writes: the answer-delay count is taken
        # when the survey starts, in another transaction than the one that ends it.
        xmin: ColumnClause[str] = literal_column("xmin::text")
        async with read_transaction(engine) as conn:
            ended_in = dict((await conn.execute(select(dossiers.c.code, xmin))).tuples().all())
            counted_in = set(
                (await conn.execute(select(xmin).select_from(dossier_answer_days))).scalars()
            )
        assert counted_in
        assert not counted_in & set(ended_in.values())

    # The report still knows that one of the four invitations was answered, from the
    # anonymous responses.
    async with read_transaction(engine) as conn:
        counts = await dossier_counts(
            conn, date(2026, 12, 1), date(2026, 12, 31), datetime(2026, 11, 30, 17, tzinfo=UTC),
            datetime(2026, 12, 31, 17, tzinfo=UTC),
        )  # fmt: skip
    assert (counts.invited, counts.answered, counts.in_progress) == (4, 1, 0)


async def test_the_upgrade_keeps_only_that_an_invitation_ended(database: Database) -> None:
    """Rows from before 0029 said how the survey ended: they all say 'ended' after it."""
    engine = database.open()
    try:
        await migrate(engine, "0028")
        old = ["invited", "in_progress", "completed", "abandoned", "expired", None]
        async with engine.begin() as conn:
            for n, status in enumerate(old):
                await conn.execute(
                    dossiers.insert().values(
                        code=f"HS-{n}", token=f"t{n}", client="motcua", procedure=PROCEDURE,
                        received_on=date(2026, 1, 5), due_on=date(2026, 2, 5),
                        status="handed_over", invite_status=status, created_at=START,
                        updated_at=START,
                    )
                )  # fmt: skip
        await migrate(engine)
        async with engine.connect() as conn:
            rows = await conn.execute(select(dossiers.c.code, dossiers.c.invite_status))
            found = {str(code): status for code, status in rows}
    finally:
        await engine.dispose()
    assert found == {
        "HS-0": "invited",
        "HS-1": "in_progress",
        "HS-2": "ended",
        "HS-3": "ended",
        "HS-4": "ended",
        "HS-5": None,
    }
