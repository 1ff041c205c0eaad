"""End to end over the fake Zalo (issue 15, fresh tester's D1/D2): a staff answer longer than
a template message holds, given 10 days after filing (the window closed), reaches the citizen
as ONE template message: its words shortened at a word boundary and marked so, the rating
hint whole, counted once in the digest; the whole answer arrives once, when the citizen
writes to the OA (across a restart). Before, a 600-character answer was cut mid-word with no
mark, and a 1,900-character one went as two templates counted twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.zalo_template import MAX_TEMPLATE_TEXT
from conversations.catalog import default_catalog
from tests.e2e.test_zalo_window import TEMPLATE, database
from tests.support.clock import SettableClock
from tests.support.db import Database
from tests.support.fake_zalo import FakeZalo, running
from tests.support.zalo_e2e import (
    CITIZEN,
    STAFF,
    Life,
    counts,
    digest_counts,
    file_complaint,
    life,
)

__all__ = ["database"]  # the fixture, used by name

MARK = default_catalog().text("vi", "zalo15.template_cut")
HINT = default_catalog().text("vi", "zalo7.rate_hint_template")
#: The part marks of a text sent in parts ("\n(1/2)").
PART = re.compile(r"\n\(\d+/\d+\)$")


def long_answer(length: int) -> str:
    """A staff answer of exactly ``length`` characters, Vietnamese words, numbered sentences
    (so that any stretch of it is found once)."""
    words: list[str] = []
    while len(" ".join(words)) < length:
        words.append(f"Bước {len(words) + 1}: công trình lấn chiếm đã được tháo dỡ, dọn sạch.")
    text = " ".join(words)[:length]
    return text[:-1] + "." if text.endswith(" ") else text


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with running(TEMPLATE) as fake:
        yield fake


async def answer_long(bot: Life, clock: SettableClock, act: str, note: str) -> str:
    """The citizen files a complaint; 10 days later (Zalo's window closed) staff ``act`` on
    it ("answer": resolved, with the rating request; "ask": a request for more, its one button) with
    ``note``. Its code."""
    code = await file_complaint(bot)
    clock.now += timedelta(days=10)
    bot.zalo.out_of_window(CITIZEN)
    await bot.text(STAFF, "/start")
    await bot.press(STAFF, f"#c:case:{code}:{act}")
    await bot.text(STAFF, note)
    return code


@pytest.mark.parametrize("act", ["answer", "ask"])
@pytest.mark.parametrize("length", [600, 1900])
async def test_a_long_answer_is_one_shortened_template_then_whole_when_they_write(
    zalo: FakeZalo, database: Database, act: str, length: int
) -> None:
    note = long_answer(length)
    assert len(note) == length
    clock = SettableClock(datetime.now(UTC))
    async with life(zalo, database, clock, TEMPLATE) as bot:
        code = await answer_long(bot, clock, act, note)
    [sent] = zalo.template_sends  # one template message for one notice
    content = sent.data["content"]
    assert len(content) <= MAX_TEMPLATE_TEXT, len(content)
    assert content.endswith(f"…\n{HINT}\n{MARK}" if act == "answer" else f"…\n{MARK}"), content
    assert code in content
    # Cut after a whole word of the answer, and nothing of it left out before the cut.
    words = content.split("…")[0].split()
    assert words[-1] in note.split(), words[-3:]
    assert squeezed(" ".join(words[words.index("Bước") :])) in squeezed(note)
    # Staff are told the truth: the citizen got it shortened; the whole goes when they write.
    told = zalo.messages(STAFF)[-1].text
    assert code in told, told
    assert "rút gọn" in told, told
    # Counted once, as sent by template; the whole notice waits for the citizen's message.
    assert (await counts(database)).get("held", 0) == 1
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
    before = len(zalo.messages(CITIZEN))
    clock.now += timedelta(hours=5)
    async with life(zalo, database, clock, TEMPLATE) as bot:  # restarted
        assert len(zalo.messages(CITIZEN)) == before
        await bot.text(CITIZEN, "Cho tôi hỏi kết quả")
        await bot.text(CITIZEN, "Cảm ơn")
    got = squeezed("".join(PART.sub("", m.text) for m in zalo.messages(CITIZEN)[before:]))
    assert squeezed(note) in got, got
    assert got.count(squeezed(note[:80])) == 1, got  # once
    assert len(zalo.template_sends) == 1
    assert (await counts(database)).get("held", 0) == 0
    assert await digest_counts(database) == (0, {"held": 0, "resent": 0, "template": 1})
