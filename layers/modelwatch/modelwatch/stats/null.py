"""What each drift statistic looks like when nothing drifted, at the sizes of both samples.

Every distance is larger on small samples, so a fixed threshold cries wolf on small windows
and is blind on large ones. Here the null distribution of a statistic is simulated from the
reference profile itself: both the reference and the window are redrawn (the two-sample null:
the reference is a sample too) as multinomial counts over the reference's distribution.

- Numeric distances on bins (Jensen-Shannon, PSI) and categorical ones (and the two-sample
  chi-square): counts over the bins or categories at the pooled shares of both samples, as a
  permutation test would. Two independent multinomials have the variance of (current share -
  reference share) that the data have, whether bins are cut at the reference's own quantiles
  (continuous columns) or hold tied values; pooling keeps a category only the window has from
  being "impossible" under the null.
- Normed Wasserstein: both empirical CDFs redrawn at the reference's quantile edges (its own
  values when it has few), so ties, skew and heavy tails are the reference's own.

A sketched side (past SKETCH_K values) carries the sketch's rank error on top of sampling
noise; it is simulated as a sample of the smaller effective size 1 / (1/n + 1/SKETCH_SAMPLE_SIZE).

All of it is O(draws x atoms): milliseconds per feature, so it runs where the verdict is made;
Wasserstein nulls are cached per (reference, size bucket) for the process.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from modelwatch.sketches import SKETCH_RANK_ERROR
from modelwatch.stats.distributions import EMPTY_BIN_SHARE

NULL_DRAWS = 1000
WASSERSTEIN_DRAWS = 500
# The reference's distribution for the Wasserstein null: its CDF at this many quantile edges
# (plus every distinct value when it has fewer), enough for the integral of |F - G|.
WASSERSTEIN_EDGES = 512
# Both (effective) sizes at least this: the Brownian-bridge limit instead of multinomial draws.
# Checked against multinomial draws (normal, lognormal, rounded ages, a 30% point mass; sizes 200
# to 20,000 a side): means within 4%, spreads within 6% (one 9%, the bridge the wider), 99th
# percentiles within 10%, about the draws' own noise (tests/unit/test_drift_thresholds.py holds
# it), so a segment's slice of a few hundred rows takes the bridge too.
BRIDGE_MIN_SIZE = 200
# A sample whose rank noise equals the sketch's: the 99% rank error bound is 2.576 standard
# deviations, and a sample of size N has a rank standard deviation of at most 0.5 / sqrt(N).
SKETCH_SAMPLE_SIZE = int((0.5 * 2.576 / SKETCH_RANK_ERROR) ** 2)
# Window sizes are rounded down to this geometric grid (ten steps per decade): one null per
# bucket, and the threshold of the smaller size is the slightly more cautious one.
BUCKETS_PER_DECADE = 10


# Bridge draws kept per reference column (a drift run's windows and segment values reuse them).
BRIDGE_CACHE_SIZE = 1024
# More draws than the multinomial null: drawn once per reference, and a corrected p-value across
# many segments x features is read from the far tail their mean and variance fit.
BRIDGE_DRAWS = 2000
_BRIDGES: OrderedDict[tuple, np.ndarray] = OrderedDict()


def size_bucket(size: int) -> int:
    if size <= 10:
        return max(size, 1)
    step = np.floor(np.log10(size) * BUCKETS_PER_DECADE) / BUCKETS_PER_DECADE
    return int(np.floor(10**step + 1e-9))


def effective_size(size: int, sketched: bool) -> int:
    if not sketched:
        return size
    return max(1, round(1.0 / (1.0 / size + 1.0 / SKETCH_SAMPLE_SIZE)))


@dataclass(frozen=True)
class NullDistribution:
    """Sorted draws of a statistic under "no drift" at one pair of sample sizes."""

    draws: np.ndarray
    reference_size: int
    current_size: int

    def quantile(self, level: float) -> float:
        return float(np.quantile(self.draws, level, method="higher"))

    def p_value(self, statistic: float) -> float:
        """Monte Carlo p-value: the share of null draws at least as large (counting the observed
        one). Beyond every draw, the tail of a gamma distribution with the draws' mean and
        variance, capped at the Monte Carlo floor: 1,000 draws alone cannot give a p-value under
        0.001, which a correction across 50 features or more needs to flag anything."""
        larger = len(self.draws) - np.searchsorted(self.draws, statistic, side="left")
        p_value = (1 + larger) / (1 + len(self.draws))
        if larger or not np.isfinite(statistic):
            return float(p_value if np.isfinite(statistic) else 0.0)
        mean, variance = float(self.draws.mean()), float(self.draws.var())
        if mean <= 0 or variance <= 0:
            return 0.0  # a null that never moves: anything beyond it is certain
        tail = stats.gamma.sf(statistic, mean * mean / variance, scale=variance / mean)
        return float(min(p_value, tail))


def _seed(*parts: object) -> int:
    # Deterministic per question: a re-run over the same window gives the same verdict.
    return zlib.crc32(repr(parts).encode())


def _counts(rng: np.random.Generator, size: int, shares: np.ndarray, draws: int) -> np.ndarray:
    return rng.multinomial(size, shares / shares.sum(), size=draws).astype(np.float64)


def fill_empty_rows(shares: np.ndarray) -> np.ndarray:
    """`stats.distributions.fill_empty` on each row of a matrix of shares."""
    positive = np.where(shares > 0, shares, np.inf)
    smallest = positive.min(axis=1, keepdims=True)
    floor = np.where(smallest <= EMPTY_BIN_SHARE, smallest / 10**6, EMPTY_BIN_SHARE)
    return np.where(shares == 0, floor, shares)


def jensen_shannon_rows(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (natural log) between matching rows, as scipy computes it."""
    p = fill_empty_rows(reference)
    q = fill_empty_rows(current)
    p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
    middle = (p + q) / 2
    divergence = (np.sum(p * np.log(p / middle), axis=1) + np.sum(q * np.log(q / middle), axis=1)) / 2
    return np.sqrt(np.maximum(divergence, 0.0))


