"""Profiles merge associatively and commutatively, and merging equals profiling the concatenation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from modelwatch.drift.methods import compute
from modelwatch.profiles import (
    OTHER,
    SKETCH_RANK_ERROR,
    CategoricalColumnProfile,
    DatasetProfile,
    NumericColumnProfile,
)
from modelwatch.profiles.categorical import MAX_CATEGORIES
from modelwatch.profiles.coercion import as_finite_floats, as_labels
from modelwatch.spec import DriftMethod
from tests.conftest import build_profile, numeric_profile

values = arrays(
    np.float64,
    st.integers(min_value=0, max_value=300),
    elements=st.one_of(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False), st.just(np.nan)),
)
labels = st.lists(st.one_of(st.sampled_from(["a", "b", "c", "d"]), st.none()), max_size=200)


def _summary(profile: NumericColumnProfile) -> tuple:
    return (profile.count, profile.missing, profile.type_errors, profile.valid, profile.minimum, profile.maximum)


def _assert_same_numeric(left: NumericColumnProfile, right: NumericColumnProfile) -> None:
    assert _summary(left) == _summary(right)
    assert left.mean == pytest.approx(right.mean, rel=1e-9, abs=1e-6)
    assert left.m2 == pytest.approx(right.m2, rel=1e-7, abs=1e-3)
    assert left.small_values == right.small_values
    np.testing.assert_array_equal(left.weighted_values()[0], right.weighted_values()[0])


@settings(max_examples=100, deadline=None)
@given(values, values, values)
def test_numeric_merge_is_associative_commutative_and_equals_concatenation(a, b, c):
    pa, pb, pc = numeric_profile(a), numeric_profile(b), numeric_profile(c)
    left = pa.merged(pb).merged(pc)
    right = pa.merged(pb.merged(pc))
    swapped = pc.merged(pa, pb)
    whole = numeric_profile(np.concatenate([a, b, c]))
    for candidate in (left, right, swapped):
        _assert_same_numeric(candidate, whole)
    finite = np.concatenate([a, b, c])
    finite = finite[~np.isnan(finite)]
    if len(finite):
        assert whole.mean == pytest.approx(finite.mean(), rel=1e-9, abs=1e-6)
        assert whole.variance == pytest.approx(finite.var(), rel=1e-7, abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(labels, labels, labels)
def test_categorical_merge_laws(a, b, c):
    def prof(items):
        found, missing = as_labels(np.array(items, dtype=object))
        return CategoricalColumnProfile.from_values(found, missing)

    pa, pb, pc = prof(a), prof(b), prof(c)
    whole = prof(a + b + c)
    for candidate in (pa.merged(pb).merged(pc), pa.merged(pb.merged(pc)), pc.merged(pb, pa)):
        assert candidate == whole


def test_merge_leaves_inputs_unchanged():
    a, b = numeric_profile(np.arange(10.0)), numeric_profile(np.arange(10.0, 20.0))
    before = a.to_dict()
    a.merged(b)
    assert a.to_dict() == before


def test_comparing_merged_profiles_equals_comparing_concatenated_rows_within_sketch_error():
    rng = np.random.default_rng(3)
    reference = rng.normal(0, 1, 400_000)
    parts = [rng.normal(0.1, 1, 50_000) for _ in range(8)]
    ref = numeric_profile(reference)
    merged = numeric_profile(parts[0]).merged(*(numeric_profile(p) for p in parts[1:]))
    whole = numeric_profile(np.concatenate(parts))
    for method in (DriftMethod.KS, DriftMethod.WASSERSTEIN, DriftMethod.PSI, DriftMethod.JENSEN_SHANNON):
        from_merged = compute(method, ref, merged, 10).statistic
        from_whole = compute(method, ref, whole, 10).statistic
        # Within twice the rank error in CDF terms; distances built on it move by less than 0.01.
        assert from_merged == pytest.approx(from_whole, abs=max(2 * SKETCH_RANK_ERROR, 0.01)), method


def test_categories_are_bounded_with_an_other_bucket():
    many = [f"v{i}" for i in range(MAX_CATEGORIES + 500)]
    profile = CategoricalColumnProfile.from_values(many + ["v1"] * 10, missing=0)
    assert len(profile.counts) == MAX_CATEGORIES
    assert profile.counts["v1"] == 11
    assert sum(profile.counts.values()) == len(many) + 10
    assert profile.counts[OTHER] == 501


def test_type_errors_and_missing_are_counted_not_dropped():
    finite, missing, type_errors = as_finite_floats(
        np.array([1, "2", None, "abc", float("nan"), "", True, "inf"], dtype=object)
    )
    assert finite.tolist() == [1.0, 2.0]
    assert (missing, type_errors) == (3, 3)


def test_dataset_profile_round_trips_through_json(demo_spec):
    from modelwatch.demo.data import demo_frame

    profile = build_profile(demo_spec, demo_frame(3000, seed=1), chunk_rows=1000)
    again = DatasetProfile.from_json(profile.to_json())
    assert again.to_dict() == profile.to_dict()
    assert len(again.chunks) == 3
    assert again.performance is not None and again.performance.metrics() == profile.performance.metrics()
