"""Drives whole surveys through the dispatcher by pressing the buttons it offers."""

from __future__ import annotations

import random

from bot.runtime.dispatch import Dispatcher, Handled
from conversations import Choice, Command, InboundEvent


async def complete_survey(
    dispatcher: Dispatcher,
    user: str,
    rng: random.Random,
    *,
    finish: str = "submit",
    channel: str = "test",
    opening: object = None,
) -> int:
    """Answers a survey at random (skips included) and submits it, cancels it midway
    (``finish="cancel"``) or walks away from it (``finish="leave"``, for the expiry job).
    ``opening``: what opens it (default ``/khaosat``). Returns how many events it took."""
    counter = 0

    async def send(payload: object) -> Handled:
        nonlocal counter
        counter += 1
        event = InboundEvent(f"{user}-{counter}-{rng.random()}", channel, user, payload)  # type: ignore[arg-type]
        result = (await dispatcher.process([event]))[0]
        assert isinstance(result, Handled), result
        return result

    handled = await send(opening or Command("khaosat"))  # or an invitation's button
    handled = await send(Choice("consent:yes"))
    stop_after = rng.randint(3, 20) if finish in ("cancel", "leave") else 10_000
    while counter < 200:
        choices = [c[0] for m in handled.messages for c in m.choices]
        if any(c == "summary:submit" for c in choices):
            await send(Choice("summary:submit"))
            return counter
        if counter >= stop_after:
            if finish == "cancel":
                await send(Command("huy"))
            return counter
        step = choices[0].split(":", 1)[0] if choices else ""
        toggles = [c for c in choices if not c.endswith((":back", ":skip", ":done"))]
        if any(c.endswith(":done") for c in choices):  # a multi-select: toggle some, then done
            for picked in rng.sample(toggles, k=rng.randint(0, min(3, len(toggles)))):
                handled = await send(Choice(picked))
            handled = await send(Choice(f"{step}:done"))
        elif not toggles or rng.random() < 0.1:
            handled = await send(Choice(f"{step}:skip"))
        else:
            handled = await send(Choice(rng.choice(toggles)))
    raise AssertionError("the survey did not end")
