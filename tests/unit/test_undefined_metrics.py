"""Undefined is not zero: null with a reason, no verdict below the minimum, no Infinity in JSON."""

from __future__ import annotations

import json

import numpy as np

from modelwatch.drift import analyze
from modelwatch.performance import ClassificationCounts
from modelwatch.report.writers import render_json
from modelwatch.spec import parse_spec
from tests.conftest import build_profile


def _strict_json(text: str) -> dict:
    def reject(constant: str) -> None:
        raise AssertionError(f"non-finite number in JSON: {constant}")

    assert "Infinity" not in text and "NaN" not in text
    return json.loads(text, parse_constant=reject)


def test_precision_recall_f1_are_undefined_without_positives():
    counts = ClassificationCounts.from_rows(["0"] * 50, ["0"] * 50, None, "1")
    metrics = counts.metrics()
    assert metrics["accuracy"] == 1.0
    assert metrics["precision"] is None and metrics["recall"] is None and metrics["f1"] is None
    reasons = counts.undefined_reasons()
    assert reasons["precision"] == "no row predicted as 1" and reasons["recall"] == "no row labelled 1"


def test_precision_is_defined_zero_when_positives_are_all_missed():
    counts = ClassificationCounts.from_rows(["1", "0", "0"], ["0", "1", "0"], None, "1")
    metrics = counts.metrics()
    assert metrics["precision"] == 0.0 and metrics["recall"] == 0.0 and metrics["f1"] == 0.0


def _labelled_spec():
    return parse_spec(
        {
            "model": {"name": "t"},
            "columns": {"target": "y", "prediction": "p"},
            "features": {"x": {"type": "numeric"}},
        }
    )


def _labelled(rng: np.random.Generator, rows: int, accuracy: float) -> dict:
    y = rng.choice(["0", "1"], rows)
    wrong = rng.random(rows) > accuracy
    return {"x": rng.normal(size=rows), "y": y, "p": np.where(wrong, np.where(y == "1", "0", "1"), y)}


def test_no_concept_drift_verdict_below_the_minimum_of_labelled_rows():
    spec = _labelled_spec()
    rng = np.random.default_rng(1)
    reference = build_profile(spec, _labelled(rng, 5000, 0.9))
    few = analyze(spec, reference, build_profile(spec, _labelled(rng, 50, 0.5))).to_dict()["concept_drift"]
    assert few["drifted"] is None and few["performance_fell"] is None
    assert "50 labelled rows, fewer than drift.min_labeled_rows (200)" in few["reason"]
    many = analyze(spec, reference, build_profile(spec, _labelled(rng, 2000, 0.5))).to_dict()["concept_drift"]
    assert many["drifted"] is True and many["reason"] is None


def test_infinite_statistics_are_null_with_a_note_in_json():
    spec = parse_spec(
        {"model": {"name": "t"}, "features": {"x": {"type": "numeric", "drift": {"method": "wasserstein"}}}}
    )
    reference = build_profile(spec, {"x": np.full(3000, 7.0)})
    current = build_profile(spec, {"x": np.linspace(0.0, 10.0, 500)})
    report = analyze(spec, reference, current)
    assert report.features[0].drifted is True
    document = _strict_json(render_json(report, {}))
    (feature,) = document["features"]
    assert feature["statistic"] is None and feature["drifted"] is True
    assert "infinite" in feature["note"]


def test_unseen_category_under_evidently_chi_square_writes_no_infinity():
    spec = parse_spec(
        {"model": {"name": "t"}, "features": {"c": {"type": "categorical"}}, "drift": {"rule": "evidently"}}
    )
    reference = build_profile(spec, {"c": np.array(["a", "b"] * 200 + ["c"] * 100)})
    current = build_profile(spec, {"c": np.array(["a", "b", "new"] * 50)})
    document = _strict_json(render_json(analyze(spec, reference, current), {}))
    assert document["features"][0]["drifted"] is True
