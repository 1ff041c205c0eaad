"""A ``WriteSet`` applied in one transaction: a few statements per kind of write, in an order
that keeps foreign keys and the survey's anonymity. Moved from ``writes`` as is."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .dialect import add_upsert, insert_ignore, upsert
from .queries.aggregates import Ended, record_ended
from .queries.complaints import change_complaint, insert_complaint, rate_complaint
from .queries.survey_marks import record_marks
from .schema import (
    answers,
    consents,
    contacts,
    conversations,
    dossier_answer_days,
    dossier_follows,
    dossiers,
    job_requests,
    outbox,
    outbox_blobs,
    receipts,
    survey_responses,
    web_messages,
)
from .schema_dossiers import INVITE_ENDED
from .writes import ConcurrentUpdate, WriteSet, to_the_hour

_END = (
    update(survey_responses)
    .where(
        survey_responses.c.id == bindparam("b_id"),
        survey_responses.c.status == "in_progress",
    )
    .values(
        status=bindparam("b_status"),
        ended_at=bindparam("b_at"),
        completed_at=bindparam("b_completed_at"),
    )
)
_DELETE_ANSWER = answers.delete().where(
    answers.c.response_id == bindparam("b_rid"), answers.c.item == bindparam("b_item")
)
_LANGUAGE = (
    update(contacts).where(contacts.c.id == bindparam("b_id")).values(language=bindparam("b_lang"))
)
_CONVERSATION = (
    update(conversations)
    .where(
        conversations.c.contact_id == bindparam("b_contact_id"),
        conversations.c.version == bindparam("b_version"),
    )
    .values(
        flow=bindparam("b_flow"),
        step=bindparam("b_step"),
        state=bindparam("b_state", type_=conversations.c.state.type),
        version=bindparam("b_new_version"),
        expires_at=bindparam("b_expires_at", type_=conversations.c.expires_at.type),
        remind_at=bindparam("b_remind_at", type_=conversations.c.remind_at.type),
        updated_at=bindparam("b_updated_at", type_=conversations.c.updated_at.type),
        # Read with the row at the event (locked on PostgreSQL till now): it was seen.
        notice_question=None,
    )
)
# Only chats at rest: one in a task keeps its own question (conversations.resent.noticed),
# and the row of a chat in a survey (its response id) is not rewritten by another's event.
_NOTICE_QUESTION = (
    update(conversations)
    .where(conversations.c.contact_id == bindparam("b_contact_id"), conversations.c.flow.is_(None))
    .values(notice_question=bindparam("b_question"))
)


async def flush(conn: AsyncConnection, ws: WriteSet) -> None:
    if ws.forgotten_contacts:
        await conn.execute(
            consents.delete().where(consents.c.contact_id.in_(ws.forgotten_contacts))
        )
        await conn.execute(
            dossier_follows.delete().where(dossier_follows.c.contact_id.in_(ws.forgotten_contacts))
        )
    if ws.follows:
        await _flush_follows(conn, ws)
    if ws.invitations_taken or ws.invitations_closed:
        await _flush_invitations(conn, ws)
    if ws.forgotten_responses:
        # Only a survey still in progress can be found (through the chat); answers cascade.
        await conn.execute(
            survey_responses.delete().where(
                survey_responses.c.id.in_(ws.forgotten_responses),
                survey_responses.c.status == "in_progress",
            )
        )
    await record_marks(conn, ws.survey_marks)
    if ws.new_responses:
        await conn.execute(survey_responses.insert(), list(ws.new_responses.values()))
    saved = [
        {
            "response_id": rid,
            "item": item,
            "value_int": v if isinstance(v, int) else None,
            "value_text": v if isinstance(v, str) else None,
        }
        for (rid, item), v in ws.answers.items()
        if v is not None
    ]
    if saved:
        stmt = upsert(conn, answers, ("response_id", "item"), ("value_int", "value_text"))
        await conn.execute(stmt, saved)
    cleared = [{"b_rid": rid, "b_item": item} for (rid, item), v in ws.answers.items() if v is None]
    if cleared:
        await conn.execute(_DELETE_ANSWER, cleared)
    if ws.ended:
        if ws.aggregate is not None:
            tz, explode = ws.aggregate
            ended = [Ended(rid, status, at) for rid, (status, at) in ws.ended.items()]
            await record_ended(conn, ended, tz, explode)  # before the status changes
        await conn.execute(
            _END,
            [
                {
                    "b_id": rid,
                    "b_status": status,
                    "b_at": at,
                    "b_completed_at": at if status == "completed" else None,
                }
                for rid, (status, at) in ws.ended.items()
            ],
        )
    if ws.consents:
        await conn.execute(consents.insert(), ws.consents)
    if ws.consents_to_empty:
        await _forget_survey_traces(conn, ws.consents_to_empty)
    if ws.ended_chats:
        await _drop_survey_messages(conn, ws.ended_chats)
    if ws.receipt_statuses:
        await conn.execute(
            _RECEIPT_STATUS,
            [{"b_id": rid, "b_status": s} for rid, s in sorted(ws.receipt_statuses.items())],
        )
    if ws.languages:
        await conn.execute(
            _LANGUAGE, [{"b_id": cid, "b_lang": lang} for cid, lang in ws.languages.items()]
        )
    for kind, args in ws.complaint_ops:
        if kind == "open":
            await insert_complaint(conn, **args)
        elif kind == "change":
            await change_complaint(conn, **args)
        else:
            await rate_complaint(conn, **args)
    if ws.unstopped:
        await conn.execute(
            update(contacts).where(contacts.c.id.in_(ws.unstopped)).values(stopped=False)
        )
    if ws.conversations:
        rows = list(ws.conversations.values())
        result = await conn.execute(_CONVERSATION, rows)
        # SQLite counts the rows of an executemany; asyncpg gives -1, and there the rows
        # were locked when read (``queries.dialogue``), so no other writer got in between.
        if result.rowcount is not None and 0 <= result.rowcount < len(rows):
            raise ConcurrentUpdate(f"{len(rows) - result.rowcount} conversation(s) changed")
    if ws.notice_questions:
        await conn.execute(
            _NOTICE_QUESTION,
            [{"b_contact_id": c, "b_question": q} for c, q in ws.notice_questions.items()],
        )
    if ws.jobs:
        await conn.execute(job_requests.insert(), ws.jobs)
    if ws.outbox:
        rows = [{k: v for k, v in row.items() if k not in _NOT_COLUMNS} for row in ws.outbox]
        for row, queued in zip(rows, ws.outbox, strict=True):
            blob = queued["blob"]
            row["blob_id"] = None
            if blob is not None:  # rare (charts, spreadsheets): one statement each
                found = await conn.execute(
                    outbox_blobs.insert()
                    .values(data=blob[0], name=blob[1][:200])
                    .returning(outbox_blobs.c.id)
                )
                row["blob_id"] = int(found.scalar_one())
        # The ids, in the order queued: the runtime hands the committed rows to its sender
        # without reading them back.
        found = await conn.execute(
            outbox.insert().returning(outbox.c.id, sort_by_parameter_order=True), rows
        )
        for queued, (message_id,) in zip(ws.outbox, found, strict=True):
            queued["id"] = int(message_id)


#: What ``enqueue`` keeps beside a row's columns: the blob (stored apart), the message itself,
#: and the id the insert gave it.
_NOT_COLUMNS = frozenset({"blob", "message", "id"})

_RECEIPT_STATUS = (
    update(receipts)
    .where(receipts.c.id == bindparam("b_id"))
    .values(survey_status=bindparam("b_status"))
)


async def _forget_survey_traces(conn: AsyncConnection, which: set[tuple[int, str]]) -> None:
    """Once a survey ended, what could lead from its chat to its answers goes (issue 10,
    point 4): these (contact id, purpose) consents keep purpose, choice, hour and the wording
    shown (the same for everyone shown that screen, so it points at nobody) and lose the
    contact (their time and order must not point at the chat), and the chat's messages
    already sent leave the outbox."""
    emptied: list[dict[str, Any]] = []
    # The messages already sent to these chats go too: how many questions a chat was sent,
    # and when, tells which way its survey branched (late -> the apology question).
    chats = select(contacts.c.channel, contacts.c.external_id).where(
        contacts.c.id.in_({contact_id for contact_id, _ in which})
    )
    await conn.execute(
        outbox.delete().where(
            tuple_(outbox.c.channel, outbox.c.chat_id).in_(chats), outbox.c.status == "sent"
        )
    )
    # The web chat keeps what it showed a visitor (for a reload): the questions and the
    # "→ answer" echo of each one, under the visitor's chat id. Those go as well.
    web_chats = select(contacts.c.external_id).where(
        contacts.c.id.in_({contact_id for contact_id, _ in which}), contacts.c.channel == "web"
    )
    await conn.execute(web_messages.delete().where(web_messages.c.chat_id.in_(web_chats)))
    for contact_id, purpose in sorted(which):
        rows = await conn.execute(
            select(consents.c.id, consents.c.decided_at).where(
                consents.c.contact_id == contact_id, consents.c.purpose == purpose
            )
        )
        emptied += [{"b_id": r[0], "b_at": to_the_hour(r[1])} for r in rows]
    if emptied:
        await conn.execute(
            update(consents)
            .where(consents.c.id == bindparam("b_id"))
            .values(
                contact_id=None, decided_at=bindparam("b_at", type_=consents.c.decided_at.type)
            ),
            emptied,
        )


async def _drop_survey_messages(conn: AsyncConnection, chats: set[tuple[str, str]]) -> None:
    """Deletes the messages said within a survey (``outbox.in_survey``) to these (channel, chat
    id) chats, whatever their status: while sends fail, pending ones keep the chat next to
    the chosen answer shown on each question and the summary's averages, and which
    questions were asked (its route). Run before this batch's rows are written: the
    ending's own replies (the thanks) stay, and say nothing of the answers."""
    mine = tuple_(outbox.c.channel, outbox.c.chat_id).in_(sorted(chats))
    doomed = select(outbox.c.id).where(mine, outbox.c.in_survey)
    blobs = select(outbox.c.blob_id).where(outbox.c.id.in_(doomed), outbox.c.blob_id.is_not(None))
    await conn.execute(outbox_blobs.delete().where(outbox_blobs.c.id.in_(blobs)))
    await conn.execute(outbox.delete().where(mine, outbox.c.in_survey))


