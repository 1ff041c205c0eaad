"""Fixtures of the bot's tests that more than one file asks for."""

from __future__ import annotations

import pytest

import bot.runtime.sender as sender_module
from tests.support.sender_time import Moment, Waits


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> Moment:
    """The sender module's ``time``: a clock only the test moves."""
    found = Moment()
    monkeypatch.setattr(sender_module, "time", found)
    return found


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch, moment: Moment) -> Waits:
    """The sender module's ``asyncio``: each wait's timeout and each sleep written down."""
    found = Waits(moment)
    monkeypatch.setattr(sender_module, "asyncio", found)
    return found
