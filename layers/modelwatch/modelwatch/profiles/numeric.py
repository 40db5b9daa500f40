"""Mergeable profile of one numeric column.

Why a quantile sketch (modelwatch.sketches) and not fixed bins over baseline quantiles: the
sketch needs no baseline when it is built, so the same partial profile serves any window, any
baseline and any method (KS, Wasserstein, PSI, Jensen-Shannon), and it merges. It keeps every
value exactly while a column has at most 2,000 distinct values — so the small-sample tests (KS
on up to 1,000 reference rows) equal scipy's exact computation — and beyond that a
deterministic t-digest, whose rank error stays under SKETCH_RANK_ERROR (0.05%).

Moments use Chan et al.'s pairwise update, so merging never loses variance precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelwatch.sketches import (
    QuantileSketch,
    copy_sketch,
    new_sketch,
    sketch_from_text,
    sketch_to_text,
    sorted_weighted,
)

# Exact value counts are kept while a column has at most this many distinct values; the
# default drift rule treats numeric columns with five or fewer values as categorical.
SMALL_DISTINCT_LIMIT = 32


@dataclass
class NumericColumnProfile:
    count: int = 0  # rows seen, including missing and unparseable values
    missing: int = 0
    type_errors: int = 0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    minimum: float = math.inf
    maximum: float = -math.inf
    sketch: QuantileSketch = field(default_factory=new_sketch)
    small_values: dict[float, int] | None = field(default_factory=dict)

    @property
    def valid(self) -> int:
        """Values that parsed as finite numbers."""
        return self.count - self.missing - self.type_errors

    @property
    def variance(self) -> float:
        """Population variance (ddof=0), as numpy's default."""
        return self.m2 / self.valid if self.valid else math.nan

    @property
    def std(self) -> float:
        return math.sqrt(self.variance) if self.valid else math.nan

    @property
    def distinct_values(self) -> int | None:
        """Exact number of distinct values, or None when above SMALL_DISTINCT_LIMIT."""
        return None if self.small_values is None else len(self.small_values)

    @classmethod
    def from_values(cls, values: np.ndarray, missing: int, type_errors: int) -> NumericColumnProfile:
        """Profile finite float values; `missing` and `type_errors` count what was dropped."""
        # Sorted once here: the moments, the distinct-value check and the sketch all use it.
        values = np.sort(np.asarray(values, dtype=np.float64))
        profile = cls(count=len(values) + missing + type_errors, missing=missing, type_errors=type_errors)
        if len(values):
            profile.mean = float(values.mean())
            deviations = values - profile.mean
            profile.m2 = float(np.square(deviations, out=deviations).sum())
            profile.minimum = float(values[0])
            profile.maximum = float(values[-1])
            profile.sketch.update(values)
            # A spread-out sample of the sorted values settles most continuous columns at once.
            sample = values[:: max(1, len(values) // 256)]
            starts = None
            if np.count_nonzero(sample[1:] != sample[:-1]) < SMALL_DISTINCT_LIMIT:
                starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
            if starts is None or len(starts) > SMALL_DISTINCT_LIMIT:
                profile.small_values = None
            else:
                counts = np.diff(np.append(starts, len(values)))
                profile.small_values = {float(values[i]): int(n) for i, n in zip(starts, counts, strict=True)}
        return profile

    def merged(self, *others: NumericColumnProfile) -> NumericColumnProfile:
        """A new profile of all rows of self and others (inputs are left unchanged)."""
        result = NumericColumnProfile(
            count=self.count,
            missing=self.missing,
            type_errors=self.type_errors,
            mean=self.mean,
            m2=self.m2,
            minimum=self.minimum,
            maximum=self.maximum,
            sketch=copy_sketch(self.sketch),
            small_values=None if self.small_values is None else dict(self.small_values),
        )
        for other in others:
            result._absorb(other)
        return result

    def _absorb(self, other: NumericColumnProfile) -> None:
        n_a, n_b = self.valid, other.valid
        if n_b:
            total = n_a + n_b
            delta = other.mean - self.mean
            self.mean += delta * n_b / total
            self.m2 += other.m2 + delta * delta * n_a * n_b / total
            self.minimum = min(self.minimum, other.minimum)
            self.maximum = max(self.maximum, other.maximum)
            self.sketch.merge(other.sketch)
        self.count += other.count
        self.missing += other.missing
        self.type_errors += other.type_errors
        if self.small_values is None or other.small_values is None:
            self.small_values = None
        else:
            for value, n in other.small_values.items():
                self.small_values[value] = self.small_values.get(value, 0) + n
            if len(self.small_values) > SMALL_DISTINCT_LIMIT:
                self.small_values = None

    def weighted_values(self) -> tuple[np.ndarray, np.ndarray]:
        """The sketch's retained values (sorted) and their weights; exact below SKETCH_K values."""
        return sorted_weighted(self.sketch)

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """P(X <= point) for each sorted point."""
        if self.sketch.is_empty():
            return np.zeros(len(points))
        return np.asarray(self.sketch.get_cdf(list(map(float, points)), True)[:-1])

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        return np.asarray(self.sketch.get_quantiles(list(map(float, ranks))))

    @property
    def is_exact(self) -> bool:
        return not self.sketch.is_estimation_mode()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "numeric",
            "count": self.count,
            "missing": self.missing,
            "type_errors": self.type_errors,
            "mean": self.mean,
            "m2": self.m2,
            "min": self.minimum if self.valid else None,
            "max": self.maximum if self.valid else None,
            "small_values": None
            if self.small_values is None
            else [[value, n] for value, n in sorted(self.small_values.items())],
            "sketch": sketch_to_text(self.sketch),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericColumnProfile:
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            type_errors=int(data["type_errors"]),
            mean=float(data["mean"]),
            m2=float(data["m2"]),
            minimum=math.inf if data["min"] is None else float(data["min"]),
            maximum=-math.inf if data["max"] is None else float(data["max"]),
            sketch=sketch_from_text(data["sketch"]),
            small_values=None
            if data["small_values"] is None
            else {float(value): int(n) for value, n in data["small_values"]},
        )
