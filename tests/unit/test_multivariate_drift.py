"""Multivariate drift: a correlation that flips while every marginal stays put."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from modelwatch.drift import analyze
from modelwatch.profiles import DatasetProfile, ProfileSchema, profile_batch
from modelwatch.profiles.rows import ROW_SAMPLE_SIZE, RowsProfile
from modelwatch.report.writers import render_html, render_json
from modelwatch.spec import parse_spec
from modelwatch.stats.pca import reference_model

NUMERIC = ("a", "b", "c", "d")


def _spec(**drift):
    features = {name: {"type": "numeric"} for name in NUMERIC} | {"k": {"type": "categorical"}}
    return parse_spec({"model": {"name": "t"}, "features": features, "drift": drift})


def _frame(rng: np.random.Generator, rows: int, correlation: float) -> dict[str, np.ndarray]:
    covariance = np.eye(4)
    covariance[0, 1] = covariance[1, 0] = correlation
    values = rng.multivariate_normal(np.zeros(4), covariance, rows)
    return {name: values[:, i] for i, name in enumerate(NUMERIC)} | {"k": rng.choice(["x", "y"], rows)}


def _profile(spec, frame, model=None) -> DatasetProfile:
    schema = dataclasses.replace(ProfileSchema.from_spec(spec), reconstruction=model)
    return profile_batch(schema, frame)


@pytest.mark.parametrize("rows", [300, 5000])
def test_a_correlation_flip_is_multivariate_drift_and_not_univariate(rows):
    spec = _spec()
    rng = np.random.default_rng(rows)
    reference = _profile(spec, _frame(rng, 20_000, 0.8))
    flipped = analyze(spec, reference, _profile(spec, _frame(rng, rows, -0.8)))
    assert flipped.dataset_drift is False
    assert [m.method for m in flipped.multivariate] == ["pca_reconstruction", "domain_classifier"]
    assert all(m.drifted for m in flipped.multivariate)
    stable = analyze(spec, reference, _profile(spec, _frame(rng, rows, 0.8)))
    assert not any(m.drifted for m in stable.multivariate)


def test_per_record_errors_profiled_with_the_baseline_model_merge():
    spec = _spec()
    rng = np.random.default_rng(3)
    reference = _profile(spec, _frame(rng, 20_000, 0.8))
    model = reference_model(reference.multivariate, spec.drift)
    parts = [_profile(spec, _frame(rng, 3000, -0.8), model) for _ in range(3)]
    window = parts[0].merged(*parts[1:])
    assert window.multivariate.errors.valid == 9000 and window.multivariate.error_model == model.fingerprint
    (pca, _) = analyze(spec, reference, window).multivariate
    assert pca.current_rows == 9000 and pca.drifted and pca.note is None


def test_row_sample_is_bounded_and_independent_of_merge_order():
    spec = _spec()
    rng = np.random.default_rng(4)
    parts = [_profile(spec, _frame(rng, 700, 0.3)) for _ in range(4)]
    forward = parts[0].merged(*parts[1:]).multivariate
    backward = parts[3].merged(parts[2]).merged(parts[1].merged(parts[0])).multivariate
    assert len(forward.sample) == ROW_SAMPLE_SIZE and forward.count == 2800
    assert np.array_equal(np.sort(forward.keys), np.sort(backward.keys))
    assert np.allclose(forward.covariance, backward.covariance)
    restored = RowsProfile.from_dict(json.loads(json.dumps(forward.to_dict())))
    assert np.array_equal(restored.sample, forward.sample) and np.array_equal(restored.keys, forward.keys)


def test_multivariate_results_are_in_json_and_html_and_can_be_turned_off():
    spec = _spec()
    rng = np.random.default_rng(5)
    reference = _profile(spec, _frame(rng, 5000, 0.8))
    report = analyze(spec, reference, _profile(spec, _frame(rng, 500, -0.8)))
    document = json.loads(render_json(report, {}))
    assert {item["method"] for item in document["multivariate"]} == {"pca_reconstruction", "domain_classifier"}
    for item in document["multivariate"]:
        assert {"method", "score", "threshold", "drifted"} <= set(item)
    assert "Multivariate drift" in render_html(report, {})
    off = _spec(multivariate={"pca_reconstruction": False, "domain_classifier": False})
    assert analyze(off, reference, _profile(off, _frame(rng, 500, 0.8))).multivariate == []


def test_a_window_too_small_for_the_classifier_gets_no_verdict():
    spec = _spec()
    rng = np.random.default_rng(6)
    reference = _profile(spec, _frame(rng, 5000, 0.8))
    pca, classifier = analyze(spec, reference, _profile(spec, _frame(rng, 50, 0.8))).multivariate
    assert pca.status == "ok" and classifier.status == "insufficient_data" and classifier.drifted is None


def test_captured_records_are_scored_with_the_baseline_model_where_they_are_profiled():
    from modelwatch.windows.capture_profile import profile_captures

    spec = _spec()
    rng = np.random.default_rng(7)
    reference = _profile(spec, _frame(rng, 5000, 0.8))
    model = reference_model(reference.multivariate, spec.drift)
    frame = _frame(rng, 200, -0.8)
    records = [
        {
            "request_id": str(i),
            "features": {name: float(frame[name][i]) for name in NUMERIC} | {"k": str(frame["k"][i])},
            "prediction": "1",
            "probabilities": {"1": 0.7, "0": 0.3},
        }
        for i in range(200)
    ]
    captured = profile_captures(spec, records, model).profile
    assert captured.multivariate.errors.valid == 200 and captured.multivariate.error_model == model.fingerprint
    assert profile_captures(spec, records).profile.multivariate.errors is None
