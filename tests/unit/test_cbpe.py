"""CBPE: estimated accuracy and ROC AUC without labels, against the realized values."""

from __future__ import annotations

import numpy as np
import pytest

from modelwatch.cbpe import (
    CALIBRATION_GROUP_ROWS,
    MIN_GROUP_OUTCOMES,
    binary_score_histograms,
    estimate,
    fit_calibration,
)
from modelwatch.performance import ClassificationCounts
from modelwatch.profiles import ProfileSchema, profile_batch
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.score_histogram import ScoreHistogram

SCHEMA = ProfileSchema(numeric=(), categorical=(), target="y", prediction="p", score="s", positive_class="1")


def _window(rng, rows: int, shift: float, distort=lambda p: p):
    x = rng.normal(shift, 1.0, (rows, 2))
    truth = 1 / (1 + np.exp(-(1.4 * x[:, 0] - 0.9 * x[:, 1] + 0.3)))
    labels = (rng.uniform(size=rows) < truth).astype(int)
    scores = distort(truth)  # what the model says
    return scores, labels


def _counts(scores, labels) -> ClassificationCounts:
    predicted = (scores >= 0.5).astype(int)
    return ClassificationCounts.from_rows([str(v) for v in labels], [str(v) for v in predicted], scores, "1")


def _unlabelled(scores, threshold: float = 0.5) -> DatasetProfile:
    return profile_batch(SCHEMA, {"s": scores, "p": (scores >= threshold).astype(int)})


def _estimate(calibration, scores, threshold: float = 0.5):
    histograms = binary_score_histograms(_unlabelled(scores, threshold), "1")
    assert histograms is not None
    return estimate(calibration, *histograms)


@pytest.mark.parametrize(
    "distort",
    [lambda p: p, lambda p: p**1.8 / (p**1.8 + (1 - p) ** 1.8)],  # calibrated, then overconfident
    ids=["calibrated", "overconfident"],
)
def test_estimates_are_within_0_02_of_realized_in_every_shifted_window(distort):
    rng = np.random.default_rng(42)
    reference_scores, reference_labels = _window(rng, 30_000, 0.0, distort)
    calibration = fit_calibration(_counts(reference_scores, reference_labels))
    assert calibration is not None
    for shift in (0.0, 0.4, 0.8, -0.6, 1.2, -1.0):
        scores, labels = _window(rng, 8_000, shift, distort)
        estimated = _estimate(calibration, scores)
        realized = _counts(scores, labels).metrics()
        assert estimated["accuracy"] == pytest.approx(realized["accuracy"], abs=0.02), shift
        assert estimated["roc_auc"] == pytest.approx(realized["roc_auc"], abs=0.02), shift
        assert estimated["f1"] == pytest.approx(realized["f1"], abs=0.03), shift


def test_calibration_reports_how_far_the_raw_scores_were():
    rng = np.random.default_rng(1)
    calibrated = fit_calibration(_counts(*_window(rng, 20_000, 0.0)))
    overconfident = fit_calibration(_counts(*_window(rng, 20_000, 0.0, lambda p: np.clip(1.6 * (p - 0.5) + 0.5, 0, 1))))
    assert calibrated.raw_error < 0.03
    assert overconfident.raw_error > calibrated.raw_error
    assert overconfident.calibrated_error < overconfident.raw_error


def test_no_calibration_without_both_classes():
    only_positive = ClassificationCounts.from_rows(["1", "1"], ["1", "1"], np.array([0.9, 0.8]), "1")
    assert fit_calibration(only_positive) is None


def test_heldout_check_keeps_a_score_given_to_two_decimals_whole():
    """Scores rounded to two decimals put hundreds of rows of both classes on each value. The
    held-out check once split the holdout by the parity of (value, class) entries in score order:
    a value's positives fell in one half and its negatives in the other, so each half was
    calibrated on (nearly) one class and its calibration error on the other half was about 0.5,
    and calibration was dropped (or not, as sketch compaction fell). Whole values stay whole now:
    both held-out errors are small, and calibrating an overconfident model is kept."""
    rng = np.random.default_rng(7)
    truth = rng.beta(2, 2, 50_000)
    labels = (rng.uniform(size=len(truth)) < truth).astype(int)
    overconfident = np.round(np.clip(1.5 * (truth - 0.5) + 0.5, 0, 1), 2)
    calibration = fit_calibration(_counts(overconfident, labels))
    assert calibration.heldout_raw_error < 0.1
    assert calibration.heldout_calibrated_error < 0.02
    assert calibration.heldout_calibrated_error < calibration.heldout_raw_error
    assert calibration.applied
    calibrated = fit_calibration(_counts(np.round(truth, 2), labels))
    assert calibrated.heldout_raw_error < 0.02
    assert calibrated.heldout_calibrated_error < 0.02


