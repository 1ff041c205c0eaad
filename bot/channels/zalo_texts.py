"""The Zalo channel's own sentences, each in its reader's language (issue 15).

The filing note (how a citizen will hear back), the rating hints, the staff corrections and
the hint under numbered options are added by the Zalo sender, not by the engine: they are
rendered from the catalogs (the only source of text) for every language when the channel is
wired, and the one sent is chosen when it is sent, by the language its reader's chat chose
(``contacts.language``), else the default language, as the engine chooses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from conversations import Catalog
from conversations.catalog import LANGUAGES
from storage import read_transaction
from storage.queries.contacts import languages

#: Under options numbered in the text: the words the engine reads when typed (``{words}``).
NAV_HINT = "zalo.nav_hint"


@dataclass(frozen=True, slots=True)
class ZaloTexts:
    """Texts by language, then by catalog key; ``engine`` reads a chat's chosen language
    (None: every chat reads ``default``, as in tests without a database)."""

    by_language: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default: str = "vi"
    engine: AsyncEngine | None = None

    async def language(self, channel: str, chat_id: str) -> str:
        """The language ``chat_id`` on ``channel`` reads: its choice, else the default."""
        if self.engine is None:
            return self.default
        async with read_transaction(self.engine) as conn:
            chosen = await languages(conn, [(channel, chat_id)])
        return chosen.get((channel, chat_id), self.default)

    def text(self, language: str, key: str) -> str:
        """The text of ``key`` in ``language`` (the default language's when that has none);
        "" when it was not rendered: the caller then adds nothing."""
        found = self.by_language.get(language, {}).get(key)
        return found if found is not None else self.by_language.get(self.default, {}).get(key, "")

    async def for_chat(self, channel: str, chat_id: str, key: str) -> str:
        """The text of ``key`` in the language of ``chat_id`` on ``channel``."""
        if not key:
            return ""
        return self.text(await self.language(channel, chat_id), key)


def rendered(
    catalog: Catalog, keys: Iterable[str], default: str, engine: AsyncEngine | None
) -> ZaloTexts:
    """``keys`` rendered from ``catalog`` in every language the bot speaks."""
    wanted = tuple(dict.fromkeys(keys))
    by_language = {lang: {key: catalog.text(lang, key) for key in wanted} for lang in LANGUAGES}
    return ZaloTexts(by_language, default, engine)


def fixed(texts: Mapping[str, str]) -> ZaloTexts:
    """The same ``texts`` (by key) for every chat: for tests of what is sent, not in which
    language."""
    return ZaloTexts({"vi": dict(texts)})
