"""Performance without labels: confidence-based performance estimation (CBPE), as NannyML does.

Everything is read from score histograms (modelwatch.score_histogram): probabilities counted
exactly on a fixed grid, so the same rows give the same estimates every run, whatever the
batches and merge order.

Calibration is fitted on the baseline holdout, where labels are known. A grid point holds rows
of both classes (scores given to two decimals put hundreds of rows of each class on one point):
it is one observation, its share of positives, weighted by its rows, and never split between
classes. The points are cut into groups of about CALIBRATION_GROUP_ROWS rows, never cutting a
point (a point holding more is a group of its own; sparse points are pooled with their
neighbours), each group's share of positives is made monotone with isotonic regression, and a
score maps to its group's calibrated probability, linearly between group centres. Where every
point holds that many rows (scores given to two decimals), this is isotonic calibration by
distinct score, scikit-learn's and so NannyML's; where scores are continuous, a share of
positives rests on a few dozen rows rather than on single rows' outcomes.

A share is only estimable when its group holds some rows of each outcome: with a rare outcome
(a class of 3% against the rest), a group of 25 rows holds none of it on average, and isotonic
regression fits the noise of where its few rows fell. So there are never more groups than leave
MIN_GROUP_OUTCOMES rows of the rarer outcome per group on average (the usual condition for a
binomial share, n*p >= 5): with balanced outcomes the row rule decides, with a rare one the
groups widen until each can see it.

It is applied only where it helps on rows it was not fitted on: the holdout's rows are split in
two at random (per grid point, its positives and negatives drawn without replacement; the
generator seeded from the counts themselves, so the same holdout always splits the same way),
each half is calibrated on the other, and calibration is kept unless the calibrated scores are
further from the held-out shares than the raw ones (expected calibration error), by more than
their own noise: a tie keeps it, so no decision rests on a knife edge.

For an unlabelled window, each row then counts as a fractional true positive (c) or
false positive (1 - c) when predicted positive, and as a false negative (c) or true negative
(1 - c) otherwise: the expected confusion matrix, and from it accuracy, precision, recall and F1.
The expected ROC AUC weighs every (positive, negative) ordering by those same probabilities.

Multiclass: one calibration per class, one-vs-rest, on P(class) against "actual is the class".
Calibrated one class at a time, a row's probabilities no longer sum to one; as NannyML does, each
is divided by its row's sum. Per class, the window's rows predicted as that class give expected
true and false positives, the others expected false negatives; macro and weighted averages and
accuracy follow from those expected per-class counts, as from real ones. The counts before the
division come from the exact histograms; the division's effect (normalized minus unnormalized,
per class and side) is read from the window's sample of whole rows (profiles.score_sample),
scaled to the window's rows: exact for a window the sample holds whole, and for a larger one a
correction whose sampling noise is that of a small difference, not of the estimate. The sample's
probabilities are put on the histograms' grid before they are calibrated, so that for a window
held whole the correction is of exactly the values the histograms sum (calibrating the exact
probability instead moved a row's value by the interpolation between two grid points, which the
histogram side never sees).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression

from modelwatch.performance import ClassificationCounts, MulticlassCounts
from modelwatch.profiles.builder import POSITIVE_PROBABILITY, SCORE_WHEN_NOT_PREDICTED, SCORE_WHEN_PREDICTED
from modelwatch.profiles.dataset import DatasetProfile
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.profiles.score_sample import ClassScoreSample
from modelwatch.score_histogram import ScoreHistogram, grid_indices, grid_probabilities

# Rows per calibration group, about (a point holding more is a group of its own).
CALIBRATION_GROUP_ROWS = 25
# Rows of the rarer outcome per calibration group, on average, at least.
MIN_GROUP_OUTCOMES = 5
# Expected calibration error: this many bins of (about) equal rows.
ERROR_BINS = 10
# Held-out check: this many random halvings of the holdout, each half scored once.
HELDOUT_SPLITS = 5
# A holdout smaller than this is too small to tell whether calibrating helps: calibrate.
HELDOUT_MIN_ROWS = 200


@dataclass(frozen=True)
class Calibration:
    centres: np.ndarray  # mean score of each group
    calibrated: np.ndarray  # monotone share of positives in each group
    # Expected calibration error of the raw scores on the holdout (how far from calibrated
    # the model was), and of the calibrated ones (how well the mapping fits).
    raw_error: float
    calibrated_error: float
    # The same two errors on held-out halves of the holdout; calibration is applied unless it
    # makes the scores further from the observed shares there.
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


@dataclass(frozen=True)
class _Labelled:
    """Labelled rows by distinct score: ascending scores, rows of each class at each score."""

    scores: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray

    @property
    def rows(self) -> np.ndarray:
        return self.positives + self.negatives

    @classmethod
    def from_histograms(cls, positives: ScoreHistogram, negatives: ScoreHistogram) -> _Labelled:
        held = np.union1d(positives.indices, negatives.indices)
        on_positive = np.zeros(len(held))
        on_positive[np.searchsorted(held, positives.indices)] = positives.counts
        on_negative = np.zeros(len(held))
        on_negative[np.searchsorted(held, negatives.indices)] = negatives.counts
        return cls(grid_probabilities(held), on_positive, on_negative)

    def part(self, positives: np.ndarray, negatives: np.ndarray) -> _Labelled:
        held = positives + negatives > 0
        return _Labelled(self.scores[held], positives[held], negatives[held])


def _groups(rows: np.ndarray, count: int) -> list[np.ndarray]:
    """Indices of consecutive points cut into `count` groups of (about) equal rows; a point is
    never cut."""
    cumulative = np.cumsum(rows)
    targets = np.linspace(0, cumulative[-1], count + 1)[1:-1]
    edges = np.unique(np.searchsorted(cumulative, targets, side="left") + 1)
    return [g for g in np.split(np.arange(len(rows)), edges[edges < len(rows)]) if len(g)]


def _group_count(data: _Labelled) -> int:
    """About CALIBRATION_GROUP_ROWS rows per group, and on average at least MIN_GROUP_OUTCOMES rows
    of the rarer outcome."""
    rarer = min(data.positives.sum(), data.negatives.sum())
    return int(max(2, min(data.rows.sum() // CALIBRATION_GROUP_ROWS, rarer // MIN_GROUP_OUTCOMES)))


def _fit_map(data: _Labelled) -> tuple[np.ndarray, np.ndarray]:
    """Group centres and their monotone shares of positives."""
    rows = data.rows
    groups = _groups(rows, _group_count(data))
    mass = np.array([rows[g].sum() for g in groups])
    centres = np.array([np.average(data.scores[g], weights=rows[g]) for g in groups])
    observed = np.array([data.positives[g].sum() for g in groups]) / mass
    calibrated = np.clip(isotonic_regression(observed, weights=mass).x, 0.0, 1.0)
    return centres, calibrated


def _calibration_error(predicted: np.ndarray, data: _Labelled) -> float:
    """Expected calibration error: rows in ERROR_BINS bins of (about) equal rows by predicted
    value (equal predictions never cut), the rows-weighted mean gap between each bin's mean
    prediction and its share of positives."""
    order = np.argsort(predicted, kind="stable")
    predicted, positives, rows = predicted[order], data.positives[order], data.rows[order]
    # Points with the same prediction (a calibrated plateau) stay in one bin.
    starts = np.flatnonzero(np.concatenate(([True], predicted[1:] != predicted[:-1])))
    distinct_rows = np.add.reduceat(rows, starts)
    gaps, masses = [], []
    for group in _groups(distinct_rows, ERROR_BINS):
        members = np.arange(starts[group[0]], starts[group[-1] + 1] if group[-1] + 1 < len(starts) else len(rows))
        mass = rows[members].sum()
        gaps.append(abs(np.sum(predicted[members] * rows[members]) - positives[members].sum()) / mass)
        masses.append(mass)
    return float(np.average(gaps, weights=masses))


def _seed(data: _Labelled) -> int:
    """The same holdout, the same seed: a digest of its counts."""
    digest = hashlib.sha256(data.scores.tobytes() + data.positives.tobytes() + data.negatives.tobytes()).digest()
    return int.from_bytes(digest[:8], "little")


def _heldout_errors(data: _Labelled) -> tuple[float, float, float]:
    """Raw and calibrated expected calibration errors on held-out halves (calibrated on the
    other half), averaged over HELDOUT_SPLITS random halvings, and the standard error of their
    difference; NaN when the holdout is too small to tell."""
    if data.rows.sum() < HELDOUT_MIN_ROWS:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(_seed(data))
    raw, calibrated = [], []
    positives, negatives = data.positives.astype(np.int64), data.negatives.astype(np.int64)
    for _ in range(HELDOUT_SPLITS):
        half = rng.binomial(positives + negatives, 0.5)
        half_positives = rng.hypergeometric(positives, negatives, half) if len(half) else half
        first = data.part(half_positives.astype(np.float64), (half - half_positives).astype(np.float64))
        second = data.part(
            (positives - half_positives).astype(np.float64),
            (negatives - half + half_positives).astype(np.float64),
        )
        for fit, held in ((first, second), (second, first)):
            if not fit.positives.sum() or not fit.negatives.sum() or not held.rows.sum():
                return float("nan"), float("nan"), float("nan")
            centres, shares = _fit_map(fit)
            raw.append(_calibration_error(held.scores, held))
            calibrated.append(_calibration_error(np.interp(held.scores, centres, shares), held))
    difference = np.asarray(calibrated) - np.asarray(raw)
    standard_error = float(difference.std(ddof=1) / np.sqrt(len(difference)))
    return float(np.mean(raw)), float(np.mean(calibrated)), standard_error


def fit_calibration_from_histograms(positives: ScoreHistogram, negatives: ScoreHistogram) -> Calibration | None:
    """Fit on a score's values where the outcome happened (positives) and where not; None
    without both."""
    if not positives.total or not negatives.total:
        return None
    data = _Labelled.from_histograms(positives, negatives)
    centres, calibrated = _fit_map(data)
    heldout_raw, heldout_calibrated, noise = _heldout_errors(data)
    # Calibrate unless it is clearly worse on held-out rows (NaN, too few rows to tell: calibrate).
    worse = heldout_calibrated - heldout_raw > 2 * noise
    return Calibration(
        centres,
        calibrated,
        _calibration_error(data.scores, data),
        _calibration_error(np.interp(data.scores, centres, calibrated), data),
        heldout_raw,
        heldout_calibrated,
        applied=not bool(worse),
    )


def fit_calibration(reference: ClassificationCounts) -> Calibration | None:
    """Fit on the holdout's P(positive) by class; None without both classes."""
    return fit_calibration_from_histograms(reference.positive_histogram, reference.negative_histogram)