_TAKE = (
    update(dossiers)
    .where(dossiers.c.id == bindparam("b_id"), dossiers.c.invite_status == "invited")
    .values(invite_status="in_progress", invite_remind_at=None)
)
# One value for every ending: the status a dossier kept (completed, abandoned, expired) paired,
# through the chats following it, with the one response of that procedure, month and status.
_CLOSE = (
    update(dossiers)
    .where(dossiers.c.id == bindparam("b_id"), dossiers.c.invite_status == "in_progress")
    .values(invite_status=INVITE_ENDED)
)


async def _flush_follows(conn: AsyncConnection, ws: WriteSet) -> None:
    stopped = [k for k, at in ws.follows.items() if at is None]
    started = {k: at for k, at in ws.follows.items() if at is not None}
    for dossier_id, contact_id in stopped:
        await conn.execute(
            dossier_follows.delete().where(
                dossier_follows.c.dossier_id == dossier_id,
                dossier_follows.c.contact_id == contact_id,
            )
        )
    if started:
        await conn.execute(
            insert_ignore(conn, dossier_follows, ("dossier_id", "contact_id")),
            [
                {"dossier_id": d, "contact_id": c, "followed_at": at}
                for (d, c), at in started.items()
            ],
        )
        for (dossier_id, _), at in started.items():
            await conn.execute(
                update(dossiers)
                .where(dossiers.c.id == dossier_id, dossiers.c.followed_at.is_(None))
                .values(followed_at=at)
            )


