"""A clock and id source that make every test run identical (goflow's MockUniverse)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SequentialClock:
    """Each reading is ``step`` after the previous one."""

    def __init__(
        self,
        start: datetime = datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        step: timedelta = timedelta(seconds=1),
    ) -> None:
        self.current = start - step
        self.step = step

    def __call__(self) -> datetime:
        self.current += self.step
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class SequentialIds:
    """Response ids 1001, 1002, ... remembered so a test can look its response up."""

    def __init__(self, start: int = 1001) -> None:
        self.next = start
        self.issued: list[int] = []

    def __call__(self) -> int:
        value = self.next
        self.next += 1
        self.issued.append(value)
        return value


class SettableClock:
    """Reads ``now`` until a test moves it (days later, past a deadline)."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now
