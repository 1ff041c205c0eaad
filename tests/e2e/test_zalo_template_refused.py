"""End to end over the fake Zalo: a template Zalo refuses (a wrong ``ZALO_TEMPLATE_NOTICE``)
loses nothing. The notice is held and arrives when the citizen writes; the refusal is
counted for the digest and shown by /healthz."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.web.server import _health
from storage import read_transaction
from storage.queries.zalo_chats import template_refused_at
from tests.e2e.test_zalo_window import database, zalo
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo
from tests.support.zalo_e2e import CITIZEN, digest_counts, file_and_answer_later, life
from tests.support.zalo_e2e import counts as outbox_counts

__all__ = ["database", "zalo"]  # the fixtures, shared with test_zalo_window
REFUSED = "111111"  # not approved by the fake: it answers -201


async def test_a_refused_template_holds_the_notice_instead_of_losing_it(
    zalo: FakeZalo, database: Database
) -> None:
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, REFUSED) as bot:
        code = await file_and_answer_later(bot, clock)
        before = len(zalo.messages(CITIZEN))
    assert zalo.template_sends == []
    counts = await outbox_counts(database)
    assert counts.get("dead", 0) == 0, counts
    assert counts["held"] == 1, counts
    _, notices = await digest_counts(database)
    assert (notices["held"], notices["tpl_refused"], notices["template"]) == (1, 1, 0)
    engine = database.open()
    try:
        async with read_transaction(engine) as conn:
            assert await template_refused_at(conn) is not None
        answer = await _health(engine)(None)  # type: ignore[arg-type]
        assert b'"zalo_template"' in answer.body
        assert b'"refused"' in answer.body
    finally:
        await engine.dispose()
    async with life(zalo, database, clock, REFUSED) as bot:
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
        after = [m.text for m in zalo.messages(CITIZEN)[before:]]
        assert any(code in t and "đã tháo dỡ phần lấn chiếm" in t for t in after), after
