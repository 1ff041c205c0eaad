"""End to end over the fake Zalo: a dossier's appointment slip is followed by typing its short
code (Zalo's link cannot carry the 24-character ``d_`` token), and wrong codes count toward
the one per-chat daily limit shared with receipts' codes. The bot's wiring is
``tests/e2e/test_zalo_window``'s."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.channels.zalo_codes import is_valid, printed
from storage import write_transaction
from storage.queries.dossiers import NewDossier, insert_dossier
from storage.queries.receipts import NewReceipt, issue_receipts
from tests.e2e import test_zalo_window as window
from tests.e2e.test_zalo_window import CITIZEN, CODE, NOW, Life, life
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo

#: The fake OA and the bot's database, as the window tests set them up.
zalo = window.zalo
database = window.database

#: A dossier slip's short code (valid check digit), in the receipts' code space.
DOSSIER_CODE = "3517296041"


async def _slips(database: Database, *, receipt: bool) -> None:
    """Dossier HS-77 with ``DOSSIER_CODE`` on its slip; with ``receipt``, a receipt ``CODE``."""
    engine = database.open()
    async with write_transaction(engine) as conn:
        if receipt:
            await issue_receipts(conn, [NewReceipt("t" * 24, "1.009972", short_code=CODE)], NOW)
        new = NewDossier(
            "HS-77", "d" * 24, "cli", "1.009972", date(2026, 3, 1), date(2026, 3, 30),
            short_code=DOSSIER_CODE,
        )  # fmt: skip
        assert await insert_dossier(conn, new, NOW)
    await engine.dispose()


@pytest.mark.parametrize(
    "typed",
    [
        printed(DOSSIER_CODE),
        DOSSIER_CODE,
        f"MÃ {DOSSIER_CODE[:4]} {DOSSIER_CODE[4:8]} {DOSSIER_CODE[8:]}",
        f"mã số: {DOSSIER_CODE[:4]}-{DOSSIER_CODE[4:8]} - {DOSSIER_CODE[8:]}",
    ],
    ids=["printed", "glued", "upper-spaces", "lower-dashes"],
)
async def test_a_dossier_slip_is_followed_by_typing_its_short_code(
    zalo: FakeZalo, database: Database, typed: str
) -> None:
    """On Zalo the link cannot carry the dossier's 24-character ``d_`` token: the citizen
    types the slip's 10-digit code, however written, and is asked whether to follow it."""
    assert is_valid(DOSSIER_CODE)
    await _slips(database, receipt=False)
    async with life(zalo, database, SettableClock(datetime.now(UTC))) as bot:
        await bot.text(CITIZEN, typed)
        asked = zalo.messages(CITIZEN)[-1].text
        assert "Theo dõi hồ sơ HS-77" in asked, asked


async def test_wrong_dossier_and_receipt_codes_share_one_daily_limit(
    zalo: FakeZalo, database: Database
) -> None:
    await _slips(database, receipt=True)
    # One wrong digit each (the check digit refuses it): five near each code.
    wrong = [f"{d}{code[1:]}" for code in (DOSSIER_CODE, CODE) for d in "56789"]
    assert not any(is_valid(w) for w in wrong)

    async def answer(bot: Life, typed: str) -> str:
        before = len(zalo.messages(CITIZEN))
        await bot.text(CITIZEN, typed)
        return " ".join(m.text for m in zalo.messages(CITIZEN)[before:])

    async with life(zalo, database, SettableClock(datetime.now(UTC))) as bot:
        for code in wrong[:9]:
            assert "Mã trên giấy biên nhận không đúng" in await answer(bot, printed(code)), code
        # The right dossier code is not counted; the tenth wrong one (near the receipt's)
        # reaches the one limit, and then the receipt's right code waits for tomorrow.
        assert "Theo dõi hồ sơ HS-77" in await answer(bot, printed(DOSSIER_CODE))
        await bot.press(CITIZEN, "#c:dfol:" + "d" * 24 + ":no")
        assert "Mã trên giấy biên nhận không đúng" in await answer(bot, printed(wrong[9]))
        assert "10 lần hôm nay" in await answer(bot, printed(CODE))
