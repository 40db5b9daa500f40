"""A clock the local runtime moves: days pass in seconds."""

from __future__ import annotations

import threading
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
        self._lock = threading.Lock()  # concurrent invocations may move it (a soak's deliveries)

    def __call__(self) -> datetime:
        if self._started is None:
            return self._now
        return self._now + timedelta(seconds=time.monotonic() - self._started)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            now = self._now
        # Outside the lock: a listener may take long (a delivery stream writing its buffer) or
        # move the clock itself.
        for listener in list(self.listeners):
            listener()
        return now
