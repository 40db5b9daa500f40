"""Classification performance from mergeable counts.

A batch contributes a confusion matrix, the sum of log losses, and two KLL sketches of the
positive-class probability — one for actual positives, one for actual negatives. ROC AUC is
the probability that a positive outranks a negative (ties count half), computed from the two
sketches: exact while each holds under 2,000 scores, otherwise within the sketch's rank error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasketches import kll_doubles_sketch

from modelwatch.sketches import new_sketch, sketch_from_text, sketch_to_text, sorted_weighted, update_sorted

LOG_LOSS_EPSILON = 1e-15
METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")


def roc_auc_from_sketches(positives: kll_doubles_sketch, negatives: kll_doubles_sketch) -> float | None:
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
    positive_scores: kll_doubles_sketch = field(default_factory=new_sketch)
    negative_scores: kll_doubles_sketch = field(default_factory=new_sketch)

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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassificationCounts:
        return cls(
            positive_class=str(data["positive_class"]),
            confusion={(str(a), str(p)): int(n) for a, p, n in data["confusion"]},
            log_loss_sum=float(data["log_loss_sum"]),
            scored=int(data["scored"]),
            positive_scores=sketch_from_text(data["positive_scores"]),
            negative_scores=sketch_from_text(data["negative_scores"]),
        )
