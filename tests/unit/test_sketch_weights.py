"""Merged sketches past their exact range: weights that sum to n, and distances that match the exact ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modelwatch.profiles import SKETCH_RANK_ERROR, NumericColumnProfile
from modelwatch.sketches import sorted_weighted
from modelwatch.stats.numeric import kolmogorov_smirnov, normed_wasserstein


def _merged_chunks(rng: np.random.Generator, chunks: int, size: int) -> tuple[NumericColumnProfile, np.ndarray]:
    parts = [rng.lognormal(size=size) for _ in range(chunks)]
    profiles = [NumericColumnProfile.from_values(part, 0, 0) for part in parts]
    return profiles[0].merged(*profiles[1:]), np.concatenate(parts)


@pytest.mark.parametrize("chunks", [2, 3, 5])
def test_weights_of_a_merged_sketch_in_estimation_mode_sum_to_n(chunks: int) -> None:
    merged, values = _merged_chunks(np.random.default_rng(chunks), chunks, 30_000)
    assert not merged.is_exact
    retained, weights = sorted_weighted(merged.sketch)
    assert weights.sum() == len(values)
    assert np.all(np.diff(retained) > 0)
    # The sketch's ranks are within its error of the data's; the weighted values (a digest's
    # centroids) within one centroid's weight of them.
    probe = np.quantile(values, [0.1, 0.5, 0.9])
    exact = np.array([np.mean(values <= p) for p in probe])
    assert np.abs(merged.cdf(probe) - exact).max() <= SKETCH_RANK_ERROR
    from_weights = np.array([weights[retained <= p].sum() / weights.sum() for p in probe])
    assert np.abs(from_weights - exact).max() <= weights.max() / weights.sum() + SKETCH_RANK_ERROR


@pytest.mark.parametrize("chunks", [3, 4, 10])
def test_distances_from_merged_sketches_match_the_exact_ones(chunks: int) -> None:
    # 90,000 values merged from `chunks` pieces, as `modelwatch profile` builds a baseline.
    rng = np.random.default_rng(7)
    reference, reference_values = _merged_chunks(rng, chunks, 90_000 // chunks)
    current, current_values = _merged_chunks(rng, 1, 20_000)
    exact_wasserstein = stats.wasserstein_distance(reference_values, current_values) / reference_values.std()
    assert normed_wasserstein(reference, current).statistic == pytest.approx(exact_wasserstein, abs=0.01)
    exact_ks = stats.ks_2samp(reference_values, current_values).statistic
    assert abs(kolmogorov_smirnov(reference, current).statistic - exact_ks) <= 2 * SKETCH_RANK_ERROR
