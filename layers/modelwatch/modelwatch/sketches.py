"""The one quantile sketch ModelWatch uses, and its helpers.

A `QuantileSketch` keeps every distinct value with its count while a column has at most
SKETCH_K distinct values (so small samples, and integer columns such as an age, stay exact at
any size). Beyond that it holds an Apache DataSketches t-digest.

Why a t-digest and not DataSketches' KLL: KLL compacts with a random coin seeded from the clock
and no seed can be set from Python, so the same values gave a different sketch, a different KS
statistic and sometimes a different verdict on every run. The t-digest is deterministic: the
same values, added and merged in the same order, give the same bytes. Its error has no formal
bound; SKETCH_RANK_ERROR is a measured envelope (see `tests/unit/test_quantile_sketch.py`,
which holds it on skewed, heavy-tailed, mixed and repeatedly merged data).
"""

from __future__ import annotations

import base64
import struct

import numpy as np
from datasketches import kll_doubles_sketch, tdigest_double

SKETCH_K = 2000
# The t-digest's compression: about 2k centroids, tight in the tails by construction.
DIGEST_K = 1000
# The largest CDF error measured on the t-digest past SKETCH_K distinct values (the test holds
# it with a margin): 0.05%, well under KLL's 0.14% at k = 2000.
SKETCH_RANK_ERROR = 0.0005

_FORMAT = b"MWQS1"


