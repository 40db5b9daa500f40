"""Counting profiles into a segment's table (modelwatch.profiles.segment_table), and each
value's profile rebuilt from its row for its verdict.

The bins come from the baseline's whole profile (bins_of). A value's row holds, per numeric
column, its count, missing and type-error counts, the sum and sum of squares of its values about
the baseline's mean, their minimum and maximum, and per bin its rows and their sum; per
categorical column its count, missing count and a count per slot and for the rest; per score
histogram its rows and the sum of their grid points per bin. A rebuilt profile's moments,
extremes and counts are exact; its values stand at the bins' positions (NumericBins)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from modelwatch.profiles.categorical import OTHER, CategoricalColumnProfile
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.numeric import SMALL_DISTINCT_LIMIT, NumericColumnProfile
from modelwatch.profiles.segment_table import (
    CATEGORY_SLOTS,
    COUNT,
    MAX,
    MIN,
    MISSING,
    NUMERIC_CELLS,
    NUMERIC_RANKS,
    ROWS,
    SCORE_BINS,
    SCORE_EDGES,
    SQUARES,
    SUM,
    TYPE_ERRORS,
    NumericBins,
    SegmentBins,
    SegmentTable,
)
from modelwatch.score_histogram import ScoreHistogram
from modelwatch.sketches import new_sketch


def bins_of(whole: DatasetProfile, leave_out: Iterable[str] = ()) -> SegmentBins:
    """From a baseline's whole profile; `leave_out`: columns checked on the whole window
    only (sensitive features: a window holds pseudonyms of a hashed one, never its names)."""
    skip = set(leave_out)
    numeric: dict[str, NumericBins] = {}
    categorical: dict[str, tuple[str, ...]] = {}
    for name, column in whole.columns.items():
        if name in skip:
            continue
        if isinstance(column, NumericColumnProfile):
            numeric[name] = _numeric_bins(column)
        else:
            ranked = sorted((k for k in column.counts if k != OTHER), key=lambda k: (-column.counts[k], k))
            categorical[name] = tuple(ranked[:CATEGORY_SLOTS])
    return SegmentBins(numeric, categorical, tuple(sorted(whole.score_histograms)))


def _numeric_bins(column: NumericColumnProfile) -> NumericBins:
    center = column.mean if column.valid and math.isfinite(column.mean) else 0.0
    if not column.valid:
        return NumericBins((), (None,), center, False)
    exact = column.small_values is not None and len(column.small_values) <= SMALL_DISTINCT_LIMIT
    if exact:
        inner = np.array(sorted(column.small_values or {}), dtype=np.float64)
    else:
        inner = np.asarray(column.quantiles(np.array(NUMERIC_RANKS)), dtype=np.float64)
    low_guard = np.nextafter(column.minimum, -math.inf)
    edges = np.unique(np.concatenate(([low_guard], inner, [column.maximum])))
    values, weights = column.weighted_values()
    index = np.searchsorted(edges, values, side="left")
    size = len(edges) + 1
    counts = np.bincount(index, weights=weights, minlength=size)
    sums = np.bincount(index, weights=values * weights, minlength=size)
    positions: list[float | None] = [None]
    for i in range(1, size - 1):
        # The baseline's mean of the bin (its right edge should a sketch leave it empty).
        positions.append(float(sums[i] / counts[i]) if counts[i] > 0 else float(edges[i]))
    positions.append(None)
    return NumericBins(tuple(float(edge) for edge in edges), tuple(positions), center, exact)


def _fill_numeric(row: np.ndarray, start: int, bins: NumericBins, column: NumericColumnProfile) -> None:
    row[start + COUNT] += column.count
    row[start + MISSING] += column.missing
    row[start + TYPE_ERRORS] += column.type_errors
    if not column.valid:
        return
    shift = column.mean - bins.center
    row[start + SUM] += column.valid * shift
    row[start + SQUARES] += column.m2 + column.valid * shift * shift
    row[start + MIN] = min(row[start + MIN], column.minimum)
    row[start + MAX] = max(row[start + MAX], column.maximum)
    values, weights = column.weighted_values()
    index = np.searchsorted(np.asarray(bins.edges), values, side="left")
    size = len(bins.edges) + 1
    counts = start + NUMERIC_CELLS
    row[counts : counts + size] += np.bincount(index, weights=weights, minlength=size)
    row[counts + size : counts + 2 * size] += np.bincount(index, weights=values * weights, minlength=size)


def _fill_categorical(row: np.ndarray, start: int, slots: tuple[str, ...], column: CategoricalColumnProfile) -> None:
    row[start] += column.count
    row[start + 1] += column.missing
    named = 0
    for position, slot in enumerate(slots):
        n = column.counts.get(slot, 0)
        row[start + 2 + position] += n
        named += n
    row[start + 2 + len(slots)] += column.valid - named


def _fill_histogram(row: np.ndarray, start: int, histogram: ScoreHistogram) -> None:
    index = np.searchsorted(SCORE_EDGES, histogram.indices, side="left")
    counts = histogram.counts.astype(np.float64)
    row[start : start + SCORE_BINS] += np.bincount(index, weights=counts, minlength=SCORE_BINS)
    row[start + SCORE_BINS : start + 2 * SCORE_BINS] += np.bincount(
        index, weights=counts * histogram.indices, minlength=SCORE_BINS
    )


def _columns_held(
    profile: DatasetProfile, starts: Mapping[str, int], kind: type, kind_name: str
) -> Iterator[tuple[str, int, Any]]:
    """The profile's columns among `starts` (a layout's), each with its first cell; a column of
    another kind than the baseline's is refused."""
    for name, start in starts.items():
        column = profile.columns.get(name)
        if column is None:
            continue
        if not isinstance(column, kind):
            raise ValueError(f"column '{name}' is {kind_name} in the baseline but not in a segment")
        yield name, start, column


