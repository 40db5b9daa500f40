"""The drift engine: Evidently's default rule, the acceptance scenario, corrections, calibration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modelwatch.drift import analyze
from modelwatch.drift.methods import default_method
from modelwatch.errors import UserInputError
from modelwatch.profiles import CategoricalColumnProfile
from modelwatch.spec import DriftMethod, parse_spec
from tests.conftest import build_profile, numeric_profile

NUMERIC = [f"n{i}" for i in range(8)]
CATEGORICAL = ["c0", "c1"]


def _spec(**drift):
    features = {n: {"type": "numeric"} for n in NUMERIC} | {c: {"type": "categorical"} for c in CATEGORICAL}
    return parse_spec({"model": {"name": "t"}, "features": features, "drift": drift})


def _frame(rows: int, seed: int, shifted: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame: dict[str, np.ndarray] = {}
    for i, name in enumerate(NUMERIC):
        sigma = 1.0 + i
        frame[name] = rng.normal(10.0 * i + (0.25 * sigma if name in shifted else 0.0), sigma, rows)
    frame["c0"] = rng.choice(["x", "y", "z"], rows, p=[0.5, 0.3, 0.2])
    frame["c1"] = rng.choice(["p", "q", "r", "s"], rows)
    return frame


@pytest.mark.parametrize(
    ("shifted", "expected_drift"),
    [(("n1", "n4", "n6"), False), (("n0", "n1", "n2", "n4", "n6", "n7"), True)],
)
def test_quarter_sigma_shift_on_100k_rows(shifted, expected_drift):
    # Evidently's rule: exactly the shifted features pass the fixed 0.1 distance. (The size-aware
    # default flags about 5% of stable features at any size, by design; see test_drift_verdicts.)
    spec = _spec(rule="evidently")
    report = analyze(spec, build_profile(spec, _frame(100_000, 1)), build_profile(spec, _frame(100_000, 2, shifted)))
    assert {f.name for f in report.drifted} == set(shifted)
    assert all(f.method is DriftMethod.WASSERSTEIN for f in report.features if f.kind == "numeric")
    assert all(f.method is DriftMethod.JENSEN_SHANNON for f in report.features if f.kind == "categorical")
    assert report.drift_share == pytest.approx(len(shifted) / 10)
    assert report.dataset_drift is expected_drift


def test_default_rule_follows_evidently():
    settings = _spec().drift
    small, large = np.arange(1000.0), np.arange(1001.0)
    assert default_method(numeric_profile(small), settings) is DriftMethod.KS
    assert default_method(numeric_profile(large), settings) is DriftMethod.WASSERSTEIN
    few = numeric_profile(np.tile([1.0, 2.0, 3.0, 4.0, 5.0], 100))
    assert default_method(few, settings) is DriftMethod.CHI_SQUARE
    binary = CategoricalColumnProfile.from_values(["a", "b"] * 100, 0)
    assert default_method(binary, settings) is DriftMethod.Z_TEST
    big_categorical = CategoricalColumnProfile.from_values(["a", "b", "c"] * 400, 0)
    assert default_method(big_categorical, settings) is DriftMethod.JENSEN_SHANNON


def test_small_windows_use_tests_with_correction():
    spec = _spec(correction="bonferroni")
    report = analyze(spec, build_profile(spec, _frame(500, 1)), build_profile(spec, _frame(400, 2, ("n3",))))
    tested = [f for f in report.features if f.method is not None and f.method.uses_p_value]
    assert len(tested) == 10
    for f in tested:
        assert f.p_value_adjusted == pytest.approx(min(1.0, f.p_value * 10))
        assert f.drifted == (f.p_value_adjusted < 0.05)


def test_insufficient_data_gives_no_verdict():
    spec = _spec(min_sample_size=100)
    report = analyze(spec, build_profile(spec, _frame(500, 1)), build_profile(spec, _frame(50, 2)))
    assert all(f.status == "insufficient_data" and f.drifted is None for f in report.features)
    assert report.dataset_drift is None
    assert report.to_dict()["status"] == "insufficient_data"


def test_default_minimum_is_well_below_the_small_sample_range():
    spec = _spec()
    assert spec.drift.min_sample_size < 100 < spec.drift.small_sample_max_rows
    report = analyze(spec, build_profile(spec, _frame(300, 1)), build_profile(spec, _frame(80, 2)))
    assert report.dataset_drift is not None


def test_calibrated_threshold_is_mean_plus_three_sigma_of_held_out_chunks():
    # Each chunk is scored against the merge of the other chunks, never against a baseline that
    # contains it (which made the threshold too small: 95% false alarms on 200-row windows).
    document = {
        "model": {"name": "t"},
        "features": {"n0": {"type": "numeric", "drift": {"method": "wasserstein", "threshold": "calibrated"}}},
    }
    spec = parse_spec(document)
    rng = np.random.default_rng(5)
    reference = build_profile(spec, {"n0": rng.normal(0, 1, 20_000)}, chunk_rows=2000)
    current = build_profile(spec, {"n0": rng.normal(0.3, 1, 2000)})
    report = analyze(spec, reference, current)
    (feature,) = report.features
    chunk_scores = []
    for index, chunk in enumerate(reference.chunks):
        others = [c.columns["n0"] for i, c in enumerate(reference.chunks) if i != index]
        rest = others[0].merged(*others[1:])
        base_values, base_weights = rest.weighted_values()
        values, weights = chunk.columns["n0"].weighted_values()
        chunk_scores.append(stats.wasserstein_distance(base_values, values, base_weights, weights) / rest.std)
    assert feature.threshold_source == "calibrated"
    # KLL merges past the exact range compact at random: two merges of the same chunks differ a little.
    assert feature.threshold == pytest.approx(np.mean(chunk_scores) + 3 * np.std(chunk_scores), rel=0.05)
    assert 0 < feature.threshold < 0.2 and feature.drifted


def test_calibration_without_chunks_is_a_clear_error():
    document = {
        "model": {"name": "t"},
        "features": {"n0": {"type": "numeric", "drift": {"method": "psi", "threshold": "calibrated"}}},
    }
    spec = parse_spec(document)
    profile = build_profile(spec, {"n0": np.arange(5000.0)})
    with pytest.raises(UserInputError, match="calibrated threshold"):
        analyze(spec, profile, profile)


def test_prediction_and_label_drift_are_reported_apart_from_the_share(demo_spec):
    from modelwatch.demo.data import demo_frame

    report = analyze(
        demo_spec, build_profile(demo_spec, demo_frame(5000, 1)), build_profile(demo_spec, demo_frame(5000, 2, 0.9))
    )
    assert report.prediction_drift is not None and report.prediction_drift.name == "predicted_label"
    assert report.label_drift is not None and report.label_drift.name == "label"
    assert len(report.evaluated) == 5


def _labelled(rows: int, seed: int, flip: float = 0.0, drift: float = 0.0) -> dict:
    """Demo data whose labels are partly flipped: P(Y|X) changes while P(X) stays."""
    from modelwatch.demo.data import demo_frame

    frame = demo_frame(rows, seed, drift=drift)
    rng = np.random.default_rng(seed + 1)
    flipped = rng.uniform(size=rows) < flip
    frame["label"] = np.where(flipped, 1 - frame["label"], frame["label"])
    return frame


def test_concept_drift_when_performance_falls_with_stable_inputs(demo_spec):
    reference = build_profile(demo_spec, _labelled(6000, 1))
    stable_inputs = analyze(demo_spec, reference, build_profile(demo_spec, _labelled(6000, 2, flip=0.3)))
    concept = stable_inputs.to_dict()["concept_drift"]
    assert stable_inputs.dataset_drift is False
    assert concept["performance_fell"] and concept["drifted"]
    assert concept["current"] < concept["reference"] - demo_spec.retraining.performance_tolerance

    unchanged = analyze(demo_spec, reference, build_profile(demo_spec, _labelled(6000, 3)))
    assert unchanged.to_dict()["concept_drift"]["drifted"] is False

    moved_inputs = analyze(demo_spec, reference, build_profile(demo_spec, _labelled(6000, 4, flip=0.3, drift=0.9)))
    assert moved_inputs.dataset_drift is True
    assert moved_inputs.to_dict()["concept_drift"]["drifted"] is False  # the inputs explain it


def test_an_empty_window_is_insufficient_data_not_an_error():
    from modelwatch.profiles import DatasetProfile

    spec = _spec()
    report = analyze(spec, build_profile(spec, _frame(500, 1)), DatasetProfile())
    assert report.dataset_drift is None and report.status == "insufficient_data"
    assert all(f.current_count == 0 and f.drifted is None for f in report.features)
