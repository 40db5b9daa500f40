"""CBPE: estimated accuracy and ROC AUC without labels, against the realized values."""

from __future__ import annotations

import numpy as np
import pytest

from modelwatch.cbpe import estimate, fit_calibration
from modelwatch.performance import ClassificationCounts
from tests.conftest import numeric_profile


def _window(rng, rows: int, shift: float, distort=lambda p: p):
    x = rng.normal(shift, 1.0, (rows, 2))
    truth = 1 / (1 + np.exp(-(1.4 * x[:, 0] - 0.9 * x[:, 1] + 0.3)))
    labels = (rng.uniform(size=rows) < truth).astype(int)
    scores = distort(truth)  # what the model says
    return scores, labels


def _counts(scores, labels) -> ClassificationCounts:
    predicted = (scores >= 0.5).astype(int)
    return ClassificationCounts.from_rows([str(v) for v in labels], [str(v) for v in predicted], scores, "1")


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
        estimated = estimate(calibration, numeric_profile(scores))
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