class QuantileSketch:
    """Exact counts of repeated values, a t-digest for the rest.

    Every value is counted exactly while the column has at most SKETCH_K distinct values. Past
    that, values move to a t-digest except those holding more than 1 / SKETCH_K of the column
    (at most SKETCH_K / 2 of them), so a point mass (a column that is 30% zeros) stays exact
    while the rest is digested: the digest interpolates inside a run of equal values, and read
    alone gave P(X <= 0) = 0.15 there. Every step is a function
    of the values and the merge order, never of a clock or a coin.

    The methods mirror the subset of DataSketches' quantile-sketch API ModelWatch uses (update,
    merge, get_rank, get_cdf, get_quantiles, n, is_empty, is_estimation_mode)."""

    __slots__ = ("_atoms", "_counts", "_digest", "_n", "_values")

    def __init__(self) -> None:
        self._values = np.empty(0, dtype=np.float64)
        self._counts = np.empty(0, dtype=np.int64)
        self._digest: tdigest_double | None = None
        self._n = 0
        # The combined values and weights, kept until the next update or merge.
        self._atoms: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n(self) -> int:
        return self._n

    @property
    def num_retained(self) -> int:
        return len(self.weighted()[0])

    def is_empty(self) -> bool:
        return self._n == 0

    def is_estimation_mode(self) -> bool:
        return self._digest is not None

    def update(self, values: np.ndarray) -> None:
        values = np.sort(np.asarray(values, dtype=np.float64))
        if not len(values):
            return
        self._n += len(values)
        starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
        self._add_counts(values[starts], np.diff(np.append(starts, len(values))))

    def update_weighted(self, values: np.ndarray, weights: np.ndarray) -> None:
        """Add each value `weights` times (whole numbers): a sketch read from another's retained
        items, such as a KLL compactor level whose items stand for 2^level values each."""
        values = np.asarray(values, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.int64)
        if len(values) != len(weights) or np.any(weights < 0):
            raise ValueError("one non-negative whole weight per value")
        keep = weights > 0
        distinct, index = np.unique(values[keep], return_inverse=True)
        if not len(distinct):
            return
        totals = np.bincount(index, weights=weights[keep]).astype(np.int64)
        self._n += int(totals.sum())
        self._add_counts(distinct, totals)

    def merge(self, other: QuantileSketch) -> None:
        if other.is_empty():
            return
        self._n += other._n
        if other._digest is not None:
            self._digest_or_new().merge(other._digest)
        self._add_counts(other._values, other._counts)

    def _add_counts(self, values: np.ndarray, counts: np.ndarray) -> None:
        self._atoms = None
        if len(self._values):
            merged = np.union1d(self._values, values)
            totals = np.zeros(len(merged), dtype=np.int64)
            totals[np.searchsorted(merged, self._values)] += self._counts
            totals[np.searchsorted(merged, values)] += counts
            values, counts = merged, totals
        if len(values) > SKETCH_K:
            # Values at or below this count go to the digest: any holding under 1 / SKETCH_K of
            # the column (a run of them counted apart would leave the digest a gap it
            # interpolates across), and as many more as leave at most SKETCH_K / 2 counted. No
            # tie-breaking, so nothing depends on order or luck.
            cut = max(np.sort(counts)[::-1][SKETCH_K // 2], self._n // SKETCH_K)
            digested = counts <= cut
            self._digest_or_new().update(np.repeat(values[digested], counts[digested]))
            values, counts = values[~digested], counts[~digested]
        self._values, self._counts = values, counts

    def _digest_or_new(self) -> tdigest_double:
        if self._digest is None:
            self._digest = tdigest_double(DIGEST_K)
        return self._digest

    def get_rank(self, value: float, inclusive: bool = True) -> float:
        """The share of values below `value` (at or below it when inclusive)."""
        return float(self.get_cdf([value], inclusive)[0])

    def get_cdf(self, points: list[float] | np.ndarray, inclusive: bool = True) -> list[float]:
        """The rank at each point, then 1.0 (as DataSketches' get_cdf)."""
        points = np.asarray(points, dtype=np.float64)
        if self.is_empty():
            return []
        cumulative = np.concatenate(([0], np.cumsum(self._counts)))
        below = cumulative[np.searchsorted(self._values, points, side="right" if inclusive else "left")]
        below = below.astype(np.float64)
        if self._digest is not None and not self._digest.is_empty():
            digest = self._digest
            low, high = digest.get_min_value(), digest.get_max_value()
            # Asked a hair above (inclusive) or below the point, so a small run of equal values
            # in the digest counts whole or not at all rather than half.
            step = np.inf if inclusive else -np.inf
            ranks = np.array([digest.get_rank(float(np.nextafter(p, step))) for p in points.tolist()])
            ranks = np.where(points < low, 0.0, np.where(points > high, 1.0, ranks))
            if inclusive:
                ranks = np.where(points == high, 1.0, ranks)
            below += ranks * digest.get_total_weight()
        return [*(below / self._n).tolist(), 1.0]

    def get_quantiles(self, ranks: list[float] | np.ndarray) -> list[float]:
        """The smallest value whose rank reaches each of `ranks` (from the combined values)."""
        ranks = np.clip(np.asarray(ranks, dtype=np.float64), 0.0, 1.0)
        values, weights = self.weighted()
        cumulative = np.cumsum(weights) / weights.sum()
        index = np.minimum(np.searchsorted(cumulative, ranks - 1e-12, side="left"), len(values) - 1)
        return values[index].tolist()

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted distinct values and the number of values each stands for (summing to n): the
        counted values exactly, and the digest's centroids."""
        if self._digest is None:
            return self._values.copy(), self._counts.astype(np.float64)
        if self._atoms is None:
            means, weights = _centroids(self._digest)
            values, index = np.unique(np.concatenate((self._values, means)), return_inverse=True)
            totals = np.bincount(index, weights=np.concatenate((self._counts.astype(np.float64), weights)))
            self._atoms = (values, totals)
        return self._atoms[0].copy(), self._atoms[1].copy()

    def serialize(self) -> bytes:
        digest = b"" if self._digest is None else self._digest.serialize()
        return (
            _FORMAT
            + struct.pack("<qqq", self._n, len(self._values), len(digest))
            + self._values.astype("<f8").tobytes()
            + self._counts.astype("<i8").tobytes()
            + digest
        )

    @classmethod
    def deserialize(cls, data: bytes) -> QuantileSketch:
        sketch = cls()
        if data[: len(_FORMAT)] != _FORMAT:
            sketch._read_kll(kll_doubles_sketch.deserialize(data))
            return sketch
        offset = len(_FORMAT)
        sketch._n, size, digest_size = struct.unpack_from("<qqq", data, offset)
        offset += 24
        sketch._values = np.frombuffer(data, "<f8", size, offset).astype(np.float64)
        sketch._counts = np.frombuffer(data, "<i8", size, offset + 8 * size).astype(np.int64)
        if digest_size:
            sketch._digest = tdigest_double.deserialize(data[offset + 16 * size :])
        return sketch

    def _read_kll(self, legacy: kll_doubles_sketch) -> None:
        """A profile stored before this sketch: its KLL sketch's values and weights, digested
        when the KLL was past its exact range."""
        if legacy.is_empty():
            return
        values = np.unique(np.fromiter((value for value, _ in legacy), dtype=np.float64, count=legacy.num_retained))
        cumulative = np.asarray(legacy.get_cdf(values.tolist(), True)[:-1], dtype=np.float64)
        cumulative[-1] = 1.0
        counts = np.diff(np.concatenate(([0.0], np.round(cumulative * legacy.n)))).astype(np.int64)
        self._n = int(counts.sum())
        if legacy.is_estimation_mode():
            self._digest_or_new().update(np.repeat(values, counts))
        else:
            self._add_counts(values[counts > 0], counts[counts > 0])


# DataSketches' t-digest serialization: a 32-byte preamble (the centroid and buffered counts at
# bytes 8 and 12), then each centroid as a float64 mean and a uint64 weight, then any buffered
# values. The pinned version's layout is held by tests/unit/test_quantile_sketch.py.
_CENTROID = np.dtype([("mean", "<f8"), ("weight", "<u8")])


def _centroids(digest: tdigest_double) -> tuple[np.ndarray, np.ndarray]:
    """The digest's centroids (means and weights) and any values still buffered."""
    data = digest.serialize()
    if digest.is_empty():
        return np.empty(0), np.empty(0)
    centroids, buffered = struct.unpack_from("<II", data, 8)
    pairs = np.frombuffer(data, _CENTROID, centroids, 32)
    loose = np.frombuffer(data, "<f8", buffered, 32 + _CENTROID.itemsize * centroids)
    return np.concatenate((pairs["mean"], loose)), np.concatenate(
        (pairs["weight"].astype(np.float64), np.ones(len(loose)))
    )


def new_sketch() -> QuantileSketch:
    return QuantileSketch()


def copy_sketch(sketch: QuantileSketch) -> QuantileSketch:
    return QuantileSketch.deserialize(sketch.serialize())


def sketch_to_text(sketch: QuantileSketch) -> str:
    return base64.b64encode(sketch.serialize()).decode("ascii")


def sketch_from_text(text: str) -> QuantileSketch:
    return QuantileSketch.deserialize(base64.b64decode(text))


def sorted_weighted(sketch: QuantileSketch) -> tuple[np.ndarray, np.ndarray]:
    """The sketch's distinct values (sorted) and the number of values each stands for."""
    if sketch.is_empty():
        return np.empty(0), np.empty(0)
    return sketch.weighted()


def update_sorted(sketch: QuantileSketch, values: np.ndarray) -> None:
    """Add values (the sketch sorts them: a sorted t-digest update is several times cheaper)."""
    sketch.update(values)