def psi_rows(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    p, q = fill_empty_rows(reference), fill_empty_rows(current)
    return np.sum((q - p) * np.log(q / p), axis=1)


ShareStatistic = Callable[[np.ndarray, np.ndarray], np.ndarray]


def null_of_shares(
    statistic: ShareStatistic, shares: np.ndarray, reference_size: int, current_size: int, key: tuple
) -> NullDistribution:
    """Null of a statistic of (reference shares, current shares) over fixed bins or categories."""
    rng = np.random.default_rng(_seed("shares", key, reference_size, current_size))
    reference = _counts(rng, reference_size, shares, NULL_DRAWS)
    current = _counts(rng, current_size, shares, NULL_DRAWS)
    values = statistic(reference / reference_size, current / current_size)
    return NullDistribution(np.sort(values), reference_size, current_size)


def contingency_chi_square_rows(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Pearson's chi-square of each 2 x K table (rows of reference and current counts)."""
    totals = reference + current
    n, m = reference.sum(axis=1, keepdims=True), current.sum(axis=1, keepdims=True)
    grand = n + m
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_reference, expected_current = totals * n / grand, totals * m / grand
        terms = np.where(totals > 0, (reference - expected_reference) ** 2 / expected_reference, 0.0) + np.where(
            totals > 0, (current - expected_current) ** 2 / expected_current, 0.0
        )
    return terms.sum(axis=1)


def null_of_contingency_chi_square(
    shares: np.ndarray, reference_size: int, current_size: int, key: tuple
) -> NullDistribution:
    """Null of the two-sample chi-square, both samples redrawn at the pooled shares: exact in
    spirit where the asymptotic chi-square is not (rare categories, small windows)."""
    rng = np.random.default_rng(_seed("chisquare", key, reference_size, current_size))
    reference = _counts(rng, reference_size, shares, NULL_DRAWS)
    current = _counts(rng, current_size, shares, NULL_DRAWS)
    return NullDistribution(np.sort(contingency_chi_square_rows(reference, current)), reference_size, current_size)


def null_of_normed_wasserstein(
    edges: np.ndarray, cumulative: np.ndarray, spread: float, reference_size: int, current_size: int, key: tuple
) -> NullDistribution:
    """Null of W1 / spread. W1 is the integral of |F_ref - F_cur| over x; both empirical CDFs are
    redrawn at the reference's quantile edges (`cumulative` = reference CDF there), and the
    integral is the sum over the gaps between edges.

    Small samples: multinomial counts between edges, exact at the edges. Larger ones: the
    empirical process is a Brownian bridge scaled by sqrt(1/n + 1/m), so one set of bridge draws
    per reference serves every size (and the cost does not grow with rows). `key` names the
    reference (not the sizes)."""
    gaps = np.diff(edges)
    shares = np.diff(np.concatenate(([0.0], cumulative)))
    shares = np.maximum(shares, 0.0)
    if min(reference_size, current_size) >= BRIDGE_MIN_SIZE:
        scale = np.sqrt(1.0 / reference_size + 1.0 / current_size)
        return NullDistribution(bridge_draws(edges, cumulative, spread, key) * scale, reference_size, current_size)
    rng = np.random.default_rng(_seed("wasserstein", key, reference_size, current_size))
    reference = np.cumsum(_counts(rng, reference_size, shares, WASSERSTEIN_DRAWS), axis=1) / reference_size
    current = np.cumsum(_counts(rng, current_size, shares, WASSERSTEIN_DRAWS), axis=1) / current_size
    values = np.abs(reference - current)[:, :-1] @ gaps / spread
    return NullDistribution(np.sort(values), reference_size, current_size)


def bridge_draws(edges: np.ndarray, cumulative: np.ndarray, spread: float, key: tuple) -> np.ndarray:
    """Sorted draws of the integral of |B(F(x))| dx / spread for a Brownian bridge B: the normed
    Wasserstein null at sqrt(1/n + 1/m) = 1. They depend on the reference alone (`key` names
    it), so they are drawn once per reference and process and scaled to every pair of sizes: a
    run's windows, and its segments' checks at each window, share them."""
    if key in _BRIDGES:
        _BRIDGES.move_to_end(key)
        return _BRIDGES[key]
    rng = np.random.default_rng(_seed("bridge", key))
    shares = np.maximum(np.diff(np.concatenate(([0.0], cumulative))), 0.0)
    walk = np.cumsum(rng.standard_normal((BRIDGE_DRAWS, len(shares))) * np.sqrt(shares), axis=1)
    bridge = walk - cumulative / cumulative[-1] * walk[:, -1:]
    draws = np.sort(np.abs(bridge)[:, :-1] @ np.diff(edges) / spread)
    _BRIDGES[key] = draws
    if len(_BRIDGES) > BRIDGE_CACHE_SIZE:
        _BRIDGES.popitem(last=False)
    return draws
