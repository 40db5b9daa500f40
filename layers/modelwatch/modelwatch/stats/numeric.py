"""Numeric drift statistics computed on profiles.

While both sketches are exact (at most SKETCH_K distinct values each) their values are the
data, and scipy computes on them directly. Beyond that the sketches' ranks stand in for the
data: the KS statistic is then within about twice the sketch's rank error of the exact one.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.spatial import distance

from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.sketches import SKETCH_RANK_ERROR
from modelwatch.spec.models import DriftMethod
from modelwatch.stats.distributions import fill_empty, numeric_bins
from modelwatch.stats.results import StatisticResult

CONSTANT_SPREAD = 1e-9


def _expanded(profile: NumericColumnProfile) -> np.ndarray:
    values, weights = profile.weighted_values()
    return np.repeat(values, weights.astype(np.int64))


# Up to this many values a side, scipy's ks_2samp computes the exact p-value (its MAX_AUTO_N).
EXACT_KS_MAX_ROWS = 10_000


def _step_cdf(values: np.ndarray, weights: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The share of values at or below each point, from sorted values and their counts."""
    cumulative = np.concatenate(([0.0], np.cumsum(weights)))
    return cumulative[np.searchsorted(values, points, side="right")] / cumulative[-1]


def kolmogorov_smirnov(reference: NumericColumnProfile, current: NumericColumnProfile) -> StatisticResult:
    if reference.is_exact and current.is_exact:
        (ref_values, ref_weights), (cur_values, cur_weights) = reference.weighted_values(), current.weighted_values()
        n, m = int(ref_weights.sum()), int(cur_weights.sum())
        if max(n, m) <= EXACT_KS_MAX_ROWS:
            result = stats.ks_2samp(_expanded(reference), _expanded(current))
            return StatisticResult(DriftMethod.KS, float(result.statistic), float(result.pvalue))
        # Larger: the statistic scipy computes on the values repeated by their counts, from the
        # counts themselves (a segment value's window may hold millions of rows of a few
        # hundred values), and scipy's asymptotic p-value, which it takes at these sizes too.
        points = np.union1d(ref_values, cur_values)
        gap = _step_cdf(ref_values, ref_weights, points) - _step_cdf(cur_values, cur_weights, points)
        statistic = float(np.max(np.abs(gap)))
        p_value = float(stats.kstwo.sf(statistic, np.round(n * m / (n + m))))
        return StatisticResult(DriftMethod.KS, statistic, min(max(p_value, 0.0), 1.0))
    # Both CDFs at every value either side holds (the sketches' own ranks, which interpolate
    # inside a digest's centroids, not the step CDF of its centroids).
    points = np.union1d(reference.weighted_values()[0], current.weighted_values()[0])
    ref_cdf, cur_cdf = reference.cdf(points), current.cdf(points)
    statistic = float(np.max(np.abs(ref_cdf - cur_cdf)))
    n, m = reference.valid, current.valid
    # Each sketched side moves the statistic by at most its rank error (99% confidence), so the
    # p-value is taken at the smallest statistic the exact data allow: it may be too large,
    # never too small. Without this, 2M against 2M stable rows gave p < 0.05 in 6 of 8 runs.
    error = SKETCH_RANK_ERROR * ((not reference.is_exact) + (not current.is_exact))
    # scipy's asymptotic two-sample p-value (ks_2samp method="asymp").
    p_value = float(stats.kstwo.sf(max(statistic - error, 0.0), np.round(n * m / (n + m))))
    note = f"p-value at the statistic less the sketches' rank error bound ({error:.5f})"
    return StatisticResult(DriftMethod.KS, statistic, min(max(p_value, 0.0), 1.0), note)


def normed_wasserstein(reference: NumericColumnProfile, current: NumericColumnProfile) -> StatisticResult:
    """Wasserstein-1 distance divided by the reference's standard deviation (Evidently's measure)."""
    ref_values, ref_weights = reference.weighted_values()
    cur_values, cur_weights = current.weighted_values()
    raw = float(stats.wasserstein_distance(ref_values, cur_values, ref_weights, cur_weights))
    spread = reference.std
    # A constant reference (up to rounding) has no spread to normalise by.
    if spread > CONSTANT_SPREAD * max(1.0, abs(reference.mean)):
        return StatisticResult(DriftMethod.WASSERSTEIN, raw / spread)
    return StatisticResult(DriftMethod.WASSERSTEIN, 0.0 if raw == 0 else math.inf)


def population_stability_index(reference: np.ndarray, current: np.ndarray) -> float:
    ref, cur = fill_empty(reference), fill_empty(current)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def jensen_shannon_distance(reference: np.ndarray, current: np.ndarray) -> float:
    return float(distance.jensenshannon(fill_empty(reference), fill_empty(current)))


def numeric_psi(reference: NumericColumnProfile, current: NumericColumnProfile, bins: int) -> StatisticResult:
    pair = numeric_bins(reference, current, bins)
    return StatisticResult(DriftMethod.PSI, population_stability_index(pair.reference, pair.current))


def numeric_jensen_shannon(
    reference: NumericColumnProfile, current: NumericColumnProfile, bins: int
) -> StatisticResult:
    pair = numeric_bins(reference, current, bins)
    return StatisticResult(DriftMethod.JENSEN_SHANNON, jensen_shannon_distance(pair.reference, pair.current))
