"""Champion versus challenger: both served models scored on the same recent holdout, through the
same ONNX Runtime path production uses, and one decision with its reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from modelwatch.labels import label_of
from modelwatch.performance import ClassificationCounts, MulticlassCounts, RegressionMoments
from modelwatch.spec.models import LOWER_IS_BETTER, MonitoringSpec


class Classifier(Protocol):
    classes: list[str]

    def predict_proba(self, records: list[dict[str, Any]]) -> np.ndarray: ...


class Regressor(Protocol):
    def predict_values(self, records: list[dict[str, Any]]) -> np.ndarray: ...


def score_on(spec: MonitoringSpec, model: Classifier | Regressor, holdout: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The model's metrics for its task on the holdout columns (features and target)."""
    target = spec.columns.target
    assert target is not None
    rows = len(holdout[target])
    records = [{name: _plain(holdout[name][i]) for name in spec.features} for i in range(rows)]
    if spec.task == "regression":
        predicted_values = model.predict_values(records)  # type: ignore[union-attr]
        return RegressionMoments.from_rows(np.asarray(holdout[target], dtype=np.float64), predicted_values).metrics()
    probabilities = model.predict_proba(records)  # type: ignore[union-attr]
    predicted = [model.classes[i] for i in probabilities.argmax(axis=1)]  # type: ignore[union-attr]
    if spec.task == "multiclass":
        actual_labels = [label_of(v) for v in holdout[target]]
        return MulticlassCounts.from_rows(actual_labels, predicted, probabilities, model.classes).metrics()  # type: ignore[union-attr]
    positive = spec.columns.positive_class
    p_positive = probabilities[:, model.classes.index(positive)] if positive in model.classes else None
    actual = [label_of(v) for v in holdout[target]]
    return ClassificationCounts.from_rows(actual, predicted, p_positive, positive).metrics()


def _plain(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    metric: str
    champion_version: str | None
    champion: float | None
    challenger_version: str
    challenger: float | None
    holdout_rows: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    spec: MonitoringSpec,
    challenger_version: str,
    challenger: Mapping[str, float | None],
    champion_version: str | None,
    champion: Mapping[str, float | None] | None,
    holdout_rows: int,
) -> PromotionDecision:
    """Promote when the challenger beats the champion by `retraining.min_improvement` on the
    spec's performance metric, the task's main one by default (or there is no champion to beat).
    For an error (mae, rmse, mape, log loss) lower is better, and the margin is a share of the
    champion's error, as errors have units."""
    metric = spec.performance_metric
    margin = spec.retraining.min_improvement
    theirs = None if champion is None else champion.get(metric)
    ours = challenger.get(metric)

    def decision(promote: bool, reason: str) -> PromotionDecision:
        return PromotionDecision(
            promote, metric, champion_version, theirs, challenger_version, ours, holdout_rows, reason
        )

    if ours is None:
        return decision(False, f"the challenger's {metric} could not be computed on the holdout")
    if champion_version is None or theirs is None:
        return decision(True, f"no champion to compare with; challenger {metric} {ours:.4f}")
    if metric in LOWER_IS_BETTER:
        if ours <= theirs * (1 - margin):
            return decision(True, f"challenger {metric} {ours:.4f} <= champion {theirs:.4f} x (1 - {margin:g})")
        return decision(False, f"challenger {metric} {ours:.4f} > champion {theirs:.4f} x (1 - {margin:g})")
    if ours >= theirs + margin:
        return decision(True, f"challenger {metric} {ours:.4f} >= champion {theirs:.4f} + {margin:g}")
    return decision(False, f"challenger {metric} {ours:.4f} < champion {theirs:.4f} + {margin:g}")
