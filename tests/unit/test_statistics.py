"""Every drift statistic against scipy's exact computation on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from scipy.spatial import distance

from modelwatch.profiles import SKETCH_RANK_ERROR
from modelwatch.spec import DriftMethod
from modelwatch.stats import categorical, numeric
from modelwatch.stats.correction import adjust_p_values
from modelwatch.stats.distributions import fill_empty, numeric_bins, reference_edges
from tests.conftest import numeric_profile

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = arrays(np.float64, st.integers(min_value=2, max_value=400), elements=finite)
category_counts = st.dictionaries(
    st.sampled_from(list("abcdefgh")), st.integers(min_value=1, max_value=5000), min_size=2, max_size=8
)


@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_ks_equals_scipy_exact(reference, current):
    result = numeric.kolmogorov_smirnov(numeric_profile(reference), numeric_profile(current))
    expected = stats.ks_2samp(reference, current)
    assert result.method is DriftMethod.KS
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_normed_wasserstein_equals_scipy(reference, current):
    spread = np.std(reference)
    result = numeric.normed_wasserstein(numeric_profile(reference), numeric_profile(current))
    raw = stats.wasserstein_distance(reference, current)
    if spread > 1e-9 * max(1.0, abs(np.mean(reference))) * 10:
        assert result.statistic == pytest.approx(raw / spread, rel=1e-7, abs=1e-9)
    elif spread < 1e-9 * max(1.0, abs(np.mean(reference))) / 10:
        assert result.statistic in (0.0, np.inf)


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Shares in (-inf, e1], (e1, e2], ..., (ek, inf), counted directly from the raw values."""
    index = np.searchsorted(edges, values, side="left")
    return np.bincount(index, minlength=len(edges) + 1) / len(values)


@settings(max_examples=100, deadline=None)
@given(samples, samples, st.integers(min_value=2, max_value=20))
def test_numeric_jensen_shannon_equals_scipy_on_reference_bins(reference, current, bins):
    ref, cur = numeric_profile(reference), numeric_profile(current)
    edges = reference_edges(ref, bins)
    pair = numeric_bins(ref, cur, bins)
    np.testing.assert_allclose(pair.reference, _histogram(reference, edges), atol=1e-12)
    np.testing.assert_allclose(pair.current, _histogram(current, edges), atol=1e-12)
    expected = distance.jensenshannon(fill_empty(_histogram(reference, edges)), fill_empty(_histogram(current, edges)))
    assert numeric.numeric_jensen_shannon(ref, cur, bins).statistic == pytest.approx(expected, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(samples, samples, st.integers(min_value=2, max_value=20))
def test_numeric_psi_matches_its_definition(reference, current, bins):
    ref, cur = numeric_profile(reference), numeric_profile(current)
    edges = reference_edges(ref, bins)
    r, c = fill_empty(_histogram(reference, edges)), fill_empty(_histogram(current, edges))
    assert numeric.numeric_psi(ref, cur, bins).statistic == pytest.approx(np.sum((c - r) * np.log(c / r)), abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(category_counts, category_counts)
def test_chi_square_equals_scipy(reference, current):
    result = categorical.chi_square(reference, current)
    keys = sorted(set(reference) | set(current))
    observed = np.array([current.get(k, 0) for k in keys], dtype=float)
    expected = np.array([reference.get(k, 0) for k in keys], dtype=float)
    expected = expected * observed.sum() / expected.sum()
    if np.any((expected == 0) & (observed > 0)):
        assert result.statistic == np.inf and result.p_value == 0.0
    else:
        keep = expected > 0
        exact = stats.chisquare(observed[keep], expected[keep])
        assert result.statistic == pytest.approx(exact.statistic, rel=1e-9)
        assert result.p_value == pytest.approx(exact.pvalue, rel=1e-9, abs=1e-300)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 5000), st.integers(1, 5000), st.integers(1, 5000))
def test_z_test_squared_equals_uncorrected_chi_square_contingency(ref_a, ref_b, cur_a, cur_b):
    result = categorical.proportion_z_test({"a": ref_a, "b": ref_b}, {"a": cur_a, "b": cur_b})
    exact = stats.chi2_contingency([[ref_a, ref_b], [cur_a, cur_b]], correction=False)
    assert result.statistic**2 == pytest.approx(exact.statistic, rel=1e-7, abs=1e-9)
    assert result.p_value == pytest.approx(exact.pvalue, rel=1e-7, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(category_counts, category_counts)
def test_categorical_jensen_shannon_and_psi_equal_scipy(reference, current):
    keys = sorted(set(reference) | set(current))
    r = np.array([reference.get(k, 0) for k in keys], dtype=float)
    c = np.array([current.get(k, 0) for k in keys], dtype=float)
    r, c = fill_empty(r / r.sum()), fill_empty(c / c.sum())
    js = categorical.categorical_jensen_shannon(reference, current)
    assert js.statistic == pytest.approx(distance.jensenshannon(r, c), abs=1e-12)
    psi = categorical.categorical_psi(reference, current)
    assert psi.statistic == pytest.approx(np.sum((c - r) * np.log(c / r)), abs=1e-12)


def test_fill_empty_follows_evidently_rule():
    np.testing.assert_allclose(fill_empty(np.array([0.5, 0.5, 0.0])), [0.5, 0.5, 0.0001])
    tiny = fill_empty(np.array([0.99995, 0.00005, 0.0]))
    assert tiny[2] == pytest.approx(0.00005 / 1e6)


def test_ks_on_sketches_beyond_exact_size_is_within_rank_error():
    rng = np.random.default_rng(7)
    reference, current = rng.normal(0, 1, 200_000), rng.normal(0.05, 1.1, 150_000)
    result = numeric.kolmogorov_smirnov(numeric_profile(reference), numeric_profile(current))
    exact = stats.ks_2samp(reference, current)
    assert abs(result.statistic - exact.statistic) <= 2 * SKETCH_RANK_ERROR
    # Both far below 0.05: the verdict agrees.
    assert (result.p_value < 0.05) == (exact.pvalue < 0.05)


def test_wasserstein_on_sketches_beyond_exact_size_is_close():
    rng = np.random.default_rng(8)
    reference, current = rng.normal(0, 1, 300_000), rng.normal(0.25, 1, 300_000)
    result = numeric.normed_wasserstein(numeric_profile(reference), numeric_profile(current))
    exact = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert result.statistic == pytest.approx(exact, abs=0.01)


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=30))
def test_corrections_equal_their_definitions(p_values):
    assert adjust_p_values(p_values, "none") == p_values
    np.testing.assert_allclose(
        adjust_p_values(p_values, "bonferroni"), np.minimum(np.array(p_values) * len(p_values), 1)
    )
    np.testing.assert_allclose(
        adjust_p_values(p_values, "benjamini-hochberg"), stats.false_discovery_control(p_values, method="bh")
    )