def binary_score_histograms(
    current: DatasetProfile, positive_class: str, threshold: float = 0.5
) -> tuple[ScoreHistogram, ScoreHistogram] | None:
    """P(positive) on the window's rows predicted positive and on the others; a profile written
    before score histograms were kept gives them from its P(positive) sketch, split at
    `threshold`. None without scores."""
    predicted = current.score_histograms.get(SCORE_WHEN_PREDICTED + positive_class)
    not_predicted = current.score_histograms.get(SCORE_WHEN_NOT_PREDICTED + positive_class)
    if predicted is not None and not_predicted is not None:
        return predicted, not_predicted
    column = current.columns.get(POSITIVE_PROBABILITY)
    if not isinstance(column, NumericColumnProfile) or not column.valid:
        return None
    return ScoreHistogram.from_sketch(column.sketch).split(threshold)


def estimate(
    calibration: Calibration, predicted_positive: ScoreHistogram, predicted_negative: ScoreHistogram
) -> dict[str, float | None]:
    """Expected accuracy, precision, recall, F1 and ROC AUC of an unlabelled window, from its
    P(positive) on the rows predicted positive and on the others."""
    p_values, p_weights = predicted_positive.points()
    n_values, n_weights = predicted_negative.points()
    if not len(p_values) and not len(n_values):
        return dict.fromkeys(("accuracy", "precision", "recall", "f1", "roc_auc"))
    p_calibrated, n_calibrated = calibration(p_values), calibration(n_values)
    tp = float(np.sum(p_weights * p_calibrated))
    fp = float(np.sum(p_weights * (1 - p_calibrated)))
    fn = float(np.sum(n_weights * n_calibrated))
    tn = float(np.sum(n_weights * (1 - n_calibrated)))
    total = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / total,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": _expected_auc(
            np.concatenate([p_values, n_values]),
            np.concatenate([p_weights, n_weights]),
            np.concatenate([p_calibrated, n_calibrated]),
        ),
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


