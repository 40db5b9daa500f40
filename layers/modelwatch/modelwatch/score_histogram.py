"""Exact, mergeable counts of probabilities on a fixed grid: what CBPE reads.

The grid is uniform in log-odds, logit(p) = log(p / (1 - p)), in steps of LOGIT_STEP, so its
resolution is relative where probabilities crowd: a rare class's probabilities of 0.0001 and
0.0004 stay apart (an even grid of 0.0001 steps would merge most of them, and with them the
rows a class's expected false negatives are summed over), while near 0.5 points are 0.000125
apart, finer than scores given to three decimals. Beyond ±LOGIT_LIMIT (p below 1.4e-11 or its
mirror) values share the end points.

Unlike a quantile sketch past its exact range, the counts are integers: the same rows give
the same histogram whatever the batches and the merge order, and so the same estimates every
run. Only the grid points that hold rows are kept (sorted point indices and their counts).
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, field

import numpy as np

from modelwatch.sketches import QuantileSketch, sorted_weighted

LOGIT_STEP = 5e-4
LOGIT_LIMIT = 25.0
GRID_OFFSET = round(LOGIT_LIMIT / LOGIT_STEP)  # grid indices run from -GRID_OFFSET to GRID_OFFSET
GRID_POINTS = 2 * GRID_OFFSET + 1
# Fewer points than GRID_POINTS / SPARSE_SHARE: counted by sorting them, not on the whole grid.
SPARSE_SHARE = 16


def grid_indices(probabilities: np.ndarray) -> np.ndarray:
    """The grid point of each probability (clipped to [0, 1]): round(logit(p) / LOGIT_STEP)."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        log_odds = np.log(p) - np.log1p(-p)
    return np.rint(np.clip(log_odds, -LOGIT_LIMIT, LOGIT_LIMIT) / LOGIT_STEP).astype(np.int64)


def grid_probabilities(indices: np.ndarray) -> np.ndarray:
    """The probability each grid point stands for."""
    # The logistic function in numpy alone: the capture function profiles scores without SciPy
    # in its layers. |logit| <= LOGIT_LIMIT, so exp() cannot overflow.
    return 1.0 / (1.0 + np.exp(-np.asarray(indices, dtype=np.float64) * LOGIT_STEP))


def _empty_indices() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class ScoreHistogram:
    indices: np.ndarray = field(default_factory=_empty_indices)  # grid points holding rows, ascending
    counts: np.ndarray = field(default_factory=_empty_indices)  # rows at each

    @classmethod
    def from_indices(cls, indices: np.ndarray, weights: np.ndarray | None = None) -> ScoreHistogram:
        indices = np.asarray(indices, dtype=np.int64)
        if len(indices) * SPARSE_SHARE < GRID_POINTS:
            # Few points (a segment value's hour, a small batch): sorted, not counted on all
            # GRID_POINTS slots, whose allocation alone would cost more than the points.
            held, inverse = np.unique(indices, return_inverse=True)
            counts = np.rint(np.bincount(inverse, weights=weights, minlength=len(held))).astype(np.int64)
            keep = counts > 0
            return cls(held[keep], counts[keep])
        # Counted on the whole grid rather than sorted: a merge of many hours' histograms is one
        # pass, not a sort of every point they hold.
        counts = np.bincount(indices + GRID_OFFSET, weights=weights, minlength=GRID_POINTS)
        counts = np.rint(counts).astype(np.int64)
        held = np.flatnonzero(counts > 0)
        return cls(held - GRID_OFFSET, counts[held])

    @classmethod
    def from_values(cls, values: np.ndarray) -> ScoreHistogram:
        """Count the finite values (probabilities; anything outside [0, 1] is clipped)."""
        values = np.asarray(values, dtype=np.float64)
        return cls.from_indices(grid_indices(values[np.isfinite(values)]))

    @classmethod
    def from_sketch(cls, sketch: QuantileSketch) -> ScoreHistogram:
        """From a sketch of probabilities (profiles written before histograms were kept)."""
        values, weights = sorted_weighted(sketch)
        return cls.from_indices(grid_indices(values), weights)

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The probabilities of the grid points holding rows (ascending) and their row counts."""
        return grid_probabilities(self.indices), self.counts.astype(np.float64)

    def split(self, threshold: float) -> tuple[ScoreHistogram, ScoreHistogram]:
        """Rows at or above the threshold's grid point, and those below it."""
        above = self.indices >= grid_indices(np.array([threshold]))[0]
        return (
            ScoreHistogram(self.indices[above], self.counts[above]),
            ScoreHistogram(self.indices[~above], self.counts[~above]),
        )

    def merged(self, *others: ScoreHistogram) -> ScoreHistogram:
        parts = [self, *others]
        return ScoreHistogram.from_indices(
            np.concatenate([part.indices for part in parts]),
            np.concatenate([part.counts for part in parts]).astype(np.float64),
        )

    def to_text(self) -> str:
        """The gaps between held grid points (int32) and their counts (int64), little-endian,
        zlib-compressed, base64. Gaps and counts are mostly small and repeat: a 100,000-row
        window's histogram shrinks about fivefold."""
        gaps = np.diff(self.indices, prepend=0)
        payload = gaps.astype("<i4").tobytes() + self.counts.astype("<i8").tobytes()
        return base64.b64encode(zlib.compress(payload, 6)).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> ScoreHistogram:
        payload = zlib.decompress(base64.b64decode(text))
        held = len(payload) // 12
        return cls(
            np.cumsum(np.frombuffer(payload[: 4 * held], dtype="<i4").astype(np.int64)),
            np.frombuffer(payload[4 * held :], dtype="<i8").astype(np.int64),
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ScoreHistogram)
            and bool(np.array_equal(self.indices, other.indices))
            and bool(np.array_equal(self.counts, other.counts))
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value
