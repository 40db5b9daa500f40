"""Model Monitor's L∞ distance as a drift method: Simple is the largest CDF (or share) gap,
Robust subtracts Deequ's 1.8·√((n+m)/(n·m)); the verdict is distance > threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from modelwatch.drift.engine import analyze
from modelwatch.drift.methods import compute
from modelwatch.profiles import CategoricalColumnProfile, DatasetProfile, NumericColumnProfile
from modelwatch.spec import parse_spec
from modelwatch.spec.loader import SpecError
from modelwatch.spec.models import DriftMethod
from modelwatch.stats.linf import categorical_linf, robust_allowance


def _numeric(values: np.ndarray) -> NumericColumnProfile:
    return NumericColumnProfile.from_values(values, 0, 0)


def test_simple_is_the_two_sample_ks_statistic() -> None:
    rng = np.random.default_rng(3)
    reference, current = rng.normal(size=800), rng.normal(0.3, size=600)
    result = compute(DriftMethod.LINF_SIMPLE, _numeric(reference), _numeric(current), 10)
    assert result.statistic == pytest.approx(stats.ks_2samp(reference, current).statistic, abs=1e-12)


def test_robust_subtracts_the_sample_size_allowance() -> None:
    rng = np.random.default_rng(4)
    reference, current = rng.normal(size=800), rng.normal(0.5, size=600)
    simple = compute(DriftMethod.LINF_SIMPLE, _numeric(reference), _numeric(current), 10).statistic
    robust = compute(DriftMethod.LINF_ROBUST, _numeric(reference), _numeric(current), 10).statistic
    assert robust_allowance(800, 600) == pytest.approx(1.8 * math.sqrt(1400 / (800 * 600)))
    assert robust == pytest.approx(max(0.0, simple - robust_allowance(800, 600)))
    same = compute(DriftMethod.LINF_ROBUST, _numeric(reference), _numeric(reference[:300]), 10).statistic
    assert same == 0.0


def test_few_valued_numbers_are_still_compared_on_their_cdf() -> None:
    reference = np.array([0.0] * 50 + [1.0] * 50)
    current = np.array([0.0] * 80 + [1.0] * 20)
    assert compute(DriftMethod.LINF_SIMPLE, _numeric(reference), _numeric(current), 10).statistic == pytest.approx(0.3)


def test_categorical_distance_is_the_largest_share_gap() -> None:
    result = categorical_linf(DriftMethod.LINF_SIMPLE, {"a": 50, "b": 30, "c": 20}, {"a": 40, "b": 30, "d": 30})
    assert result.statistic == pytest.approx(0.3)  # "d": 0 against 0.3
    profile = CategoricalColumnProfile.from_counts({"a": 50, "b": 50}, 0)
    other = CategoricalColumnProfile.from_counts({"a": 90, "b": 10}, 0)
    robust = compute(DriftMethod.LINF_ROBUST, profile, other, 10).statistic
    assert robust == pytest.approx(0.4 - robust_allowance(100, 100))


def _spec(threshold: float | None) -> object:
    drift = {"method": "linf_simple"} | ({} if threshold is None else {"threshold": threshold})
    return parse_spec(
        {
            "model": {"name": "m"},
            "features": {"x": {"type": "numeric"}, "c": {"type": "categorical"}},
            "drift": {"numeric": drift, "categorical": drift},
        }
    )


def _profiles(shift: float) -> tuple[DatasetProfile, DatasetProfile]:
    reference = np.linspace(0, 1, 1000)
    current = np.linspace(0, 1, 1000) + shift
    categories = {"a": 500, "b": 500}
    return (
        DatasetProfile(1000, {"x": _numeric(reference), "c": CategoricalColumnProfile.from_counts(categories, 0)}),
        DatasetProfile(1000, {"x": _numeric(current), "c": CategoricalColumnProfile.from_counts(categories, 0)}),
    )


@pytest.mark.parametrize(("shift", "drifted"), [(0.05, False), (0.25, True)])
def test_the_verdict_is_the_distance_above_the_threshold(shift: float, drifted: bool) -> None:
    report = analyze(_spec(0.1), *_profiles(shift))  # type: ignore[arg-type]
    x = next(f for f in report.features if f.name == "x")
    assert x.method is DriftMethod.LINF_SIMPLE and x.compared == "statistic" and x.threshold == 0.1
    assert x.drifted is drifted and x.statistic == pytest.approx(shift, abs=2e-3)
    assert next(f for f in report.features if f.name == "c").drifted is False


def test_without_a_threshold_the_distance_threshold_applies() -> None:
    report = analyze(_spec(None), *_profiles(0.25))  # type: ignore[arg-type]
    x = next(f for f in report.features if f.name == "x")
    assert x.threshold == 0.1 and x.threshold_source == "default" and x.drifted is True


def test_the_missing_rate_limit_of_a_feature_overrides_the_spec_wide_one() -> None:
    spec = parse_spec({"model": {"name": "m"}, "features": {"x": {"type": "numeric", "max_missing_rate": 0.3}}})
    reference = DatasetProfile(100, {"x": _numeric(np.arange(100.0))})
    current = DatasetProfile(100, {"x": NumericColumnProfile.from_values(np.arange(80.0), 20, 0)})
    assert analyze(spec, reference, current).quality.breaches == []
    with pytest.raises(SpecError, match=r"features\.x\.max_missing_rate"):
        parse_spec({"model": {"name": "m"}, "features": {"x": {"type": "numeric", "max_missing_rate": 1.5}}})