def fit_multiclass_calibration(reference: MulticlassCounts) -> dict[str, Calibration] | None:
    """One-vs-rest: per class, P(class) calibrated against "actual is the class"; None when a
    class lacks rows of its own or of others in the holdout."""
    calibrations = {}
    for label in reference.classes:
        calibration = fit_calibration_from_histograms(
            reference.in_class_histograms[label], reference.other_class_histograms[label]
        )
        if calibration is None:
            return None
        calibrations[label] = calibration
    return calibrations


def _class_histograms(current: DatasetProfile, label: str) -> tuple[ScoreHistogram, ScoreHistogram] | None:
    """P(class) where the class was predicted and where not: the exact histograms, or (a profile
    written before they were kept) read off the sketched columns."""
    when_predicted = current.score_histograms.get(SCORE_WHEN_PREDICTED + label)
    when_not = current.score_histograms.get(SCORE_WHEN_NOT_PREDICTED + label)
    if when_predicted is not None and when_not is not None:
        return when_predicted, when_not
    columns = [current.columns.get(SCORE_WHEN_PREDICTED + label), current.columns.get(SCORE_WHEN_NOT_PREDICTED + label)]
    if not all(isinstance(column, NumericColumnProfile) for column in columns):
        return None
    return ScoreHistogram.from_sketch(columns[0].sketch), ScoreHistogram.from_sketch(columns[1].sketch)  # type: ignore[union-attr]


