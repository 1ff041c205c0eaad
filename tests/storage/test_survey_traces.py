"""What goes when a survey ends (``write_flush._forget_survey_traces``), and only that.

Issue 10, point 4: once a chat's survey ended, nothing may lead from the chat to its answers.
Its messages already sent leave the outbox (how many questions it was sent, and when, tells
which way the survey branched), a web visitor's kept history goes, and its consent to the
survey loses the contact and the minutes. Only for that chat and that purpose: another chat's
sent messages, this chat's messages still waiting to go, a web visitor who is someone else,
and this chat's other consents stay as they were. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import WriteSet, flush, read_transaction, write_transaction
from storage.outbound import TextMessage
from storage.schema import consents, contacts, outbox
from storage.schema_channels import web_messages

AT = datetime(2026, 11, 30, 3, 17, 41, tzinfo=UTC)
HOUR = datetime(2026, 11, 30, 3, tzinfo=UTC)
#: (channel, chat id) of each contact; "b" on the web has the same chat id as "a" on Telegram.
CHATS = [("telegram", "a"), ("telegram", "b"), ("web", "a"), ("web", "w")]


async def _setup(engine: AsyncEngine) -> dict[tuple[str, str], int]:
    async with write_transaction(engine) as conn:
        for channel, chat in CHATS:
            await conn.execute(
                insert(contacts).values(channel=channel, external_id=chat, created_at=HOUR)
            )
        ids = {
            (r[0], r[1]): int(r[2])
            for r in await conn.execute(
                select(contacts.c.channel, contacts.c.external_id, contacts.c.id)
            )
        }
    ws = WriteSet()
    for (channel, chat), contact in ids.items():
        ws.enqueue(channel, chat, TextMessage(f"sent to {chat}"), AT)
        ws.enqueue(channel, chat, TextMessage(f"waiting for {chat}"), AT, bulk=True)
        ws.consent(contact, "survey", True, AT, "sipas-2640/vi/x")
        ws.consent(contact, "complaint", True, AT)
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
        await conn.execute(
            update(outbox)
            .where(outbox.c.payload["text"].as_string().like("sent%"))
            .values(status="sent")
        )
        for chat in ("a", "w"):
            await conn.execute(
                insert(web_messages).values(chat_id=chat, payload={"text": "→ 4"}, created_at=AT)
            )
    return ids


async def _state(
    engine: AsyncEngine,
) -> tuple[set[tuple[str, str, str]], list[str], list[tuple[int | None, str, datetime]]]:
    async with read_transaction(engine) as conn:
        queued = {
            (r[0], r[1], r[2])
            for r in await conn.execute(select(outbox.c.channel, outbox.c.chat_id, outbox.c.status))
        }
        web = sorted((await conn.execute(select(web_messages.c.chat_id))).scalars().all())
        kept = [
            (r[0], r[1], r[2])
            for r in await conn.execute(
                select(consents.c.contact_id, consents.c.purpose, consents.c.decided_at)
            )
        ]
    return queued, web, kept


async def test_a_surveys_end_forgets_that_chats_traces_only(engine: AsyncEngine) -> None:
    ids = await _setup(engine)
    ended = {ids[("telegram", "a")], ids[("web", "w")]}
    ws = WriteSet()
    for contact in ended:
        ws.consents_to_empty.add((contact, "survey"))
    async with write_transaction(engine) as conn:
        await flush(conn, ws)
    queued, web, kept = await _state(engine)
    everyone = {
        (channel, chat, status) for channel, chat in CHATS for status in ("sent", "pending")
    }
    assert queued == everyone - {("telegram", "a", "sent"), ("web", "w", "sent")}
    # The web chat "a" is another visitor than the Telegram chat "a": its history stays.
    assert web == ["a"]
    assert sorted(k for k in kept if k[0] is not None) == sorted(
        [*((c, "survey", AT) for c in ids.values() if c not in ended),
         *((c, "complaint", AT) for c in ids.values())]
    )  # fmt: skip
    assert [k for k in kept if k[0] is None] == [(None, "survey", HOUR)] * len(ended)