async def _flush_invitations(conn: AsyncConnection, ws: WriteSet) -> None:
    if ws.invitations_taken:
        # In id order, as the dossier API locks them, so two writers never wait on each other.
        # One statement each: a driver may not count the rows of an executemany (asyncpg
        # gives -1), and a count it cannot give would let two surveys start from one slip.
        for dossier_id in sorted(ws.invitations_taken):
            result = await conn.execute(_TAKE, {"b_id": dossier_id})
            if result.rowcount != 1:
                # Another chat took the invitation meanwhile: the batch is retried, and the
                # engine then sees it taken.
                raise ConcurrentUpdate("invitation taken by another chat")
    if ws.invitations_closed:
        await conn.execute(
            _CLOSE,
            [{"b_id": d} for d in sorted(ws.invitations_closed)],
        )
    if ws.answer_days:
        tz = ws.aggregate[0] if ws.aggregate is not None else ZoneInfo("UTC")
        counts: dict[tuple[date, int], int] = {}
        for at, days in ws.answer_days:
            key = (at.astimezone(tz).date(), days)
            counts[key] = counts.get(key, 0) + 1
        await conn.execute(
            add_upsert(conn, dossier_answer_days, ("day", "days")),
            [{"day": d, "days": n, "count": c} for (d, n), c in counts.items()],
        )