def binned_row(bins: SegmentBins, profile: DatasetProfile) -> np.ndarray:
    """One value's row: its profile counted over `bins` (columns `bins` lacks are left out)."""
    layout = bins.layout
    row = layout.empty(1)[0]
    row[ROWS] = profile.rows
    for name, start, column in _columns_held(profile, layout.numeric, NumericColumnProfile, "numeric"):
        _fill_numeric(row, start, bins.numeric[name], column)
    for name, start, column in _columns_held(profile, layout.categorical, CategoricalColumnProfile, "categorical"):
        _fill_categorical(row, start, bins.categorical[name], column)
    for name, start in layout.histograms.items():
        histogram = profile.score_histograms.get(name)
        if histogram is not None and len(histogram.indices):
            _fill_histogram(row, start, histogram)
    return row


def _count(cell: float) -> int:
    """A cell's count: whole (a sketch's centroid weights summed into a bin need not be)."""
    return int(np.rint(cell))


def _numeric_column(row: np.ndarray, start: int, bins: NumericBins) -> NumericColumnProfile:
    count, missing, type_errors = (_count(row[start + cell]) for cell in (COUNT, MISSING, TYPE_ERRORS))
    column = NumericColumnProfile(count=count, missing=missing, type_errors=type_errors, small_values=None)
    valid = column.valid
    if valid <= 0:
        column.small_values = {}
        return column
    shift = row[start + SUM] / valid
    column.mean = bins.center + shift
    column.m2 = max(0.0, row[start + SQUARES] - valid * shift * shift)
    column.minimum, column.maximum = float(row[start + MIN]), float(row[start + MAX])
    size = len(bins.edges) + 1
    counts = row[start + NUMERIC_CELLS : start + NUMERIC_CELLS + size]
    sums = row[start + NUMERIC_CELLS + size : start + NUMERIC_CELLS + 2 * size]
    held = counts > 0
    # A bin's values stand at the baseline's position for it; a guard's at their own mean,
    # inside the bin (clipped: sums of many values round).
    means = sums[held] / counts[held]
    lows = np.concatenate(([column.minimum], bins.edges))[held]
    highs = np.concatenate((bins.edges, [column.maximum]))[held]
    means = np.clip(means, np.minimum(lows, highs), highs)
    fixed = np.array([math.nan if p is None else p for p in bins.positions])[held]
    means = np.where(np.isnan(fixed), means, fixed)
    whole = np.rint(counts[held]).astype(np.int64)
    column.sketch = new_sketch()
    column.sketch.update_weighted(means, whole)
    if bins.exact:
        column.small_values = _exact_values(bins, counts, sums)
    return column


