"""End to end over the fake Zalo: the Zalo sender's own sentences (the note under a
complaint's receipt on how the citizen will hear back) reach each citizen in the language
their chat chose, rendered from the catalogs, not once in the default language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations import default_catalog
from tests.support.clock import SettableClock
from tests.support.fake_zalo import FakeZalo, running
from tests.support.zalo_e2e import CITIZEN, life, seeded_database, tracking_code


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with running() as fake:
        yield fake


@pytest.mark.parametrize(("lang", "other"), [("en", "vi"), ("vi", "en")])
async def test_the_filing_note_is_in_the_language_the_citizen_chose(
    zalo: FakeZalo, tmp_path: Path, lang: str, other: str
) -> None:
    database = await seeded_database(zalo, tmp_path)
    clock = SettableClock(datetime.now(UTC))
    catalog = default_catalog()
    async with life(zalo, database, clock) as bot:
        await bot.text(CITIZEN, f"/ngonngu {lang}")
        await bot.text(CITIZEN, "/phananh")
        await bot.text(CITIZEN, "2")
        await bot.text(CITIZEN, "Công trình lấn chiếm vỉa hè trước số 12 đường Lê Lợi.")
        await bot.text(CITIZEN, "xong")
        await bot.press(CITIZEN, "#c:c.who:anon")
        await bot.press(CITIZEN, "#c:c.addr:skip")
        await bot.press(CITIZEN, "#c:c.confirm:send")
    texts = [m.text for m in zalo.messages(CITIZEN)]
    tracking_code(texts)  # filed
    assert catalog.text(lang, "zalo.filed_note") in texts, texts[-3:]
    assert catalog.text(other, "zalo.filed_note") not in texts
