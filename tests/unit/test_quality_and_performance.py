"""Data quality from profiles, and classification metrics from mergeable counts, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from modelwatch.performance import ClassificationCounts
from modelwatch.quality import assess_quality
from tests.conftest import build_profile


def test_quality_rates_against_spec(demo_spec):
    reference = {
        "age": np.array([30.0, 40, 50, 60]),
        "income": np.array([1.0, 2, 3, 4]),
        "score": np.array([400.0, 500, 600, 700]),
        "category": np.array(["a", "b", "c", "a"], dtype=object),
        "region": np.array(["north", "south", "east", "west"], dtype=object),
    }
    current = {
        "age": np.array([10.0, 40, 150, np.nan, 50, 60, 70, 80, 90, 20], dtype=object),
        "income": np.array([1.0, "lots", 3, 4, 5, 6, 7, 8, 9, 10], dtype=object),
        "score": np.linspace(400, 800, 10),
        "category": np.array(["a", "zz", "zz", None, "b", "c", "a", "b", "c", "a"], dtype=object),
        "region": np.array(["north"] * 10, dtype=object),
    }
    quality = assess_quality(demo_spec, build_profile(demo_spec, reference), build_profile(demo_spec, current))
    by_name = {f.name: f for f in quality.features}
    assert by_name["age"].missing == 1 and by_name["age"].out_of_range == 2  # 10 < 18, 150 > 100
    assert by_name["income"].type_errors == 1
    assert by_name["category"].unseen == 2 and by_name["category"].unseen_values == ["zz"]
    assert by_name["category"].missing_rate == pytest.approx(0.1)
    assert quality.missing_rate == pytest.approx(2 / 50)
    assert any("age: 1 missing values in a non-nullable feature" in b for b in quality.breaches)
    assert any(b.startswith("income: type-error rate") for b in quality.breaches)


def test_quality_without_spec_ranges_uses_the_baseline():
    from modelwatch.spec.inference import inferred_spec

    spec = inferred_spec(["x"], ["k"])
    reference = {"x": np.arange(100.0), "k": np.array(["a", "b"] * 50, dtype=object)}
    current = {"x": np.arange(-10.0, 110.0), "k": np.array(["a", "c"] * 60, dtype=object)}
    quality = assess_quality(spec, build_profile(spec, reference), build_profile(spec, current))
    by_name = {f.name: f for f in quality.features}
    assert by_name["x"].out_of_range == 20
    assert by_name["k"].unseen == 60


def _random_labels(rng, n):
    actual = rng.integers(0, 2, n)
    probability = np.clip(actual * 0.3 + rng.uniform(0, 0.7, n), 0, 1)
    predicted = (probability >= 0.5).astype(int)
    return actual, predicted, probability


@pytest.mark.parametrize("n", [50, 1500, 60_000])
def test_binary_metrics_equal_scikit_learn(n):
    rng = np.random.default_rng(n)
    actual, predicted, probability = _random_labels(rng, n)
    counts = ClassificationCounts.from_rows(
        [str(a) for a in actual], [str(p) for p in predicted], probability, positive_class="1"
    )
    got = counts.metrics()
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(actual, predicted))
    assert got["precision"] == pytest.approx(skm.precision_score(actual, predicted))
    assert got["recall"] == pytest.approx(skm.recall_score(actual, predicted))
    assert got["f1"] == pytest.approx(skm.f1_score(actual, predicted))
    assert got["log_loss"] == pytest.approx(skm.log_loss(actual, probability), rel=1e-9)
    tolerance = 1e-12 if n < 2000 else 0.005  # exact below the sketch size, then within its error
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(actual, probability), abs=tolerance)


def test_counts_merge_to_the_whole():
    rng = np.random.default_rng(9)
    actual, predicted, probability = _random_labels(rng, 900)
    parts = [
        ClassificationCounts.from_rows(
            [str(a) for a in actual[s]], [str(p) for p in predicted[s]], probability[s], positive_class="1"
        )
        for s in (slice(0, 300), slice(300, 700), slice(700, 900))
    ]
    merged = parts[2].merged(parts[0], parts[1]).metrics()
    assert merged["roc_auc"] == pytest.approx(skm.roc_auc_score(actual, probability), abs=1e-12)
    assert merged["f1"] == pytest.approx(skm.f1_score(actual, predicted))


def test_multiclass_uses_macro_averages():
    actual = ["a", "b", "c", "a", "b", "c", "a"]
    predicted = ["a", "b", "b", "a", "c", "c", "b"]
    got = ClassificationCounts.from_rows(actual, predicted, None, positive_class="1").metrics()
    assert got["f1"] == pytest.approx(skm.f1_score(actual, predicted, average="macro"))
    assert got["roc_auc"] is None
