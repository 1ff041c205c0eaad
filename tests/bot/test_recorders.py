"""Every effect the engine can return has exactly one recorder."""

from __future__ import annotations

import typing

import pytest

from bot.runtime.recorders import RECORDERS, Recording, record
from conversations import Change


def test_every_change_type_has_a_recorder() -> None:
    assert set(typing.get_args(Change)) == set(RECORDERS)


def test_an_unknown_change_is_refused() -> None:
    class Unknown:
        """An effect the engine does not define."""

    with pytest.raises(TypeError, match="no recorder for Unknown"):
        record(typing.cast(Recording, None), Unknown())
