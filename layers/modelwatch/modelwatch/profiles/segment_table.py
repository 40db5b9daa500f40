"""A segment's profiles as one table: a row per segment value, a fixed column per count.

Why not a full profile per value: a window merges about a hundred partial profiles, and with 50
segment values each holding its own sketches, reading and merging 5,000 small profiles cost
ten to twenty times the whole window's run (issue 26's benchmark). Here every value is a row of
counts over bins the baseline fixes (SegmentBins: for a numeric column, 20 bins between its
quantiles, or one per value when it has few; for a categorical one, its most frequent
categories and the rest; for a score histogram, 40 bins in log-odds), so a profile's segment is
one array, merging is a sum (a minimum and a maximum for the extremes) and the cost is flat in
traffic. Each value's profile is rebuilt from its row when it is judged (SegmentTable.profile):
a bin's values stand at their mean, which is where the drift methods read them.

Both sides of a verdict are binned the same way, so a segment's drift compares like with like:
the baseline's slices are binned from their profiles at the end of the baseline's pass, and a
window's rows are binned as they are profiled, on the bins taken from that baseline."""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from modelwatch.performance import PerformanceCounts, performance_from_dict
from modelwatch.score_histogram import LOGIT_STEP

# The reference quantiles a numeric column's bins lie between: every 5%, where a 0.5 sigma shift
# in a normal feature moves the CDF by 0.20 at the median's edge; and finer in the tails (down to
# 0.1% a side), which a heavy-tailed feature's spread lives in: the normed Wasserstein null is
# drawn over the reference's bins, and with 5% tail bins (a Student t with 3 degrees of freedom
# stood at +-3.9 where its slice reached +-30) it came out a quarter too narrow, and stable
# windows of such a feature flagged a segment in 13 of 100.
NUMERIC_RANKS = (0.001, 0.002, 0.005, 0.01, 0.02, *(i / 20 for i in range(1, 20)), 0.98, 0.99, 0.995, 0.998, 0.999)
# Written in every stored table: a profile holding tables of another format reads without them.
TABLE_FORMAT = 1
# A categorical column's most frequent categories, each its own count; the rest share one.
CATEGORY_SLOTS = 50
# A score histogram's bins: equal steps in log-odds from -10 to 10 (p from 4.5e-5 to 1 - 4.5e-5),
# beyond which the two end bins hold the rest; each bin's rows stand at their mean grid point.
SCORE_BINS = 40
SCORE_EDGES = np.rint(np.linspace(-10.0, 10.0, SCORE_BINS - 1) / LOGIT_STEP).astype(np.int64)

# A numeric column's fixed cells, before its bins' counts and sums.
COUNT, MISSING, TYPE_ERRORS, SUM, SQUARES, MIN, MAX = range(7)
NUMERIC_CELLS = 7
ROWS = 0  # the table's first column: each value's rows


@dataclass(frozen=True)
class NumericBins:
    """Bin i holds (edges[i - 1], edges[i]]; the first holds everything up to edges[0], the last
    everything above edges[-1]. The first and last are guards: edges[0] is just below the
    baseline's minimum and edges[-1] its maximum, so they hold only values the baseline never
    reached (what the quality check counts out of range) and each side places them at its own
    mean. Every bin between stands at `positions`, the baseline's own mean of the bin, on both
    sides of a comparison: the two step CDFs then jump at the same points, and a rank statistic
    (KS) reads the difference of the bins' shares, never a gap between two sides' bin means."""

    edges: tuple[float, ...]
    positions: tuple[float | None, ...]  # one per bin; None: the side's own mean (the guards)
    center: float  # the baseline's mean: sums of squares are kept about it, so they stay precise
    exact: bool  # one bin per value the baseline held (at most SMALL_DISTINCT_LIMIT of them)

    @property
    def width(self) -> int:
        return NUMERIC_CELLS + 2 * (len(self.edges) + 1)


