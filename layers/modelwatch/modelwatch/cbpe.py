"""Performance without labels: confidence-based performance estimation (CBPE), as NannyML does.

Calibration is fitted on the baseline holdout, where labels are known: reference P(positive)
values are cut into quantile bins, each bin's share of actual positives is made monotone with
isotonic regression, and a score maps to its bin's calibrated probability (linearly between bin
centres). It is applied only where it helps on held-out reference rows: the holdout's scores
are split in two by rank parity, a calibration fitted on each half is scored on the other, and
when the calibrated scores are not closer to the observed shares than the raw ones (expected
calibration error), the raw scores are used as they are.

For an unlabelled window, each row then counts as a fractional true positive (c) or
false positive (1 - c) when predicted positive, and as a false negative (c) or true negative
(1 - c) otherwise: the expected confusion matrix, and from it accuracy, precision, recall and F1.
The expected ROC AUC weighs every (positive, negative) ordering by those same probabilities.
Everything is read from sketches: exact up to their size, within their rank error beyond.

Multiclass: one calibration per class, one-vs-rest, on P(class) against "actual is the class".
Per class, the window's rows predicted as that class give expected true and false positives,
the others expected false negatives; macro and weighted averages and accuracy follow from those
expected per-class counts, as from real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression

from modelwatch.performance import ClassificationCounts, MulticlassCounts
from modelwatch.profiles.builder import SCORE_WHEN_NOT_PREDICTED, SCORE_WHEN_PREDICTED
from modelwatch.profiles.dataset import DatasetProfile
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
    # The same two errors on held-out halves of the holdout; calibration is applied only when
    # it makes the scores closer to the observed shares there.
    heldout_raw_error: float = float("nan")
    heldout_calibrated_error: float = float("nan")
    applied: bool = True

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        if not self.applied:
            return np.clip(scores, 0.0, 1.0)
        return np.interp(scores, self.centres, self.calibrated)

    def to_dict(self) -> dict[str, object]:
        return {
            "bins": len(self.centres),
            "applied": self.applied,
            "raw_calibration_error": self.raw_error,
            "calibrated_calibration_error": self.calibrated_error,
            "heldout_raw_calibration_error": _finite_or_none(self.heldout_raw_error),
            "heldout_calibrated_calibration_error": _finite_or_none(self.heldout_calibrated_error),
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _quantile_groups(weights: np.ndarray, bins: int) -> list[np.ndarray]:
    """Indices of sorted values cut into `bins` groups of (about) equal weight."""
    cumulative = np.cumsum(weights)
    edges = np.searchsorted(cumulative, np.linspace(0, cumulative[-1], bins + 1)[1:-1], side="right")
    return [g for g in np.split(np.arange(len(weights)), np.unique(edges)) if len(g)]


def _fit_bins(values, weights, is_positive, bins: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Bin centres, calibrated shares, and the raw and calibrated errors, on sorted values."""
    groups = _quantile_groups(weights, bins)
    mass = np.array([weights[g].sum() for g in groups])
    centres = np.array([np.average(values[g], weights=weights[g]) for g in groups])
    observed = np.array([np.average(is_positive[g], weights=weights[g]) for g in groups])
    calibrated = np.clip(isotonic_regression(observed, weights=mass).x, 0.0, 1.0)
    raw_error = float(np.average(np.abs(observed - centres), weights=mass))
    calibrated_error = float(np.average(np.abs(observed - calibrated), weights=mass))
    return centres, calibrated, raw_error, calibrated_error


def _calibration_error(predicted: np.ndarray, weights: np.ndarray, is_positive: np.ndarray, bins: int) -> float:
    """Expected calibration error: bins of (about) equal weight by predicted value, the weighted
    mean gap between the mean prediction and the share of positives in each."""
    order = np.argsort(predicted, kind="stable")
    predicted, weights, is_positive = predicted[order], weights[order], is_positive[order]
    groups = _quantile_groups(weights, bins)
    gaps = [
        abs(np.average(predicted[g], weights=weights[g]) - np.average(is_positive[g], weights=weights[g]))
        for g in groups
    ]
    return float(np.average(gaps, weights=[weights[g].sum() for g in groups]))


def fit_calibration_from_sketches(positives, negatives, bins: int = CALIBRATION_BINS) -> Calibration | None:
    """Fit on a score's values where the outcome happened (positives) and where not; None
    without both."""
    pos_values, pos_weights = sorted_weighted(positives)
    neg_values, neg_weights = sorted_weighted(negatives)
    if not len(pos_values) or not len(neg_values):
        return None
    values = np.concatenate([pos_values, neg_values])
    weights = np.concatenate([pos_weights, neg_weights])
    is_positive = np.concatenate([np.ones(len(pos_values)), np.zeros(len(neg_values))])
    order = np.argsort(values, kind="stable")
    values, weights, is_positive = values[order], weights[order], is_positive[order]
    centres, calibrated, raw_error, calibrated_error = _fit_bins(values, weights, is_positive, bins)
    heldout_raw, heldout_calibrated = _heldout_errors(values, weights, is_positive, bins)
    return Calibration(
        centres,
        calibrated,
        raw_error,
        calibrated_error,
        heldout_raw,
        heldout_calibrated,
        applied=not heldout_calibrated >= heldout_raw,  # NaN (too few rows to tell): calibrate
    )


