"""A uniform sample of at most `capacity` labelled rows from a window streamed batch by batch
(capture object by capture object, hour by hour), so a retraining run's memory is bounded by
`retraining.max_training_rows` however long its lookback is.

Every row gets a uniform random priority and the sample is the `capacity` rows of highest
priority (a bottom-k/reservoir sample): each row of the window is kept with the same probability,
so every hour is represented in proportion to its labelled traffic, a busy hour no more per row
than a quiet one. Rows below the sample's lowest priority are dropped as they arrive; the others
wait in a buffer of at most `capacity` rows before the sample is cut back."""

from __future__ import annotations

import numpy as np

from modelwatch.retraining.dataset import LabelledRows


class UniformSample:
    def __init__(self, capacity: int, seed: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.rng = np.random.default_rng(seed)
        self.seen = 0  # rows offered: the window's labelled rows
        self.peak_held = 0  # most rows held at once (sample and buffer), for the memory bound
        self._priority = np.empty(0)
        self._columns: dict[str, np.ndarray] = {}
        self._timestamps = np.empty(0, dtype=object)
        self._pending: list[tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]] = []
        self._pending_rows = 0
        self._threshold = -1.0  # the lowest priority in a full sample: rows under it never enter

    @property
    def held(self) -> int:
        return len(self._priority) + self._pending_rows

    def add(self, rows: LabelledRows) -> None:
        count = rows.rows
        if not count:
            return
        self.seen += count
        priority = self.rng.random(count)
        kept = priority > self._threshold
        if not kept.any():
            return
        timestamps = np.asarray(rows.timestamps, dtype=object)
        self._pending.append((priority[kept], {n: v[kept] for n, v in rows.columns.items()}, timestamps[kept]))
        self._pending_rows += int(kept.sum())
        self.peak_held = max(self.peak_held, self.held)
        if self._pending_rows >= self.capacity:
            self._cut()

    def _cut(self) -> None:
        """Merge the buffer into the sample and keep the `capacity` highest priorities."""
        if not self._pending:
            return
        parts = [(self._priority, self._columns, self._timestamps), *self._pending] if self._columns else self._pending
        priority = np.concatenate([p for p, _, _ in parts])
        names = list(parts[0][1])
        columns = {n: np.concatenate([c[n] for _, c, _ in parts]) for n in names}
        timestamps = np.concatenate([t for _, _, t in parts])
        if len(priority) > self.capacity:
            top = np.argpartition(-priority, self.capacity - 1)[: self.capacity]
            priority, timestamps = priority[top], timestamps[top]
            columns = {n: v[top] for n, v in columns.items()}
            self._threshold = float(priority.min())
        self._priority, self._columns, self._timestamps = priority, columns, timestamps
        self._pending, self._pending_rows = [], 0

    def rows(self) -> LabelledRows:
        """The sample in time order (the holdout is its most recent share)."""
        self._cut()
        order = np.argsort(self._timestamps.astype(str), kind="stable")
        return LabelledRows({n: v[order] for n, v in self._columns.items()}, [str(t) for t in self._timestamps[order]])