def test_same_rows_give_the_same_estimates_whatever_the_batches():
    """Score histograms are exact counts: no coin flips of sketch compaction, so every run, batch
    split and merge order gives identical calibrations and estimates."""
    rng = np.random.default_rng(3)
    scores, labels = _window(rng, 60_000, 0.0)
    whole = fit_calibration(_counts(scores, labels))
    parts = [_counts(scores[i::3], labels[i::3]) for i in range(3)]
    merged = fit_calibration(parts[2].merged(parts[0], parts[1]))
    assert merged.to_dict() == whole.to_dict()
    assert np.array_equal(merged.calibrated, whole.calibrated)
    window, _ = _window(rng, 30_000, 0.5)
    once = _estimate(whole, window)
    batches = [_unlabelled(window[i : i + 7_000]) for i in range(0, len(window), 7_000)]
    merged_window = batches[-1].merged(*batches[:-1])
    assert estimate(merged, *binary_score_histograms(merged_window, "1")) == once
    stored = DatasetProfile.from_json(merged_window.to_json())
    assert estimate(whole, *binary_score_histograms(stored, "1")) == once


def test_expected_counts_follow_the_models_own_predictions_not_a_fixed_threshold():
    rng = np.random.default_rng(11)
    scores, labels = _window(rng, 30_000, 0.0)
    calibration = fit_calibration(_counts(scores, labels))
    window_scores, window_labels = _window(rng, 10_000, 0.3)
    predicted = window_scores >= 0.65  # the model's threshold is not 0.5
    realized = np.mean(predicted == (window_labels == 1))
    assert _estimate(calibration, window_scores, 0.65)["accuracy"] == pytest.approx(realized, abs=0.015)


def test_score_histogram_round_trips_and_counts_exactly():
    histogram = ScoreHistogram.from_values(np.array([0.37, 0.37, 0.5, 1.2, -0.1, np.nan, 0.123456]))
    assert histogram.total == 6
    values, weights = histogram.points()
    assert values == pytest.approx([0.0, 0.123456, 0.37, 0.5, 1.0], abs=2e-4)
    assert weights.tolist() == [1, 1, 2, 1, 1]
    assert ScoreHistogram.from_text(histogram.to_text()) == histogram
    # A rare class's probabilities keep their order however small (a grid even in log-odds).
    tiny = ScoreHistogram.from_values(np.array([1e-4, 2e-4, 4e-4, 1e-6]))
    values, _ = tiny.points()
    assert len(values) == 4 and values == pytest.approx([1e-6, 1e-4, 2e-4, 4e-4], rel=1e-3)
    merged = tiny.merged(histogram, tiny)
    assert merged.total == 14 and merged == histogram.merged(tiny, tiny)


def test_calibration_groups_widen_until_each_sees_a_rare_outcome():
    """Groups of about 25 rows hold a 3% outcome's rows about once in 1.3 groups: isotonic
    regression would fit where those few rows fell. Groups are widened until they hold, on
    average, MIN_GROUP_OUTCOMES rows of the rarer outcome; balanced outcomes keep 25-row groups."""
    rng = np.random.default_rng(11)
    rows = 20_000
    rare = rng.beta(0.6, 20, rows)  # calibrated scores of a rare outcome (mean about 3%)
    labels = (rng.uniform(size=rows) < rare).astype(int)
    calibration = fit_calibration(_counts(rare, labels))
    assert calibration.to_dict()["bins"] <= labels.sum() // MIN_GROUP_OUTCOMES
    balanced = rng.beta(2, 2, rows)
    calibration = fit_calibration(_counts(balanced, (rng.uniform(size=rows) < balanced).astype(int)))
    assert calibration.to_dict()["bins"] == pytest.approx(rows / CALIBRATION_GROUP_ROWS, rel=0.02)