@dataclass(frozen=True)
class SegmentBins:
    """The cells every value's row holds, fixed by the baseline's whole profile."""

    numeric: Mapping[str, NumericBins]
    categorical: Mapping[str, tuple[str, ...]]
    histograms: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": {
                name: {
                    "edges": list(bins.edges),
                    "positions": list(bins.positions),
                    "center": bins.center,
                    "exact": bins.exact,
                }
                for name, bins in self.numeric.items()
            },
            "categorical": {name: list(slots) for name, slots in self.categorical.items()},
            "histograms": list(self.histograms),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentBins:
        return cls(
            {
                str(name): NumericBins(
                    tuple(map(float, bins["edges"])),
                    tuple(None if p is None else float(p) for p in bins["positions"]),
                    float(bins["center"]),
                    bool(bins["exact"]),
                )
                for name, bins in data["numeric"].items()
            },
            {str(name): tuple(map(str, slots)) for name, slots in data["categorical"].items()},
            tuple(map(str, data["histograms"])),
        )

    @cached_property
    def key(self) -> str:
        """Equal for equal bins: tables merge only on the same bins."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @cached_property
    def layout(self) -> _Layout:
        return _Layout(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SegmentBins) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


class _Layout:
    """Where each column's cells start in a row, and which cells merge by min or max."""

    def __init__(self, bins: SegmentBins) -> None:
        offset = 1  # ROWS
        self.numeric: dict[str, int] = {}
        for name, numeric in bins.numeric.items():
            self.numeric[name] = offset
            offset += numeric.width
        self.categorical: dict[str, int] = {}
        for name, slots in bins.categorical.items():
            self.categorical[name] = offset
            offset += 2 + len(slots) + 1  # count, missing, each slot, the rest
        self.histograms: dict[str, int] = {}
        for name in bins.histograms:
            self.histograms[name] = offset
            offset += 2 * SCORE_BINS  # each bin's rows, then the sum of their grid points
        self.width = offset
        self.minimum = np.array([start + MIN for start in self.numeric.values()], dtype=np.int64)
        self.maximum = np.array([start + MAX for start in self.numeric.values()], dtype=np.int64)
        summed = np.ones(self.width, dtype=bool)
        summed[self.minimum] = False
        summed[self.maximum] = False
        self.summed = np.flatnonzero(summed)

    def empty(self, rows: int) -> np.ndarray:
        """Rows holding nothing: zero counts, and extremes that any value replaces."""
        table = np.zeros((rows, self.width))
        table[:, self.minimum] = math.inf
        table[:, self.maximum] = -math.inf
        return table


def _merge_rows(total: np.ndarray, part: np.ndarray, layout: _Layout) -> None:
    """`part`'s rows into `total`'s (the same values, in the same order)."""
    total[:, layout.summed] += part[:, layout.summed]
    total[:, layout.minimum] = np.minimum(total[:, layout.minimum], part[:, layout.minimum])
    total[:, layout.maximum] = np.maximum(total[:, layout.maximum], part[:, layout.maximum])


