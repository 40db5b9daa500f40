"""Classification performance from mergeable counts.

A batch contributes a confusion matrix, the sum of log losses, and two quantile sketches of the
positive-class probability — one for actual positives, one for actual negatives. ROC AUC is
the probability that a positive outranks a negative (ties count half), computed from the two
sketches: exact while each holds under 2,000 scores, otherwise within the sketch's rank error.
The same probabilities are also counted on a fixed grid (score_histogram), exactly and the same
whatever the merge order: what CBPE calibrates on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelwatch.score_histogram import ScoreHistogram
from modelwatch.sketches import (
    QuantileSketch,
    new_sketch,
    sketch_from_text,
    sketch_to_text,
    sorted_weighted,
    update_sorted,
)
from modelwatch.spec.models import TASK_METRICS

LOG_LOSS_EPSILON = 1e-15
METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")


def roc_auc_from_sketches(positives: QuantileSketch, negatives: QuantileSketch) -> float | None:
    pos_values, pos_weights = sorted_weighted(positives)
    neg_values, neg_weights = sorted_weighted(negatives)
    if not len(pos_values) or not len(neg_values):
        return None  # AUC is undefined with a single class
    cumulative = np.concatenate([[0.0], np.cumsum(neg_weights)])
    below = cumulative[np.searchsorted(neg_values, pos_values, side="left")]
    at_or_below = cumulative[np.searchsorted(neg_values, pos_values, side="right")]
    wins = (below + 0.5 * (at_or_below - below)) * pos_weights
    return float(wins.sum() / (pos_weights.sum() * neg_weights.sum()))


@dataclass
class ClassificationCounts:
    positive_class: str
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (actual, predicted) -> n
    log_loss_sum: float = 0.0
    scored: int = 0
    positive_scores: QuantileSketch = field(default_factory=new_sketch)
    negative_scores: QuantileSketch = field(default_factory=new_sketch)
    # The same probabilities on CBPE's fixed grid (exact, deterministic).
    positive_histogram: ScoreHistogram = field(default_factory=ScoreHistogram)
    negative_histogram: ScoreHistogram = field(default_factory=ScoreHistogram)

    task = "binary"

    @classmethod
    def from_rows(
        cls, actual: list[str], predicted: list[str], positive_probability: np.ndarray | None, positive_class: str
    ) -> ClassificationCounts:
        """Count labelled rows; `positive_probability` may hold NaN where a row has no score."""
        counts = cls(positive_class=positive_class)
        pairs: dict[tuple[str, str], int] = {}
        for pair in zip(actual, predicted, strict=True):
            pairs[pair] = pairs.get(pair, 0) + 1
        counts.confusion = pairs
        if positive_probability is not None and len(actual):
            probability = np.asarray(positive_probability, dtype=np.float64)
            is_positive = np.array([a == positive_class for a in actual])
            scored = ~np.isnan(probability)
            update_sorted(counts.positive_scores, probability[scored & is_positive])
            update_sorted(counts.negative_scores, probability[scored & ~is_positive])
            counts.positive_histogram = ScoreHistogram.from_values(probability[scored & is_positive])
            counts.negative_histogram = ScoreHistogram.from_values(probability[scored & ~is_positive])
            clipped = np.clip(probability[scored], LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON)
            truth = is_positive[scored]
            counts.log_loss_sum = float(-(np.log(clipped[truth]).sum() + np.log1p(-clipped[~truth]).sum()))
            counts.scored = int(scored.sum())
        return counts

    def merged(self, *others: ClassificationCounts) -> ClassificationCounts:
        result = ClassificationCounts.from_dict(self.to_dict())
        for other in others:
            for pair, n in other.confusion.items():
                result.confusion[pair] = result.confusion.get(pair, 0) + n
            result.log_loss_sum += other.log_loss_sum
            result.scored += other.scored
            result.positive_scores.merge(other.positive_scores)
            result.negative_scores.merge(other.negative_scores)
        # Each histogram merged once, over all parts (one pass over the grid, not one per part).
        result.positive_histogram = self.positive_histogram.merged(*(o.positive_histogram for o in others))
        result.negative_histogram = self.negative_histogram.merged(*(o.negative_histogram for o in others))
        return result

    @property
    def total(self) -> int:
        return sum(self.confusion.values())

    @property
    def classes(self) -> list[str]:
        return sorted({label for pair in self.confusion for label in pair})

    def _precision_recall(self, label: str) -> tuple[float | None, float | None]:
        """None where undefined: precision without predictions of the label, recall without
        actual rows of it. Never 0.0: a window without positives did not score zero."""
        true_positive = self.confusion.get((label, label), 0)
        predicted = sum(n for (_, p), n in self.confusion.items() if p == label)
        actual = sum(n for (a, _), n in self.confusion.items() if a == label)
        precision = true_positive / predicted if predicted else None
        recall = true_positive / actual if actual else None
        return precision, recall

    def _targets(self) -> list[str]:
        labels = self.classes
        binary = len(labels) <= 2 and (self.positive_class in labels or len(labels) == 1)
        return [self.positive_class] if binary else labels

    def metrics(self) -> dict[str, float | None]:
        """accuracy, precision, recall, f1 (binary: of the positive class; else macro over the
        classes where each is defined), roc_auc, log_loss. None where undefined; see
        `undefined_reasons` for why."""
        if not self.total:
            return dict.fromkeys(METRIC_NAMES)
        accuracy = sum(n for (a, p), n in self.confusion.items() if a == p) / self.total
        precisions, recalls, f1s = [], [], []
        for label in self._targets():
            precision, recall = self._precision_recall(label)
            if precision is not None:
                precisions.append(precision)
            if recall is not None:
                recalls.append(recall)
            if precision is not None and recall is not None:
                f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        return {
            "accuracy": accuracy,
            "precision": float(np.mean(precisions)) if precisions else None,
            "recall": float(np.mean(recalls)) if recalls else None,
            "f1": float(np.mean(f1s)) if f1s else None,
            "roc_auc": roc_auc_from_sketches(self.positive_scores, self.negative_scores),
            "log_loss": self.log_loss_sum / self.scored if self.scored else None,
        }

    def undefined_reasons(self) -> dict[str, str]:
        """Why each metric that `metrics` gives as None is undefined on these rows."""
        if not self.total:
            return dict.fromkeys(METRIC_NAMES, "no labelled rows")
        values = self.metrics()
        positive = self.positive_class if self._targets() == [self.positive_class] else "any class"
        reasons = {
            "precision": f"no row predicted as {positive}",
            "recall": f"no row labelled {positive}",
            "f1": "precision or recall is undefined",
            "roc_auc": "needs scored rows of both classes",
            "log_loss": "no scored rows",
        }
        return {name: reason for name, reason in reasons.items() if values[name] is None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "positive_class": self.positive_class,
            "confusion": [[a, p, n] for (a, p), n in sorted(self.confusion.items())],
            "log_loss_sum": self.log_loss_sum,
            "scored": self.scored,
            "positive_scores": sketch_to_text(self.positive_scores),
            "negative_scores": sketch_to_text(self.negative_scores),
            "positive_histogram": self.positive_histogram.to_text(),
            "negative_histogram": self.negative_histogram.to_text(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassificationCounts:
        positive_scores = sketch_from_text(data["positive_scores"])
        negative_scores = sketch_from_text(data["negative_scores"])
        return cls(
            positive_class=str(data["positive_class"]),
            confusion={(str(a), str(p)): int(n) for a, p, n in data["confusion"]},
            log_loss_sum=float(data["log_loss_sum"]),
            scored=int(data["scored"]),
            positive_scores=positive_scores,
            negative_scores=negative_scores,
            positive_histogram=_histogram(data.get("positive_histogram"), positive_scores),
            negative_histogram=_histogram(data.get("negative_histogram"), negative_scores),
        )


def _histogram(text: str | None, sketch: QuantileSketch) -> ScoreHistogram:
    """A stored histogram, or (a profile written before they were kept) one read off the sketch."""
    return ScoreHistogram.from_text(text) if text is not None else ScoreHistogram.from_sketch(sketch)


# scikit-learn (1.5+) clips probabilities at float64's machine epsilon before the logarithm.
MULTICLASS_LOG_LOSS_EPSILON = float(np.finfo(np.float64).eps)
MULTICLASS_METRIC_NAMES = TASK_METRICS["multiclass"]


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class MulticlassCounts:
    """Multiclass performance from mergeable counts.

    The confusion counts give accuracy and every per-class and averaged precision, recall and
    F1. Per class, two quantile sketches of P(class) — rows of that class, rows of any other — give
    its one-vs-rest ROC AUC (as binary ROC AUC does) and are what CBPE calibrates on.
    """

    classes: list[str]  # the model's classes, in the order of its probability columns
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (actual, predicted) -> n
    log_loss_sum: float = 0.0
    scored: int = 0  # rows with probabilities and an actual class the model knows
    in_class_scores: dict[str, QuantileSketch] = field(default_factory=dict)
    other_class_scores: dict[str, QuantileSketch] = field(default_factory=dict)
    # The same probabilities on CBPE's fixed grid (exact, deterministic).
    in_class_histograms: dict[str, ScoreHistogram] = field(default_factory=dict)
    other_class_histograms: dict[str, ScoreHistogram] = field(default_factory=dict)

    task = "multiclass"

    @classmethod
    def from_rows(
        cls, actual: list[str], predicted: list[str], probabilities: np.ndarray | None, classes: list[str]
    ) -> MulticlassCounts:
        """Count labelled rows; `probabilities` has one column per class (rows of NaN: no scores)."""
        counts = cls(classes=list(classes))
        for pair in zip(actual, predicted, strict=True):
            counts.confusion[pair] = counts.confusion.get(pair, 0) + 1
        for label in classes:
            counts.in_class_scores[label] = new_sketch()
            counts.other_class_scores[label] = new_sketch()
            counts.in_class_histograms[label] = ScoreHistogram()
            counts.other_class_histograms[label] = ScoreHistogram()
        if probabilities is None or not len(actual):
            return counts
        probabilities = np.asarray(probabilities, dtype=np.float64).reshape(len(actual), len(classes))
        index_of = {label: i for i, label in enumerate(classes)}
        actual_index = np.array([index_of.get(a, -1) for a in actual])
        usable = (actual_index >= 0) & ~np.isnan(probabilities).any(axis=1)
        probabilities, actual_index = probabilities[usable], actual_index[usable]
        for i, label in enumerate(classes):
            is_class = actual_index == i
            update_sorted(counts.in_class_scores[label], probabilities[is_class, i])
            update_sorted(counts.other_class_scores[label], probabilities[~is_class, i])
            counts.in_class_histograms[label] = ScoreHistogram.from_values(probabilities[is_class, i])
            counts.other_class_histograms[label] = ScoreHistogram.from_values(probabilities[~is_class, i])
        if len(actual_index):
            of_actual = probabilities[np.arange(len(actual_index)), actual_index]
            clipped = np.clip(of_actual, MULTICLASS_LOG_LOSS_EPSILON, 1 - MULTICLASS_LOG_LOSS_EPSILON)
            counts.log_loss_sum = float(-np.log(clipped).sum())
        counts.scored = len(actual_index)
        return counts

    def merged(self, *others: MulticlassCounts) -> MulticlassCounts:
        result = MulticlassCounts.from_dict(self.to_dict())
        for other in others:
            for label in other.classes:
                if label not in result.classes:
                    result.classes.append(label)
                    result.in_class_scores[label] = new_sketch()
                    result.other_class_scores[label] = new_sketch()
                    result.in_class_histograms[label] = ScoreHistogram()
                    result.other_class_histograms[label] = ScoreHistogram()
                result.in_class_scores[label].merge(other.in_class_scores[label])
                result.other_class_scores[label].merge(other.other_class_scores[label])
            for pair, n in other.confusion.items():
                result.confusion[pair] = result.confusion.get(pair, 0) + n
            result.log_loss_sum += other.log_loss_sum
            result.scored += other.scored
        # Each class's histograms merged once, over all parts that have the class.
        for label in result.classes:
            for histograms in ("in_class_histograms", "other_class_histograms"):
                parts = [getattr(p, histograms)[label] for p in (self, *others) if label in getattr(p, histograms)]
                getattr(result, histograms)[label] = parts[0].merged(*parts[1:])
        return result

    @property
    def total(self) -> int:
        return sum(self.confusion.values())

    def per_class(self) -> dict[str, dict[str, float | int]]:
        """precision, recall, f1 and support of every class seen as actual or predicted
        (scikit-learn's labels: a class never predicted has precision 0)."""
        labels = sorted({label for pair in self.confusion for label in pair})
        result: dict[str, dict[str, float | int]] = {}
        for label in labels:
            true_positive = self.confusion.get((label, label), 0)
            predicted = sum(n for (_, p), n in self.confusion.items() if p == label)
            support = sum(n for (a, _), n in self.confusion.items() if a == label)
            precision = true_positive / predicted if predicted else 0.0
            recall = true_positive / support if support else 0.0
            result[label] = {"precision": precision, "recall": recall, "f1": _f1(precision, recall), "support": support}
        return result

    def roc_auc_ovr(self) -> float | None:
        """Macro mean of each class's one-vs-rest AUC, over the classes that have rows of their
        own and of others (scikit-learn refuses when any class has no rows; this averages the rest)."""
        aucs = [
            roc_auc_from_sketches(self.in_class_scores[label], self.other_class_scores[label]) for label in self.classes
        ]
        defined = [auc for auc in aucs if auc is not None]
        return float(np.mean(defined)) if defined else None

    def metrics(self) -> dict[str, Any]:
        if not self.total:
            return dict.fromkeys(MULTICLASS_METRIC_NAMES) | {"per_class": {}}
        per_class = self.per_class()
        accuracy = sum(n for (a, p), n in self.confusion.items() if a == p) / self.total
        supports = np.array([c["support"] for c in per_class.values()], dtype=np.float64)
        f1s = np.array([c["f1"] for c in per_class.values()])
        return {
            "accuracy": accuracy,
            "precision_macro": float(np.mean([c["precision"] for c in per_class.values()])),
            "recall_macro": float(np.mean([c["recall"] for c in per_class.values()])),
            "f1_macro": float(np.mean(f1s)),
            "f1_weighted": float(np.sum(f1s * supports) / supports.sum()) if supports.sum() else 0.0,
            "roc_auc_ovr": self.roc_auc_ovr(),
            "log_loss": self.log_loss_sum / self.scored if self.scored else None,
            "per_class": per_class,
        }

    def undefined_reasons(self) -> dict[str, str]:
        """Why each metric that `metrics` gives as None is undefined on these rows (the drift
        report says it, as ClassificationCounts does)."""
        if not self.total:
            return dict.fromkeys(MULTICLASS_METRIC_NAMES, "no labelled rows")
        values = self.metrics()
        reasons = {
            "roc_auc_ovr": "no class has scored rows of its own and of other classes",
            "log_loss": "no scored rows of a class the model knows",
        }
        return {name: reason for name, reason in reasons.items() if values[name] is None}

    def confusion_matrix(self) -> tuple[list[str], list[list[int]]]:
        """Labels and rows (actual) by columns (predicted), for the report."""
        labels = sorted({label for pair in self.confusion for label in pair})
        return labels, [[self.confusion.get((a, p), 0) for p in labels] for a in labels]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "classes": list(self.classes),
            "confusion": [[a, p, n] for (a, p), n in sorted(self.confusion.items())],
            "log_loss_sum": self.log_loss_sum,
            "scored": self.scored,
            "in_class_scores": {c: sketch_to_text(self.in_class_scores[c]) for c in self.classes},
            "other_class_scores": {c: sketch_to_text(self.other_class_scores[c]) for c in self.classes},
            "in_class_histograms": {c: self.in_class_histograms[c].to_text() for c in self.classes},
            "other_class_histograms": {c: self.other_class_histograms[c].to_text() for c in self.classes},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MulticlassCounts:
        in_class = {str(c): sketch_from_text(t) for c, t in data["in_class_scores"].items()}
        other_class = {str(c): sketch_from_text(t) for c, t in data["other_class_scores"].items()}
        in_histograms = data.get("in_class_histograms", {})
        other_histograms = data.get("other_class_histograms", {})
        return cls(
            classes=[str(c) for c in data["classes"]],
            confusion={(str(a), str(p)): int(n) for a, p, n in data["confusion"]},
            log_loss_sum=float(data["log_loss_sum"]),
            scored=int(data["scored"]),
            in_class_scores=in_class,
            other_class_scores=other_class,
            in_class_histograms={c: _histogram(in_histograms.get(c), s) for c, s in in_class.items()},
            other_class_histograms={c: _histogram(other_histograms.get(c), s) for c, s in other_class.items()},
        )


REGRESSION_METRIC_NAMES = ("mae", "rmse", "mape", "r2")
# scikit-learn's mean_absolute_percentage_error divides by max(|y|, machine epsilon).
MAPE_EPSILON = float(np.finfo(np.float64).eps)


@dataclass
class RegressionMoments:
    """Regression performance from mergeable sums.

    Sums of |e|, e² and |e|/|y| give MAE, RMSE and MAPE; the target's count, mean and sum of
    squared deviations (merged with Chan et al.'s update, stable where sums of y and y² would
    cancel) give R² = 1 - Σe² / Σ(y - ȳ)². A quantile sketch of the signed error e = prediction -
    actual keeps the error distribution for the report.
    """

    count: int = 0
    abs_error_sum: float = 0.0
    squared_error_sum: float = 0.0
    abs_percentage_error_sum: float = 0.0
    target_mean: float = 0.0
    target_m2: float = 0.0
    errors: QuantileSketch = field(default_factory=new_sketch)

    task = "regression"

    @classmethod
    def from_rows(cls, actual: np.ndarray, predicted: np.ndarray) -> RegressionMoments:
        """Rows where both values are finite numbers count; the others are skipped."""
        actual = np.asarray(actual, dtype=np.float64)
        predicted = np.asarray(predicted, dtype=np.float64)
        usable = np.isfinite(actual) & np.isfinite(predicted)
        actual, predicted = actual[usable], predicted[usable]
        moments = cls(count=len(actual))
        if not len(actual):
            return moments
        error = predicted - actual
        absolute = np.abs(error)
        moments.abs_error_sum = float(absolute.sum())
        moments.squared_error_sum = float(np.square(error).sum())
        moments.abs_percentage_error_sum = float((absolute / np.maximum(np.abs(actual), MAPE_EPSILON)).sum())
        moments.target_mean = float(actual.mean())
        moments.target_m2 = float(np.square(actual - moments.target_mean).sum())
        update_sorted(moments.errors, error)
        return moments

    def merged(self, *others: RegressionMoments) -> RegressionMoments:
        result = RegressionMoments.from_dict(self.to_dict())
        for other in others:
            if not other.count:
                continue
            total = result.count + other.count
            delta = other.target_mean - result.target_mean
            result.target_mean += delta * other.count / total
            result.target_m2 += other.target_m2 + delta * delta * result.count * other.count / total
            result.count = total
            result.abs_error_sum += other.abs_error_sum
            result.squared_error_sum += other.squared_error_sum
            result.abs_percentage_error_sum += other.abs_percentage_error_sum
            result.errors.merge(other.errors)
        return result

    @property
    def total(self) -> int:
        return self.count

    def metrics(self) -> dict[str, float | None]:
        if not self.count:
            return dict.fromkeys(REGRESSION_METRIC_NAMES)
        return {
            "mae": self.abs_error_sum / self.count,
            "rmse": float(np.sqrt(self.squared_error_sum / self.count)),
            "mape": self.abs_percentage_error_sum / self.count,
            # Undefined (None, not scikit-learn's conventional 0 or 1) when the target is constant.
            "r2": 1.0 - self.squared_error_sum / self.target_m2 if self.target_m2 > 0 else None,
        }

    def undefined_reasons(self) -> dict[str, str]:
        """Why each metric that `metrics` gives as None is undefined on these rows."""
        if not self.count:
            return dict.fromkeys(REGRESSION_METRIC_NAMES, "no labelled rows with a numeric value and prediction")
        return {} if self.target_m2 > 0 else {"r2": "the labelled values are all the same"}

    def error_quantiles(self, ranks: list[float]) -> list[float]:
        """Quantiles of the signed error (prediction - actual), for the report."""
        return [] if self.errors.is_empty() else list(self.errors.get_quantiles(ranks))

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "count": self.count,
            "abs_error_sum": self.abs_error_sum,
            "squared_error_sum": self.squared_error_sum,
            "abs_percentage_error_sum": self.abs_percentage_error_sum,
            "target_mean": self.target_mean,
            "target_m2": self.target_m2,
            "errors": sketch_to_text(self.errors),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegressionMoments:
        return cls(
            count=int(data["count"]),
            abs_error_sum=float(data["abs_error_sum"]),
            squared_error_sum=float(data["squared_error_sum"]),
            abs_percentage_error_sum=float(data["abs_percentage_error_sum"]),
            target_mean=float(data["target_mean"]),
            target_m2=float(data["target_m2"]),
            errors=sketch_from_text(data["errors"]),
        )


PerformanceCounts = ClassificationCounts | MulticlassCounts | RegressionMoments


def performance_from_dict(data: dict[str, Any]) -> PerformanceCounts:
    """Any task's counts; binary ones (stored before tasks existed) carry no "task" key."""
    task = data.get("task", "binary")
    if task == "multiclass":
        return MulticlassCounts.from_dict(data)
    if task == "regression":
        return RegressionMoments.from_dict(data)
    return ClassificationCounts.from_dict(data)