def _exact_values(bins: NumericBins, counts: np.ndarray, sums: np.ndarray) -> dict[float, int] | None:
    """A column binned one value per bin gives back its value counts, when every row held one of
    the baseline's values (each inner bin's mean is then its right edge exactly, and the guards
    are empty); None when any did not."""
    values = np.asarray(bins.edges[1:])  # the inner bins' right edges: the baseline's values
    inner_counts, inner_sums = counts[1:-1], sums[1:-1]
    if counts[0] > 0 or counts[-1] > 0:
        return None
    held = inner_counts > 0
    if not np.allclose(inner_sums[held], inner_counts[held] * values[held], rtol=1e-12, atol=1e-9):
        return None
    return {float(value): _count(n) for value, n in zip(values[held], inner_counts[held], strict=True)}


def _categorical_column(row: np.ndarray, start: int, slots: tuple[str, ...]) -> CategoricalColumnProfile:
    counts = {slot: _count(row[start + 2 + i]) for i, slot in enumerate(slots) if row[start + 2 + i] > 0}
    rest = _count(row[start + 2 + len(slots)])
    if rest > 0:
        counts[OTHER] = rest
    return CategoricalColumnProfile(count=_count(row[start]), missing=_count(row[start + 1]), counts=counts)


def _histogram(row: np.ndarray, start: int) -> ScoreHistogram:
    counts = row[start : start + SCORE_BINS]
    held = counts > 0
    indices = np.rint(row[start + SCORE_BINS : start + 2 * SCORE_BINS][held] / counts[held]).astype(np.int64)
    return ScoreHistogram(indices, np.rint(counts[held]).astype(np.int64))


def table_of(bins: SegmentBins, profiles: Mapping[str, DatasetProfile]) -> SegmentTable:
    """Each value's full profile counted into its row."""
    keys = list(profiles)
    counts = bins.layout.empty(len(keys))
    for position, key in enumerate(keys):
        counts[position] = binned_row(bins, profiles[key])
    performance = {key: p.performance for key, p in profiles.items() if p.performance is not None}
    return SegmentTable(bins, keys, counts, performance)


def repeated_table(bins: SegmentBins, keys: list[str], profile: DatasetProfile) -> SegmentTable:
    """Every one of `keys` given the same profile (the whole baseline, for values it holds no
    slices of)."""
    row = binned_row(bins, profile)
    performance = {} if profile.performance is None else dict.fromkeys(keys, profile.performance)
    return SegmentTable(bins, list(keys), np.repeat(row[None, :], len(keys), axis=0), performance)


def value_profile(table: SegmentTable, key: str) -> DatasetProfile:
    """The value's profile rebuilt from its row."""
    row, bins = table.counts[table.keys.index(key)], table.bins
    layout = bins.layout
    columns: dict[str, NumericColumnProfile | CategoricalColumnProfile] = {}
    for name, start in layout.numeric.items():
        if row[start + COUNT] > 0:
            columns[name] = _numeric_column(row, start, bins.numeric[name])
    for name, start in layout.categorical.items():
        if row[start] > 0:
            columns[name] = _categorical_column(row, start, bins.categorical[name])
    histograms = {
        name: _histogram(row, start)
        for name, start in layout.histograms.items()
        if row[start : start + SCORE_BINS].any()
    }
    return DatasetProfile(
        rows=_count(row[ROWS]),
        columns=columns,
        performance=table.performance.get(key),
        score_histograms=histograms,
    )
