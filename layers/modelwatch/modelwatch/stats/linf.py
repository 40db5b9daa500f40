"""SageMaker Model Monitor's drift distance: Deequ's L-infinity distance, "Simple" and "Robust".

Numeric columns: the largest absolute gap between the two empirical CDFs, taken at every value
either side holds (the two-sample Kolmogorov-Smirnov statistic). Categorical columns: the
largest absolute gap between one category's shares. "Robust" subtracts the two-sample KS
allowance for the samples' sizes, max(0, L∞ − 1.8·√((n+m)/(n·m))): 1.8 is about the 0.3%
critical value of the KS distribution, so a stable window rarely keeps any distance at all.
"""

from __future__ import annotations

import math

import numpy as np

from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.spec.models import DriftMethod
from modelwatch.stats.results import StatisticResult

# Deequ's constant for the robust comparison (the KS test's c(alpha) near alpha = 0.003).
ROBUST_ALLOWANCE = 1.8


def robust_allowance(reference_size: int, current_size: int) -> float:
    """How much of an L∞ distance two samples of these sizes show by chance alone."""
    n, m = float(reference_size), float(current_size)
    return ROBUST_ALLOWANCE * math.sqrt((n + m) / (n * m))


def _result(method: DriftMethod, distance: float, reference_size: int, current_size: int) -> StatisticResult:
    if method is DriftMethod.LINF_ROBUST:
        allowance = robust_allowance(reference_size, current_size)
        note = f"L∞ {distance:.6g} less the robust allowance {allowance:.6g}"
        return StatisticResult(method, max(0.0, distance - allowance), None, note)
    return StatisticResult(method, distance)


def numeric_linf(
    method: DriftMethod, reference: NumericColumnProfile, current: NumericColumnProfile
) -> StatisticResult:
    """The largest gap between the two columns' CDFs (from their sketches: exact below 2,000
    distinct values, within the sketch's rank error above)."""
    points = np.union1d(reference.weighted_values()[0], current.weighted_values()[0])
    if not len(points):
        return _result(method, 0.0, max(reference.valid, 1), max(current.valid, 1))
    gaps = np.abs(reference.cdf(points) - current.cdf(points))
    return _result(method, float(gaps.max()), reference.valid, current.valid)


def categorical_linf(method: DriftMethod, reference: dict[str, int], current: dict[str, int]) -> StatisticResult:
    """The largest gap between one category's share of the reference and of the window."""
    reference_total, current_total = sum(reference.values()), sum(current.values())
    if not reference_total or not current_total:
        return _result(method, 0.0, max(reference_total, 1), max(current_total, 1))
    distance = max(
        abs(reference.get(key, 0) / reference_total - current.get(key, 0) / current_total)
        for key in set(reference) | set(current)
    )
    return _result(method, float(distance), reference_total, current_total)
