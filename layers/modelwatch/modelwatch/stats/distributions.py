"""Discrete distributions drawn from profiles: bins for numeric columns, counts for categorical.

Both windows are cut at the same edges (reference quantiles), so PSI and Jensen-Shannon compare
like with like, and the report draws the same bars.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from modelwatch.labels import label_of
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.numeric import NumericColumnProfile

# Evidently's rule for empty bins, so PSI and Jensen-Shannon stay finite and familiar.
EMPTY_BIN_SHARE = 0.0001


@dataclass(frozen=True)
class BinnedPair:
    """Reference and current shares over the same bins (labels name the bins)."""

    labels: list[str]
    reference: np.ndarray
    current: np.ndarray
    # Short names for chart axes (numeric bins by their upper edge); None: use `labels`.
    ticks: list[str] | None = None


def compact_number(value: float) -> str:
    """25000 -> '25k', 0.00012 -> '0.00012', 3.14159 -> '3.14'."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def reference_edges(reference: NumericColumnProfile, bins: int) -> np.ndarray:
    """Interior edges at the reference's quantiles; bins are (-inf, e1], (e1, e2], ..., (ek, inf)."""
    ranks = np.linspace(0, 1, bins + 1)[1:-1]
    return np.unique(reference.quantiles(ranks))


def shares_in_bins(profile: NumericColumnProfile, edges: np.ndarray) -> np.ndarray:
    cumulative = np.concatenate([[0.0], profile.cdf(edges), [1.0]])
    return np.diff(cumulative)


def numeric_bins(reference: NumericColumnProfile, current: NumericColumnProfile, bins: int) -> BinnedPair:
    edges = reference_edges(reference, bins)
    bounds = [-np.inf, *edges.tolist(), np.inf]
    labels = [f"({lo:.6g}, {hi:.6g}]" for lo, hi in itertools.pairwise(bounds)]
    ticks = [f"≤{compact_number(hi)}" for hi in edges.tolist()] + [
        f">{compact_number(edges[-1])}" if len(edges) else "all"
    ]
    return BinnedPair(labels, shares_in_bins(reference, edges), shares_in_bins(current, edges), ticks)


def counts_of(profile: NumericColumnProfile | CategoricalColumnProfile) -> dict[str, int]:
    """Category counts; a numeric column with few values counts each value as a category."""
    if isinstance(profile, CategoricalColumnProfile):
        return profile.counts
    if profile.small_values is not None:
        return {label_of(value): n for value, n in profile.small_values.items()}
    # Many values (a window that grew values the few-valued reference lacks): the sketch's
    # retained values and weights, exact below SKETCH_K values.
    counts: dict[str, int] = {}
    values, weights = profile.weighted_values()
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        counts[label_of(value)] = counts.get(label_of(value), 0) + int(weight)
    return counts


def category_shares(reference: dict[str, int], current: dict[str, int]) -> BinnedPair:
    keys = sorted(set(reference) | set(current))
    ref = np.array([reference.get(k, 0) for k in keys], dtype=np.float64)
    cur = np.array([current.get(k, 0) for k in keys], dtype=np.float64)
    return BinnedPair(keys, ref / max(ref.sum(), 1.0), cur / max(cur.sum(), 1.0))


def fill_empty(shares: np.ndarray) -> np.ndarray:
    """Replace zero shares by a small positive share, as Evidently does before PSI and JS."""
    nonzero = shares[shares > 0]
    if not len(nonzero) or len(nonzero) == len(shares):
        return shares
    floor = nonzero.min() / 10**6 if nonzero.min() <= EMPTY_BIN_SHARE else EMPTY_BIN_SHARE
    return np.where(shares == 0, floor, shares)
