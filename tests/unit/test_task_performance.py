"""Multiclass and regression performance from mergeable counts equal scikit-learn's metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from modelwatch.performance import MulticlassCounts, RegressionMoments, performance_from_dict
from modelwatch.profiles import DatasetProfile, ProfileSchema, profile_batch
from modelwatch.sketches import SKETCH_RANK_ERROR

CLASSES = ["ant", "bee", "cat", "dog"]


def _multiclass_rows(rng: np.random.Generator, n: int):
    logits = rng.normal(size=(n, len(CLASSES))) + np.array([0.8, 0.2, 0.0, -0.5])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    actual = np.array([rng.choice(len(CLASSES), p=p) for p in probabilities])
    # A deliberately imperfect prediction: sometimes not the argmax, so precision and recall differ.
    predicted = np.where(rng.random(n) < 0.1, rng.integers(0, len(CLASSES), n), probabilities.argmax(axis=1))
    return [CLASSES[i] for i in actual], [CLASSES[i] for i in predicted], probabilities


def _expected_multiclass(actual, predicted, probabilities) -> dict:
    return {
        "accuracy": skm.accuracy_score(actual, predicted),
        "precision_macro": skm.precision_score(actual, predicted, average="macro", zero_division=0),
        "recall_macro": skm.recall_score(actual, predicted, average="macro", zero_division=0),
        "f1_macro": skm.f1_score(actual, predicted, average="macro", zero_division=0),
        "f1_weighted": skm.f1_score(actual, predicted, average="weighted", zero_division=0),
        "log_loss": skm.log_loss(actual, probabilities, labels=CLASSES),
        "roc_auc_ovr": skm.roc_auc_score(actual, probabilities, multi_class="ovr", average="macro", labels=CLASSES),
    }


@pytest.mark.parametrize("n", [300, 1500, 12_000])
def test_multiclass_metrics_equal_scikit_learn(n):
    actual, predicted, probabilities = _multiclass_rows(np.random.default_rng(n), n)
    got = MulticlassCounts.from_rows(actual, predicted, probabilities, CLASSES).metrics()
    expected = _expected_multiclass(actual, predicted, probabilities)
    for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "log_loss"):
        assert got[key] == pytest.approx(expected[key], abs=1e-9), key
    # Exact while each sketch holds under 2,000 scores; beyond, within the sketch's rank error.
    tolerance = 1e-9 if n <= 1500 else 4 * SKETCH_RANK_ERROR
    assert got["roc_auc_ovr"] == pytest.approx(expected["roc_auc_ovr"], abs=tolerance)
    report = skm.classification_report(actual, predicted, output_dict=True, zero_division=0)
    for label in CLASSES:
        for key, sk_key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert got["per_class"][label][key] == pytest.approx(report[label][sk_key], abs=1e-9)
        assert got["per_class"][label]["support"] == report[label]["support"]


def test_multiclass_counts_merge_to_the_whole_through_json():
    actual, predicted, probabilities = _multiclass_rows(np.random.default_rng(7), 1800)
    parts = [
        MulticlassCounts.from_rows(actual[s], predicted[s], probabilities[s], CLASSES)
        for s in (slice(0, 500), slice(500, 501), slice(501, 1800))
    ]
    restored = [performance_from_dict(p.to_dict()) for p in parts]
    merged = restored[0].merged(*restored[1:]).metrics()
    whole = MulticlassCounts.from_rows(actual, predicted, probabilities, CLASSES).metrics()
    for key, value in whole.items():
        if key != "per_class":
            assert merged[key] == pytest.approx(value, abs=1e-9), key
    assert merged["per_class"] == whole["per_class"]


def _regression_rows(rng: np.random.Generator, n: int):
    actual = rng.gamma(3.0, 1000.0, n) + 50
    predicted = actual * rng.normal(1.0, 0.1, n) + rng.normal(0, 100, n)
    return actual, predicted


@pytest.mark.parametrize("n", [50, 5000])
def test_regression_metrics_equal_scikit_learn(n):
    actual, predicted = _regression_rows(np.random.default_rng(n), n)
    got = RegressionMoments.from_rows(actual, predicted).metrics()
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(actual, predicted), rel=1e-12)
    assert got["rmse"] == pytest.approx(skm.root_mean_squared_error(actual, predicted), rel=1e-12)
    assert got["mape"] == pytest.approx(skm.mean_absolute_percentage_error(actual, predicted), rel=1e-12)
    assert got["r2"] == pytest.approx(skm.r2_score(actual, predicted), abs=1e-9)


def test_regression_moments_merge_to_the_whole_and_r2_survives_the_merge():
    actual, predicted = _regression_rows(np.random.default_rng(3), 3000)
    # A big offset: sums of y and y² would lose R²'s digits here; merged moments do not.
    actual, predicted = actual + 1e7, predicted + 1e7
    parts = [
        RegressionMoments.from_rows(actual[s], predicted[s]) for s in (slice(0, 1), slice(1, 1000), slice(1000, None))
    ]
    merged = performance_from_dict(parts[0].to_dict()).merged(*parts[1:]).metrics()
    assert merged["r2"] == pytest.approx(skm.r2_score(actual, predicted), abs=1e-9)
    assert merged["mae"] == pytest.approx(skm.mean_absolute_error(actual, predicted), rel=1e-12)


def test_regression_skips_rows_without_numbers_and_constant_target_has_no_r2():
    got = RegressionMoments.from_rows(np.array([1.0, np.nan, 1.0]), np.array([2.0, 3.0, 0.0])).metrics()
    assert got["mae"] == 1.0 and got["r2"] is None


def test_profiles_carry_each_tasks_counts():
    rng = np.random.default_rng(11)
    actual, predicted, probabilities = _multiclass_rows(rng, 1000)
    batch = {"x": rng.normal(size=1000), "y": np.array(actual, dtype=object), "p": np.array(predicted, dtype=object)}
    batch |= {f"proba_{c}": probabilities[:, i] for i, c in enumerate(CLASSES)}
    schema = ProfileSchema(
        numeric=("x",), categorical=(), target="y", prediction="p", task="multiclass", score_prefix="proba_"
    )
    profile = DatasetProfile.from_json(profile_batch(schema, batch).to_json())
    assert profile.performance.metrics()["accuracy"] == pytest.approx(skm.accuracy_score(actual, predicted))
    assert profile.performance.classes == CLASSES
    assert "proba_cat" in profile.columns and "__confidence__" in profile.columns

    target, prediction = _regression_rows(rng, 1000)
    schema = ProfileSchema(numeric=("x",), categorical=(), target="y", prediction="p", task="regression")
    profile = profile_batch(schema, {"x": rng.normal(size=1000), "y": target, "p": prediction})
    assert profile.performance.metrics()["rmse"] == pytest.approx(skm.root_mean_squared_error(target, prediction))
    assert profile.columns["y"].valid == 1000  # a numeric target: label drift uses the numeric methods