def _heldout_errors(values, weights, is_positive, bins: int) -> tuple[float, float]:
    """Two-fold by rank parity: each half (alternate rows in score order, so both halves cover
    every score range) is calibrated on the other; the raw and calibrated errors, weighted."""
    if len(values) < 4 * bins:
        return float("nan"), float("nan")
    raw_total = calibrated_total = 0.0
    for parity in (0, 1):
        fit = np.arange(len(values)) % 2 == parity
        held = ~fit
        if len(np.unique(is_positive[fit])) < 2:
            return float("nan"), float("nan")
        centres, calibrated, _, _ = _fit_bins(values[fit], weights[fit], is_positive[fit], bins)
        share = weights[held].sum()
        raw_total += share * _calibration_error(values[held], weights[held], is_positive[held], bins)
        calibrated_scores = np.interp(values[held], centres, calibrated)
        calibrated_total += share * _calibration_error(calibrated_scores, weights[held], is_positive[held], bins)
    return raw_total / weights.sum(), calibrated_total / weights.sum()


def fit_calibration(reference: ClassificationCounts, bins: int = CALIBRATION_BINS) -> Calibration | None:
    """Fit on the holdout's P(positive) by class; None without both classes."""
    return fit_calibration_from_sketches(reference.positive_scores, reference.negative_scores, bins)


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


def fit_multiclass_calibration(
    reference: MulticlassCounts, bins: int = CALIBRATION_BINS
) -> dict[str, Calibration] | None:
    """One-vs-rest: per class, P(class) calibrated against "actual is the class"; None when a
    class lacks rows of its own or of others in the holdout."""
    calibrations = {}
    for label in reference.classes:
        calibration = fit_calibration_from_sketches(
            reference.in_class_scores[label], reference.other_class_scores[label], bins
        )
        if calibration is None:
            return None
        calibrations[label] = calibration
    return calibrations


def estimate_multiclass(calibrations: dict[str, Calibration], current: DatasetProfile) -> dict[str, object] | None:
    """Expected multiclass performance of an unlabelled window, under the performance keys."""
    expected: dict[str, dict[str, float]] = {}
    auc_parts = []
    log_loss_sum = 0.0
    rows = 0.0
    for label, calibration in calibrations.items():
        when_predicted = current.columns.get(SCORE_WHEN_PREDICTED + label)
        when_not = current.columns.get(SCORE_WHEN_NOT_PREDICTED + label)
        if not isinstance(when_predicted, NumericColumnProfile) or not isinstance(when_not, NumericColumnProfile):
            return None
        p_values, p_weights = sorted_weighted(when_predicted.sketch)
        n_values, n_weights = sorted_weighted(when_not.sketch)
        p_calibrated, n_calibrated = calibration(p_values), calibration(n_values)
        tp = float(np.sum(p_weights * p_calibrated))
        fp = float(np.sum(p_weights * (1 - p_calibrated)))
        fn = float(np.sum(n_weights * n_calibrated))
        expected[label] = {"tp": tp, "fp": fp, "fn": fn}
        rows += float(p_weights.sum())  # every row is predicted as exactly one class
        values = np.concatenate([p_values, n_values])
        weights = np.concatenate([p_weights, n_weights])
        calibrated = np.concatenate([p_calibrated, n_calibrated])
        auc_parts.append(_expected_auc(values, weights, calibrated))
        # Expected log loss: the row's class is this one with the calibrated probability.
        clipped = np.clip(values, np.finfo(np.float64).eps, 1 - np.finfo(np.float64).eps)
        log_loss_sum += float(np.sum(weights * calibrated * -np.log(clipped)))
    if rows <= 0:
        return None
    per_class: dict[str, dict[str, float]] = {}
    for label, c in expected.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": c["tp"] + c["fn"]}
    supports = np.array([c["support"] for c in per_class.values()])
    f1s = np.array([c["f1"] for c in per_class.values()])
    defined_aucs = [a for a in auc_parts if a is not None]
    return {
        "accuracy": sum(c["tp"] for c in expected.values()) / rows,
        "precision_macro": float(np.mean([c["precision"] for c in per_class.values()])),
        "recall_macro": float(np.mean([c["recall"] for c in per_class.values()])),
        "f1_macro": float(np.mean(f1s)),
        "f1_weighted": float(np.sum(f1s * supports) / supports.sum()) if supports.sum() else 0.0,
        "roc_auc_ovr": float(np.mean(defined_aucs)) if defined_aucs else None,
        "log_loss": log_loss_sum / rows,
        "per_class": per_class,
    }
