"""What the process knows of its channels' health beyond the database, for ``/healthz``.

Held in memory, per process: each process polls or is called with its own token and learns
of a refusal itself. Only credentials are tracked here (a channel refused is down for
everyone on it until a person acts); transient network errors are retried, not reported.
"""

from __future__ import annotations

from datetime import datetime


class ChannelHealth:
    """Channels whose platform refuses this process's token, and since when (aware UTC)."""

    def __init__(self) -> None:
        self._refused: dict[str, datetime] = {}

    def refused(self, channel: str, at: datetime) -> bool:
        """Marks ``channel`` refused from ``at`` on; True when it was not already."""
        if channel in self._refused:
            return False
        self._refused[channel] = at
        return True

    def accepted(self, channel: str) -> bool:
        """Marks ``channel`` working again; True when it had been refused."""
        return self._refused.pop(channel, None) is not None

    def refusals(self) -> dict[str, datetime]:
        """Each refused channel -> since when; empty when all are well."""
        return dict(self._refused)
