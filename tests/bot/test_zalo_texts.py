"""The Zalo sender's own sentences go in the language each reader's chat chose
(``bot/channels/zalo_texts.py``), rendered from the catalogs, else the default language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.zalo_window import RATE_HINT_TEMPLATE, Window
from bot.zalo_wiring import channel_texts
from conversations import default_catalog
from storage import write_transaction
from storage.outbound import TextMessage
from storage.schema import contacts
from tests.support.db import Database, migrated

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
RATING = TextMessage(
    "Phản ánh PA-1234 đã được giải quyết.", (("rate:PA-1234:5", "5"),), "notice.resolved"
)


@pytest.mark.parametrize(
    ("channel", "chat", "default", "expected"),
    [
        ("zalo", "en-citizen", "vi", "en"),  # chose English: English, whatever the default
        ("zalo", "vi-citizen", "en", "vi"),
        ("zalo", "never-chose", "vi", "vi"),  # no choice: the default, as the engine does
        ("zalo", "never-chose", "en", "en"),
        ("telegram", "en-citizen", "vi", "vi"),  # the same id on another channel is another chat
        ("telegram", "en-officer", "vi", "en"),  # an officer's correction, in their language
    ],
)
async def test_each_text_goes_in_the_language_its_reader_chose(
    tmp_path: Path, channel: str, chat: str, default: str, expected: str
) -> None:
    engine = await migrated(Database(f"sqlite+aiosqlite:///{tmp_path / 'texts.db'}"))
    try:
        rows: list[tuple[str, str, str | None]] = [
            ("zalo", "en-citizen", "en"),
            ("zalo", "vi-citizen", "vi"),
        ]
        rows += [("zalo", "never-chose", None), ("telegram", "en-officer", "en")]
        async with write_transaction(engine) as conn:
            await conn.execute(
                contacts.insert(),
                [
                    {"channel": c, "external_id": e, "language": lang, "created_at": NOW}
                    for c, e, lang in rows
                ],
            )
        texts = channel_texts(engine, default)
        catalog = default_catalog()
        for key in ("zalo.filed_note", "zns5.filed_note", "zalo7.fixed_held"):
            assert await texts.for_chat(channel, chat, key) == catalog.text(expected, key)
        if channel == "zalo":
            window = Window(engine, lambda: NOW, texts=texts)
            hint = await window.rate_hint(chat, RATING, RATE_HINT_TEMPLATE)
            assert hint == catalog.text(expected, RATE_HINT_TEMPLATE)
    finally:
        await engine.dispose()