def _normalization_shifts(
    calibrations: dict[str, Calibration], sample: ClassScoreSample | None
) -> dict[str, tuple[float, float]]:
    """Per class, how much dividing calibrated probabilities by their row's sum moves its expected
    true positives (rows predicted as it) and false negatives (the others), over the window's
    rows; no shift without a sample of the same classes."""
    if sample is None or list(sample.classes) != list(calibrations) or not len(sample.predicted):
        return {}
    # On the grid, as the histograms hold them: the correction is of the same calibrated values.
    calibrated = np.column_stack(
        [
            calibration(grid_probabilities(grid_indices(sample.probabilities[:, i])))
            for i, calibration in enumerate(calibrations.values())
        ]
    )
    sums = calibrated.sum(axis=1, keepdims=True)
    normalized = np.divide(calibrated, sums, out=calibrated.copy(), where=sums > 0)
    shift = normalized - calibrated
    scale = sample.rows / len(sample.predicted)
    shifts = {}
    for i, label in enumerate(calibrations):
        predicted = sample.predicted == i
        shifts[label] = (scale * float(shift[predicted, i].sum()), scale * float(shift[~predicted, i].sum()))
    return shifts


def estimate_multiclass(calibrations: dict[str, Calibration], current: DatasetProfile) -> dict[str, object] | None:
    """Expected multiclass performance of an unlabelled window, under the performance keys."""
    shifts = _normalization_shifts(calibrations, current.score_sample)
    expected: dict[str, dict[str, float]] = {}
    auc_parts = []
    log_loss_sum = 0.0
    rows = 0.0
    for label, calibration in calibrations.items():
        histograms = _class_histograms(current, label)
        if histograms is None:
            return None
        p_values, p_weights = histograms[0].points()
        n_values, n_weights = histograms[1].points()
        p_calibrated, n_calibrated = calibration(p_values), calibration(n_values)
        predicted_rows = float(p_weights.sum())
        tp_shift, fn_shift = shifts.get(label, (0.0, 0.0))
        tp = min(max(float(np.sum(p_weights * p_calibrated)) + tp_shift, 0.0), predicted_rows)
        fn = max(float(np.sum(n_weights * n_calibrated)) + fn_shift, 0.0)
        expected[label] = {"tp": tp, "fp": predicted_rows - tp, "fn": fn}
        rows += predicted_rows  # every row is predicted as exactly one class
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
