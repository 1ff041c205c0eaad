"""A consent keeps which wording was shown (Luật 91/2025/QH15: consent must be verifiable),
and keeps it after the survey ends and the consent loses its chat (issue 10's anonymity);
that wording id is the same on every channel and in every language, so the consent row says
nothing of who gave it."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, Env, InboundEvent
from conversations.effects import Reply
from conversations.flows.survey import consent_texts, consent_wording
from conversations.flows.survey_data import SurveyData
from conversations.flows.survey_views import _consent_reply
from storage import read_transaction
from storage.schema import consents
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey


def _shown(handled: Handled) -> str:
    """The consent screen a person was sent: its text and buttons, one per line."""
    (screen,) = handled.messages
    return "\n".join((screen.text, *(label for _, label in screen.choices)))


async def _send(
    dispatcher: Dispatcher, user: str, n: int, payload: object, channel: str = "test"
) -> Handled:
    event = InboundEvent(f"{user}-{n}", channel, user, payload)  # type: ignore[arg-type]
    result = (await dispatcher.process([event]))[0]
    assert isinstance(result, Handled)
    return result


@pytest.mark.parametrize("method", ["sipas-1001", "sipas-2640"])
async def test_the_consent_keeps_the_wording_shown_after_it_loses_its_chat(
    engine: AsyncEngine, method: str
) -> None:
    clock = SequentialClock(start=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    settings = DispatchSettings(survey_ttl=timedelta(days=2), survey_method=method)
    dispatcher = Dispatcher(engine, settings, clock=clock, new_id=SequentialIds())
    screen = _shown(await _send(dispatcher, "looker", 1, Command("khaosat")))
    # One person agrees and completes the survey; another declines.
    await complete_survey(dispatcher, "agrees", random.Random(3))
    await _send(dispatcher, "declines", 1, Command("khaosat"))
    await _send(dispatcher, "declines", 2, Choice("consent:no"))
    await dispatcher.close()

    async with read_transaction(engine) as conn:
        rows = (
            await conn.execute(
                select(consents.c.given, consents.c.contact_id, consents.c.wording)
                .where(consents.c.purpose == "survey")
                .order_by(consents.c.given)
            )
        ).all()
    (wording,) = {row.wording for row in rows}
    assert [given for given, _, _ in rows] == [False, True]
    assert rows[1].contact_id is None  # the ended survey's consent points at no chat
    # Verifiable: the id is the hash of the screen's renderings, the one shown among them.
    scope, digest = wording.split("/")
    assert scope == method
    env = Env(now=clock(), new_id=lambda: 1, survey_ttl=settings.survey_ttl)
    texts = consent_texts(lambda e: _consent_reply(e, SurveyData(form=method)), env)
    assert screen in texts
    assert digest == hashlib.sha256("\n\x1e\n".join(texts).encode()).hexdigest()[:16]


async def test_the_wording_is_the_same_on_every_channel_and_in_every_language(
    engine: AsyncEngine,
) -> None:
    """An English speaker on Zalo and a Vietnamese one on Telegram leave the same consent
    row behind: with the contacts' channels and languages and the responses' hours, a
    wording that named them would narrow who answered."""
    clock = SequentialClock(start=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    dispatcher = Dispatcher(engine, DispatchSettings(), clock=clock, new_id=SequentialIds())
    for user, channel, language in [
        ("a", "telegram", "vi"),
        ("b", "zalo", "en"),
        ("c", "web", "en"),
    ]:
        await _send(dispatcher, user, 0, Command("ngonngu", language), channel)
        await _send(dispatcher, user, 1, Command("khaosat"), channel)
        await _send(dispatcher, user, 2, Choice("consent:yes"), channel)
        await _send(dispatcher, user, 3, Command("huy"), channel)
    await dispatcher.close()
    async with read_transaction(engine) as conn:
        rows = (await conn.execute(select(consents.c.wording, consents.c.contact_id))).all()
    assert len(rows) == 3
    assert len({wording for wording, _ in rows}) == 1
    assert {contact for _, contact in rows} == {None}


def test_the_wording_id_changes_with_what_is_shown() -> None:
    env = Env(now=datetime(2026, 3, 2, tzinfo=UTC), new_id=lambda: 1)
    ids = {
        consent_wording(lambda _: Reply("survey.consent.yes"), env, "sipas-1001"),
        consent_wording(lambda _: Reply("survey.consent.yes"), env, "sipas-2640"),
        consent_wording(lambda _: Reply("survey.consent.no"), env, "sipas-1001"),
    }
    assert len(ids) == 3
