"""Performance without labels: confidence-based performance estimation (CBPE), as NannyML does.

Calibration is fitted on the baseline holdout, where labels are known: reference P(positive)
values are cut into quantile bins, each bin's share of actual positives is made monotone with
isotonic regression, and a score maps to its bin's calibrated probability (linearly between bin
centres). For an unlabelled window, each row then counts as a fractional true positive (c) or
false positive (1 - c) when predicted positive, and as a false negative (c) or true negative
(1 - c) otherwise: the expected confusion matrix, and from it accuracy, precision, recall and F1.
The expected ROC AUC weighs every (positive, negative) ordering by those same probabilities.
Everything is read from sketches: exact up to their size, within their rank error beyond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression

from modelwatch.performance import ClassificationCounts
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.sketches import sorted_weighted

CALIBRATION_BINS = 20


@dataclass(frozen=True)
class Calibration:
    centres: np.ndarray  # mean score of each bin
    calibrated: np.ndarray  # monotone share of positives in each bin
    # Expected calibration error of the raw scores on the holdout (how far from calibrated
    # the model was), and of the calibrated ones (how well the mapping fits).
    raw_error: float
    calibrated_error: float

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(scores, self.centres, self.calibrated)

    def to_dict(self) -> dict[str, object]:
        return {
            "bins": len(self.centres),
            "raw_calibration_error": self.raw_error,
            "calibrated_calibration_error": self.calibrated_error,
        }


def fit_calibration(reference: ClassificationCounts, bins: int = CALIBRATION_BINS) -> Calibration | None:
    """Fit on the holdout's scores by class; None without both classes."""
    pos_values, pos_weights = sorted_weighted(reference.positive_scores)
    neg_values, neg_weights = sorted_weighted(reference.negative_scores)
    if not len(pos_values) or not len(neg_values):
        return None
    values = np.concatenate([pos_values, neg_values])
    weights = np.concatenate([pos_weights, neg_weights])
    is_positive = np.concatenate([np.ones(len(pos_values)), np.zeros(len(neg_values))])
    order = np.argsort(values, kind="stable")
    values, weights, is_positive = values[order], weights[order], is_positive[order]
    cumulative = np.cumsum(weights)
    edges = np.searchsorted(cumulative, np.linspace(0, cumulative[-1], bins + 1)[1:-1], side="right")
    groups = np.split(np.arange(len(values)), np.unique(edges))
    groups = [g for g in groups if len(g)]
    mass = np.array([weights[g].sum() for g in groups])
    centres = np.array([np.average(values[g], weights=weights[g]) for g in groups])
    observed = np.array([np.average(is_positive[g], weights=weights[g]) for g in groups])
    calibrated = isotonic_regression(observed, weights=mass).x
    raw_error = float(np.average(np.abs(observed - centres), weights=mass))
    calibrated_error = float(np.average(np.abs(observed - calibrated), weights=mass))
    return Calibration(centres, np.clip(calibrated, 0.0, 1.0), raw_error, calibrated_error)


def estimate(
    calibration: Calibration, positive_probability: NumericColumnProfile, threshold: float = 0.5
) -> dict[str, float | None]:
    """Expected accuracy, precision, recall, F1 and ROC AUC of an unlabelled window."""
    values, weights = sorted_weighted(positive_probability.sketch)
    if not len(values):
        return dict.fromkeys(("accuracy", "precision", "recall", "f1", "roc_auc"))
    c = calibration(values)
    predicted_positive = values >= threshold
    tp = float(np.sum(weights * c * predicted_positive))
    fp = float(np.sum(weights * (1 - c) * predicted_positive))
    fn = float(np.sum(weights * c * ~predicted_positive))
    tn = float(np.sum(weights * (1 - c) * ~predicted_positive))
    total = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / total,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": _expected_auc(values, weights, c),
    }


def _expected_auc(values: np.ndarray, weights: np.ndarray, c: np.ndarray) -> float | None:
    """P(a positive scores above a negative), positives and negatives drawn by calibrated weight."""
    positive_mass = weights * c
    negative_mass = weights * (1 - c)
    total_positive, total_negative = positive_mass.sum(), negative_mass.sum()
    if total_positive <= 0 or total_negative <= 0:
        return None
    # Group equal scores: a tie counts half.
    unique, inverse = np.unique(values, return_inverse=True)
    pos_by_value = np.bincount(inverse, weights=positive_mass, minlength=len(unique))
    neg_by_value = np.bincount(inverse, weights=negative_mass, minlength=len(unique))
    negatives_below = np.concatenate([[0.0], np.cumsum(neg_by_value)[:-1]])
    wins = pos_by_value * (negatives_below + 0.5 * neg_by_value)
    return float(wins.sum() / (total_positive * total_negative))
