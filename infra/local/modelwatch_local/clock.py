"""A clock the local runtime moves: days pass in seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class MovableClock:
    def __init__(self, start: datetime | None = None, real_time: bool = False) -> None:
        self._now = start or datetime.now(UTC)
        # real_time: the clock also runs with the wall clock (`modelwatch serve`, where requests
        # arrive in real time and the delivery stream's interval must pass by itself).
        self._started = time.monotonic() if real_time else None
        # Called after every move: what runs on timers in AWS (a delivery stream's buffer
        # interval) acts when the simulated time passes it.
        self.listeners: list[Callable[[], None]] = []

    def __call__(self) -> datetime:
        if self._started is None:
            return self._now
        return self._now + timedelta(seconds=time.monotonic() - self._started)

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        for listener in list(self.listeners):
            listener()
        return self._now