@dataclass
class SegmentTable:
    """One segment's values (encoded keys, modelwatch.profiles.segment_values) and their rows.
    `performance`: a value's labelled rows' counts, when it has any (a labelled file read by
    `modelwatch drift`; the capture path profiles no labels), kept whole beside the table."""

    bins: SegmentBins
    keys: list[str]
    counts: np.ndarray
    performance: dict[str, PerformanceCounts] = field(default_factory=dict)

    def rows_by_key(self) -> dict[str, int]:
        return {key: int(n) for key, n in zip(self.keys, np.rint(self.counts[:, ROWS]), strict=True)}

    def rows_of(self, key: str) -> int:
        return int(np.rint(self.counts[self.keys.index(key), ROWS]))

    def select(self, keys: list[str]) -> SegmentTable:
        """These values' rows, in this order."""
        rows = [self.keys.index(key) for key in keys]
        performance = {key: self.performance[key] for key in keys if key in self.performance}
        return SegmentTable(self.bins, list(keys), self.counts[rows], performance)

    def regrouped(self, new_keys: list[str]) -> SegmentTable:
        """Rows merged by `new_keys` (one per row, e.g. a value the baseline did not keep as
        "other"), in the order the new keys first appear."""
        order = list(dict.fromkeys(new_keys))
        index = {key: position for position, key in enumerate(order)}
        layout = self.bins.layout
        counts = layout.empty(len(order))
        target = np.array([index[key] for key in new_keys], dtype=np.int64)
        np.add.at(counts, (target[:, None], layout.summed[None, :]), self.counts[:, layout.summed])
        np.minimum.at(counts, (target[:, None], layout.minimum[None, :]), self.counts[:, layout.minimum])
        np.maximum.at(counts, (target[:, None], layout.maximum[None, :]), self.counts[:, layout.maximum])
        performance: dict[str, PerformanceCounts] = {}
        for key, new in zip(self.keys, new_keys, strict=True):
            if key in self.performance:
                held = performance.get(new)
                performance[new] = self.performance[key] if held is None else held.merged(self.performance[key])
        return SegmentTable(self.bins, order, counts, performance)

    def merged(self, *others: SegmentTable) -> SegmentTable:
        """All rows of self and others, value by value. Tables on other bins (profiled against
        another baseline: a window spanning a new baseline) cannot be summed with these; the bins
        holding the most rows are kept, and the whole window still counts the others' rows."""
        tables = [self, *others]
        by_bins: dict[str, list[SegmentTable]] = {}
        for table in tables:
            by_bins.setdefault(table.bins.key, []).append(table)
        group = max(by_bins.values(), key=lambda held: sum(float(t.counts[:, ROWS].sum()) for t in held))
        first = group[0]
        if all(table.keys == first.keys for table in group):
            counts = first.counts.copy()
            for table in group[1:]:
                _merge_rows(counts, table.counts, first.bins.layout)
            keys = list(first.keys)
        else:
            keys = list(dict.fromkeys(key for table in group for key in table.keys))
            stacked = SegmentTable(
                first.bins,
                [key for table in group for key in table.keys],
                np.concatenate([table.counts for table in group]),
            )
            counts = stacked.regrouped(stacked.keys).counts
        performance: dict[str, PerformanceCounts] = {}
        for table in group:
            for key, counted in table.performance.items():
                held = performance.get(key)
                performance[key] = counted if held is None else held.merged(counted)
        return SegmentTable(first.bins, keys, counts, performance)

    def to_dict(self) -> dict[str, Any]:
        payload = zlib.compress(np.ascontiguousarray(self.counts, dtype="<f8").tobytes(), 6)
        return {
            "table_format": TABLE_FORMAT,
            "bins": self.bins.to_dict(),
            "keys": list(self.keys),
            "counts": base64.b64encode(payload).decode("ascii"),
        } | ({"performance": {key: p.to_dict() for key, p in self.performance.items()}} if self.performance else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentTable:
        """A stored table (DatasetProfile.from_dict reads only those of TABLE_FORMAT)."""
        bins = _bins_of(data["bins"])
        keys = [str(key) for key in data["keys"]]
        flat = np.frombuffer(zlib.decompress(base64.b64decode(data["counts"])), dtype="<f8")
        counts = flat.reshape(len(keys), bins.layout.width).astype(np.float64)
        performance = {str(k): performance_from_dict(v) for k, v in (data.get("performance") or {}).items()}
        return cls(bins, keys, counts, performance)


_BINS_SEEN: dict[str, SegmentBins] = {}


def _bins_of(data: dict[str, Any]) -> SegmentBins:
    """Every profile of a window carries the same bins: read them once per process."""
    text = json.dumps(data, sort_keys=True)
    bins = _BINS_SEEN.get(text)
    if bins is None:
        if len(_BINS_SEEN) > 64:  # a long-lived process sees few baselines; never grow unbounded
            _BINS_SEEN.clear()
        bins = _BINS_SEEN[text] = SegmentBins.from_dict(data)
    return bins
