"""/xoadulieu in the same batch as the writes it must undo.

Under load the dispatcher handles many events in one transaction (one ``WriteSet``). A chat
may give its consent, start a survey and answer, then ask for its data to be deleted, all in
one batch: the deletion runs first in ``flush`` (rows stored earlier), so the writes this
batch queued for that chat must be dropped from the batch itself, or they would be written
after the deletion and outlive it. Another chat's writes in the same batch stay.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, Handled
from conversations import Choice, Command, InboundEvent
from storage import WriteSet, read_transaction
from storage.queries.surveys import count_responses
from storage.schema import consents, contacts
from tests.storage.test_dispatch import SETTINGS, interleaved_walks
from tests.support.clock import SequentialClock, SequentialIds

AT = datetime(2026, 11, 30, 3, 17, tzinfo=UTC)
ME, OTHER = 11, 12
MINE, THEIRS = 501, 502
MY_RECEIPT, THEIR_RECEIPT = 71, 72


def _batch() -> WriteSet:
    """Two chats' writes queued in one batch: consents, follows, a survey each, answers."""
    ws = WriteSet()
    for contact, rid, receipt in ((ME, MINE, MY_RECEIPT), (OTHER, THEIRS, THEIR_RECEIPT)):
        ws.consent(contact, "survey", True, AT)
        ws.follow(9, contact, AT)
        ws.follow(contact, 99, AT)  # a dossier whose id is the other's contact id
        ws.start_response(rid, "sipas-2640", AT, receipt, None, None)
        ws.save_answer(rid, "1.1", 4)
        ws.save_answer(rid, "comment", "Phòng chờ chật")
        ws.end_response(rid, "completed", AT)
    return ws


def test_forget_drops_what_the_batch_queued_for_that_chat_only() -> None:
    ws = _batch()
    ws.forget(ME, MINE, MY_RECEIPT)
    assert [c["contact_id"] for c in ws.consents] == [OTHER]
    assert set(ws.follows) == {(9, OTHER), (OTHER, 99), (ME, 99)}
    assert set(ws.new_responses) == {THEIRS}
    assert set(ws.answers) == {(THEIRS, "1.1"), (THEIRS, "comment")}
    assert set(ws.ended) == {THEIRS}
    # Started in this batch: nothing stored yet, nothing to delete.
    assert ws.forgotten_responses == set()
    assert ws.forgotten_contacts == {ME}
    assert ws.languages == {ME: None}
    # The receipt may start a survey again; the other's is untouched.
    assert ws.receipt_statuses == {MY_RECEIPT: None, THEIR_RECEIPT: "in_progress"}


def test_forget_of_a_survey_stored_earlier_deletes_its_rows() -> None:
    ws = WriteSet()
    ws.save_answer(MINE, "1.2", 5)  # this batch's answer to a survey started earlier
    ws.save_answer(THEIRS, "1.2", 3)
    ws.forget(ME, MINE)
    assert ws.forgotten_responses == {MINE}
    assert set(ws.answers) == {(THEIRS, "1.2")}
    assert ws.receipt_statuses == {}


def test_forget_without_a_survey_keeps_every_survey_write() -> None:
    ws = _batch()
    ws.forget(ME, None)
    assert set(ws.new_responses) == {MINE, THEIRS}
    assert len(ws.answers) == 4
    assert ws.forgotten_responses == set()
    assert [c["contact_id"] for c in ws.consents] == [OTHER]


def _event(n: str, payload: object, user: str) -> InboundEvent:
    return InboundEvent(n, "test", user, payload)  # type: ignore[arg-type]


async def test_a_deletion_in_the_batch_that_consented_leaves_nothing_of_the_chat(
    engine: AsyncEngine, clock: SequentialClock, ids: SequentialIds
) -> None:
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, new_id=ids)
    batch = interleaved_walks("u1", "u2")
    batch += [
        _event("u1-forget", Command("xoadulieu"), "u1"),
        _event("u1-yes", Choice("forget:yes"), "u1"),
    ]
    results = await dispatcher.process(batch)
    assert all(isinstance(r, Handled) and not r.duplicate for r in results)
    async with read_transaction(engine) as conn:
        # u2's survey in progress is all that is left; u1's went with its consent.
        assert await count_responses(conn) == {"in_progress": 1}
        kept = (await conn.execute(select(consents.c.contact_id))).scalars().all()
        u2 = (
            await conn.execute(select(contacts.c.id).where(contacts.c.external_id == "u2"))
        ).scalar_one()
    assert kept == [u2]
    await dispatcher.close()
