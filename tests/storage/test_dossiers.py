"""Dossier storage over time, on SQLite and PostgreSQL: links deleted after the retention
period (the counts for reports stay), invitations expiring, reminders due once, signatures
forgotten."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import default_catalog
from jobs.dossier_invitations import DossierJobSettings, expire_and_forget, remind_invitations
from storage import read_transaction, write_transaction
from storage.queries.dialogue import load_conversations
from storage.queries.dossiers import (
    NewDossier,
    claim_signature,
    due_invitation_reminders,
    followers,
    insert_dossier,
)
from storage.schema import api_signatures, dossier_follows, dossiers

NOW = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


async def _dossier(engine: AsyncEngine, code: str, **values: object) -> int:
    async with write_transaction(engine) as conn:
        new = NewDossier(code, f"tok-{code}", "c", "1.009972", date(2026, 5, 1), date(2026, 5, 30))
        assert await insert_dossier(conn, new, NOW - timedelta(days=400))
        found = await conn.execute(select(dossiers.c.id).where(dossiers.c.code == code))
        dossier_id = int(found.scalar_one())
        contact = (await load_conversations(conn, [("telegram", code)], NOW))[("telegram", code)]
        await conn.execute(
            dossier_follows.insert().values(
                dossier_id=dossier_id, contact_id=contact.contact_id, followed_at=NOW
            )
        )
        await conn.execute(
            update(dossiers).where(dossiers.c.id == dossier_id).values(followed_at=NOW, **values)
        )
    return dossier_id


async def test_links_go_after_retention_and_the_counts_stay(engine: AsyncEngine) -> None:
    closed_long_ago = await _dossier(
        engine, "A", status="handed_over", closed_at=NOW - timedelta(days=31), updated_at=NOW
    )
    closed_lately = await _dossier(
        engine, "B", status="handed_over", closed_at=NOW - timedelta(days=29), updated_at=NOW
    )
    forgotten_open = await _dossier(engine, "C", updated_at=NOW - timedelta(days=366))
    active = await _dossier(engine, "D", updated_at=NOW - timedelta(days=10))
    await expire_and_forget(engine, NOW, DossierJobSettings(retention=timedelta(days=30)))
    async with read_transaction(engine) as conn:
        left = {f.dossier_id for f in await followers(conn, [1, 2, 3, 4])}
        followed = (await conn.execute(select(dossiers.c.followed_at))).scalars().all()
    assert left == {closed_lately, active}
    assert forgotten_open not in left
    assert closed_long_ago not in left
    assert all(at == NOW for at in followed)  # "dossiers followed" still counts them


async def test_an_invitation_is_reminded_once_in_daytime_then_expires(engine: AsyncEngine) -> None:
    await _dossier(
        engine, "E", status="handed_over", invite_status="invited", invited_at=NOW,
        invite_remind_at=NOW + timedelta(hours=24), invite_expires_at=NOW + timedelta(days=7),
        updated_at=NOW,
    )  # fmt: skip
    settings = DossierJobSettings()
    catalog = default_catalog()
    assert await remind_invitations(engine, catalog, NOW + timedelta(hours=23), settings) == 0
    night = datetime(2026, 6, 11, 16, 0, tzinfo=UTC)  # 23:00 in Hanoi, the reminder is due
    assert await remind_invitations(engine, catalog, night, settings) == 0
    morning = datetime(2026, 6, 12, 0, 30, tzinfo=UTC)  # 7:30
    assert await remind_invitations(engine, catalog, morning, settings) == 1
    assert await remind_invitations(engine, catalog, morning + timedelta(hours=1), settings) == 0
    async with read_transaction(engine) as conn:
        assert await due_invitation_reminders(conn, morning + timedelta(days=1)) == []
    await expire_and_forget(engine, NOW + timedelta(days=7), settings)
    async with read_transaction(engine) as conn:
        status = (await conn.execute(select(dossiers.c.invite_status))).scalar_one()
    assert status == "ended"  # as after a survey: nothing tells it was never taken


async def test_signatures_are_kept_for_an_hour(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        assert await claim_signature(conn, "a" * 64, NOW - timedelta(hours=2))
        assert await claim_signature(conn, "b" * 64, NOW - timedelta(minutes=10))
        assert not await claim_signature(conn, "b" * 64, NOW)
    await expire_and_forget(engine, NOW, DossierJobSettings())
    async with read_transaction(engine) as conn:
        kept = (await conn.execute(select(api_signatures.c.signature))).scalars().all()
    assert kept == ["b" * 64]
