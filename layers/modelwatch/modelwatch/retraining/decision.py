"""Champion versus challenger: both served models answer the same recent holdout through the same
ONNX Runtime path production uses, the task's metric scores them, and the challenger is promoted
only when its improvement is both significant (modelwatch.retraining.significance) and at least
`retraining.min_improvement`. A holdout that cannot tell them apart ends as "not enough data"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from modelwatch.labels import label_of
from modelwatch.performance import ClassificationCounts, MulticlassCounts, RegressionMoments
from modelwatch.retraining.significance import (
    SignificanceResult,
    mcnemar_exact,
    paired_bootstrap,
    smallest_testable_rows,
)
from modelwatch.spec.models import LOWER_IS_BETTER, MonitoringSpec

Outcome = Literal["promote", "reject", "not_enough_data"]
# The metrics computed from probabilities; the others need only the predicted labels, and
# leaving the probabilities out spares the bootstrap a sketch per class on every resample.
FROM_SCORES = frozenset({"roc_auc", "roc_auc_ovr", "log_loss"})


class Classifier(Protocol):
    classes: list[str]

    def predict_proba(self, records: list[dict[str, Any]]) -> np.ndarray: ...


class Regressor(Protocol):
    def predict(self, records: list[dict[str, Any]]) -> np.ndarray: ...


@dataclass(frozen=True)
class Answers:
    """One model's answers on the holdout: a classifier's predicted labels and probabilities (in
    `classes` order), or a regressor's values in `predicted`."""

    predicted: np.ndarray
    probabilities: np.ndarray | None = None
    classes: list[str] = field(default_factory=list)


def answers_on(spec: MonitoringSpec, model: Classifier | Regressor, holdout: Mapping[str, np.ndarray]) -> Answers:
    rows = len(holdout[_target(spec)])
    records = [{name: _plain(holdout[name][i]) for name in spec.features} for i in range(rows)]
    if spec.task == "regression":
        return Answers(np.asarray(model.predict(records), dtype=np.float64))  # type: ignore[union-attr]
    probabilities = np.asarray(model.predict_proba(records), dtype=np.float64)  # type: ignore[union-attr]
    classes = list(model.classes)  # type: ignore[union-attr]
    predicted = np.array([classes[i] for i in probabilities.argmax(axis=1)], dtype=object)
    return Answers(predicted, probabilities, classes)


def actual_of(spec: MonitoringSpec, holdout: Mapping[str, np.ndarray]) -> np.ndarray:
    """The holdout's target as the metrics compare it: numbers, or class labels."""
    values = holdout[_target(spec)]
    if spec.task == "regression":
        return np.asarray(values, dtype=np.float64)
    return np.array([label_of(v) for v in values], dtype=object)


def metrics_of(
    spec: MonitoringSpec, actual: np.ndarray, answers: Answers, rows: np.ndarray | None = None, scores: bool = True
) -> dict[str, Any]:
    """The task's performance keys on `rows` of the holdout (all of them by default), computed as
    the drift check computes them from production's labels; without `scores`, those FROM_SCORES
    are left undefined."""
    picked = slice(None) if rows is None else rows
    truth = actual[picked]
    if spec.task == "regression":
        return RegressionMoments.from_rows(truth, answers.predicted[picked]).metrics()
    assert answers.probabilities is not None
    probabilities = answers.probabilities[picked] if scores else None
    predicted = list(answers.predicted[picked])
    if spec.task == "multiclass":
        return MulticlassCounts.from_rows(list(truth), predicted, probabilities, answers.classes).metrics()
    positive = spec.columns.positive_class
    usable = probabilities is not None and positive in answers.classes
    p_positive = probabilities[:, answers.classes.index(positive)] if usable else None  # type: ignore[index]
    return ClassificationCounts.from_rows(list(truth), predicted, p_positive, positive).metrics()


def _target(spec: MonitoringSpec) -> str:
    if spec.columns.target is None:
        raise ValueError("the spec names no target column to score a holdout on")
    return spec.columns.target


def _plain(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class PromotionDecision:
    outcome: Outcome
    metric: str
    champion_version: str | None
    champion: float | None
    challenger_version: str
    challenger: float | None
    holdout_rows: int
    reason: str
    improvement: float | None = None  # challenger better: positive (an error's fall, a score's rise)
    test: dict[str, Any] | None = None  # statistic, pvalue, name
    significance: float | None = None
    min_improvement: float | None = None

    @property
    def promote(self) -> bool:
        return self.outcome == "promote"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"promote": self.promote}


