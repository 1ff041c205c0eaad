"""A consent keeps which wording was shown (Luật 91/2025/QH15: consent must be verifiable),
and keeps it after the survey ends and the consent loses its chat (issue 10's anonymity)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.dispatch import Dispatcher, DispatchSettings, Handled
from conversations import Choice, Command, InboundEvent
from storage import read_transaction
from storage.schema import consents
from tests.support.clock import SequentialClock, SequentialIds
from tests.support.surveys import complete_survey


def shown_id(handled: Handled, scope: str, language: str = "vi") -> str:
    """The wording id of the consent screen a person was sent: its text and buttons."""
    (screen,) = handled.messages
    text = "\n".join((screen.text, *(label for _, label in screen.choices)))
    return f"{scope}/{language}/{hashlib.sha256(text.encode()).hexdigest()[:16]}"


async def _send(dispatcher: Dispatcher, user: str, n: int, payload: object) -> Handled:
    event = InboundEvent(f"{user}-{n}", "test", user, payload)  # type: ignore[arg-type]
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
    screen = await _send(dispatcher, "looker", 1, Command("khaosat"))
    wording = shown_id(screen, method)
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
    assert [(given, wording_) for given, _, wording_ in rows] == [
        (False, wording),
        (True, wording),
    ]
    given = rows[1]
    assert given.contact_id is None  # the ended survey's consent points at no chat


def test_the_wording_id_changes_with_what_is_shown() -> None:
    from conversations.effects import Reply
    from conversations.flows.survey import consent_wording

    screen = Reply("survey.consent.yes")
    ids = {
        consent_wording(screen, "vi", "sipas-1001"),
        consent_wording(screen, "en", "sipas-1001"),
        consent_wording(screen, "vi", "sipas-2640"),
        consent_wording(Reply("survey.consent.no"), "vi", "sipas-1001"),
    }
    assert len(ids) == 4
    assert consent_wording(screen, "vi", "sipas-1001") == consent_wording(
        screen, "vi", "sipas-1001"
    )
