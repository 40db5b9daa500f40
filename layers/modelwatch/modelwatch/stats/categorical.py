"""Categorical drift statistics computed on category counts."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from modelwatch.spec.models import DriftMethod
from modelwatch.stats.distributions import category_shares
from modelwatch.stats.null import contingency_chi_square_rows
from modelwatch.stats.numeric import jensen_shannon_distance, population_stability_index
from modelwatch.stats.results import StatisticResult


def chi_square(reference: dict[str, int], current: dict[str, int]) -> StatisticResult:
    """Goodness of fit of the current counts to the reference shares (Evidently's chi-square test)."""
    keys = sorted(set(reference) | set(current))
    observed = np.array([current.get(k, 0) for k in keys], dtype=np.float64)
    ref = np.array([reference.get(k, 0) for k in keys], dtype=np.float64)
    expected = ref * observed.sum() / ref.sum()
    if np.any((expected == 0) & (observed > 0)):
        # A category the reference never had: the fit is impossible, drift is certain.
        return StatisticResult(DriftMethod.CHI_SQUARE, math.inf, 0.0)
    keep = expected > 0
    if keep.sum() < 2:
        return StatisticResult(DriftMethod.CHI_SQUARE, 0.0, 1.0)
    result = stats.chisquare(observed[keep], expected[keep])
    return StatisticResult(DriftMethod.CHI_SQUARE, float(result.statistic), float(result.pvalue))


def two_sample_chi_square(reference: dict[str, int], current: dict[str, int]) -> StatisticResult:
    """Pearson's chi-square of the 2 x K table of reference and current counts (no p-value: the
    size-aware rule takes it from a simulated null, valid for rare categories)."""
    keys = sorted(set(reference) | set(current))
    table = np.array([[reference.get(k, 0) for k in keys], [current.get(k, 0) for k in keys]], dtype=np.float64)
    return StatisticResult(DriftMethod.CHI_SQUARE, float(contingency_chi_square_rows(table[:1], table[1:])[0]))


def proportion_z_test(reference: dict[str, int], current: dict[str, int]) -> StatisticResult:
    """Two-proportion Z-test on the share of one category (the first by name) of a binary column."""
    keys = sorted(set(reference) | set(current))
    if len(keys) > 2:
        raise ValueError(f"the Z-test needs a binary column, this one has {len(keys)} values")
    category = keys[0]
    n_ref, n_cur = sum(reference.values()), sum(current.values())
    p_ref, p_cur = reference.get(category, 0) / n_ref, current.get(category, 0) / n_cur
    pooled = (p_ref * n_ref + p_cur * n_cur) / (n_ref + n_cur)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    if spread == 0:
        return StatisticResult(DriftMethod.Z_TEST, 0.0, 1.0)
    z = (p_ref - p_cur) / spread
    return StatisticResult(DriftMethod.Z_TEST, float(z), float(2 * stats.norm.sf(abs(z))))


def categorical_jensen_shannon(reference: dict[str, int], current: dict[str, int]) -> StatisticResult:
    pair = category_shares(reference, current)
    return StatisticResult(DriftMethod.JENSEN_SHANNON, jensen_shannon_distance(pair.reference, pair.current))


def categorical_psi(reference: dict[str, int], current: dict[str, int]) -> StatisticResult:
    pair = category_shares(reference, current)
    return StatisticResult(DriftMethod.PSI, population_stability_index(pair.reference, pair.current))


def total_variation(reference: dict[str, int], current: dict[str, int]) -> float:
    """Half the L1 distance between the category shares: the share of rows that would have to
    change category for one distribution to become the other (the effect size of the
    categorical tests)."""
    keys = sorted(set(reference) | set(current))
    ref = np.array([reference.get(k, 0) for k in keys], dtype=np.float64)
    cur = np.array([current.get(k, 0) for k in keys], dtype=np.float64)
    if not ref.sum() or not cur.sum():
        return math.nan
    return float(0.5 * np.abs(ref / ref.sum() - cur / cur.sum()).sum())