def holdout_shortfall(spec: MonitoringSpec, actual: np.ndarray) -> str | None:
    """Why this holdout cannot decide between two models, or None when it can."""
    rows = len(actual)
    needed = max(spec.retraining.min_holdout_rows, smallest_testable_rows(spec.retraining.significance))
    if rows < needed:
        level = spec.retraining.significance
        return f"the holdout has {rows} rows; comparing two models at significance {level:g} needs {needed}"
    distinct = (
        set(actual.tolist()) if spec.task != "regression" else set(np.unique(actual[np.isfinite(actual)]).tolist())
    )
    if len(distinct) < 2:
        what = "class" if spec.task != "regression" else "target value"
        shown = ", ".join(str(v) for v in distinct) or "none"
        return f"the holdout holds a single {what} ({shown}): no metric tells two models apart on it"
    return None


def decide(
    spec: MonitoringSpec,
    actual: np.ndarray,
    challenger_version: str,
    challenger: Answers,
    champion_version: str | None,
    champion: Answers | None,
    champion_problem: str | None = None,
) -> PromotionDecision:
    """Promote when the challenger beats the champion on the spec's performance metric (the task's
        main one by default) significantly at `retraining.significance` and by at least
        `retraining.min_improvement` (for an error, lower is better and the margin is a share of the
        champion's error, as errors have units), or when no champion exists. A champion that exists but
    cannot be scored (`champion` None, `champion_problem` saying why) is never passed over unseen."""
    settings = spec.retraining
    metric, alpha, margin = spec.performance_metric, settings.significance, settings.min_improvement
    lower_is_better = metric in LOWER_IS_BETTER

    def value(answers: Answers, rows: np.ndarray | None = None) -> float | None:
        found = metrics_of(spec, actual, answers, rows, scores=metric in FROM_SCORES).get(metric)
        return None if found is None else float(found)

    ours = value(challenger)
    theirs = None if champion is None else value(champion)
    base = {
        "metric": metric,
        "champion_version": champion_version,
        "champion": theirs,
        "challenger_version": challenger_version,
        "challenger": ours,
        "holdout_rows": len(actual),
        "significance": alpha,
        "min_improvement": margin,
    }
    shortfall = holdout_shortfall(spec, actual)
    if shortfall is not None:
        return PromotionDecision(outcome="not_enough_data", reason=shortfall, **base)
    if ours is None:
        return PromotionDecision(
            outcome="reject", reason=f"the challenger's {metric} could not be computed on the holdout", **base
        )
    if champion_version is None:
        return PromotionDecision(
            outcome="promote", reason=f"no champion to compare with; challenger {metric} {ours:.4f}", **base
        )
    if champion is None or theirs is None:
        # A champion exists but could not be scored: the challenger is not promoted unseen over it.
        why = champion_problem or f"its {metric} could not be computed on the holdout"
        return PromotionDecision(
            outcome="reject",
            reason=f"the champion {champion_version} could not be compared ({why}); a challenger replaces "
            "only a champion it beat",
            **base,
        )
    improvement = theirs - ours if lower_is_better else ours - theirs
    required = theirs * margin if lower_is_better else margin
    test = _significance(spec, metric, actual, champion, challenger, value, lower_is_better)
    significant = test.pvalue <= alpha and improvement > 0
    enough = improvement >= required
    summary = (
        f"challenger {metric} {ours:.4f}, champion {theirs:.4f}: improvement {improvement:+.4f} "
        f"(at least {required:.4g} required), {test.name} p = {test.pvalue:.4g} (significance {alpha:g})"
    )
    verdict = "promoted" if significant and enough else ("not significant" if not significant else "too small")
    return PromotionDecision(
        outcome="promote" if significant and enough else "reject",
        reason=f"{verdict}: {summary}",
        improvement=improvement,
        test=test.to_dict(),
        **base,
    )


def _significance(
    spec: MonitoringSpec,
    metric: str,
    actual: np.ndarray,
    champion: Answers,
    challenger: Answers,
    value: Any,
    lower_is_better: bool,
) -> SignificanceResult:
    if metric == "accuracy":
        return mcnemar_exact(actual, champion.predicted, challenger.predicted)

    def improvement(rows: np.ndarray) -> float:
        ours, theirs = value(challenger, rows), value(champion, rows)
        if ours is None or theirs is None:
            return float("nan")
        return theirs - ours if lower_is_better else ours - theirs

    return paired_bootstrap(improvement, len(actual))
