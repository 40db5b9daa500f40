"""A clock the local runtime moves: days pass in seconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class MovableClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        # Called after every move: what runs on timers in AWS (a delivery stream's buffer
        # interval) acts when the simulated time passes it.
        self.listeners: list[Callable[[], None]] = []

    def __call__(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        for listener in list(self.listeners):
            listener()
        return self._now
