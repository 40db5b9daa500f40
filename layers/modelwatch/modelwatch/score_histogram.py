"""Exact, mergeable counts of probabilities on a fixed grid: what CBPE reads.

A probability p counts at grid point round(p * GRID_STEPS) / GRID_STEPS (clipped to [0, 1]), so
scores given to four decimals or fewer are kept exactly and any other lands within half a step
(0.00005) of its value. Unlike a KLL sketch, whose compactions flip coins, the counts are
integers: the same rows give the same histogram whatever the batches and the merge order, and so
the same estimates every run. Stored sparse (only the grid points that hold rows).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import numpy as np
from datasketches import kll_doubles_sketch

from modelwatch.sketches import sorted_weighted

GRID_STEPS = 10_000


def _empty_counts() -> np.ndarray:
    return np.zeros(GRID_STEPS + 1, dtype=np.int64)


@dataclass
class ScoreHistogram:
    counts: np.ndarray = field(default_factory=_empty_counts)  # rows at each grid point

    @classmethod
    def from_values(cls, values: np.ndarray) -> ScoreHistogram:
        """Count the finite values (probabilities; anything outside [0, 1] is clipped)."""
        values = np.asarray(values, dtype=np.float64)
        values = values[np.isfinite(values)]
        points = np.rint(np.clip(values, 0.0, 1.0) * GRID_STEPS).astype(np.int64)
        return cls(np.bincount(points, minlength=GRID_STEPS + 1).astype(np.int64))

    @classmethod
    def from_sketch(cls, sketch: kll_doubles_sketch) -> ScoreHistogram:
        """From a KLL sketch of probabilities (profiles written before histograms were kept)."""
        values, weights = sorted_weighted(sketch)
        points = np.rint(np.clip(values, 0.0, 1.0) * GRID_STEPS).astype(np.int64)
        return cls(np.bincount(points, weights=weights, minlength=GRID_STEPS + 1).round().astype(np.int64))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid points holding rows (ascending probabilities) and their row counts."""
        held = np.flatnonzero(self.counts)
        return held / GRID_STEPS, self.counts[held].astype(np.float64)

    def merged(self, *others: ScoreHistogram) -> ScoreHistogram:
        counts = self.counts.copy()
        for other in others:
            counts += other.counts
        return ScoreHistogram(counts)

    def to_text(self) -> str:
        """Sparse: the held grid points and their counts, little-endian, base64."""
        held = np.flatnonzero(self.counts).astype("<u4")
        payload = held.tobytes() + self.counts[held].astype("<i8").tobytes()
        return base64.b64encode(payload).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> ScoreHistogram:
        payload = base64.b64decode(text)
        held_count = len(payload) // 12
        held = np.frombuffer(payload[: 4 * held_count], dtype="<u4").astype(np.int64)
        counts = _empty_counts()
        counts[held] = np.frombuffer(payload[4 * held_count :], dtype="<i8")
        return cls(counts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScoreHistogram) and bool(np.array_equal(self.counts, other.counts))

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value
