"""Labels joined to predictions: performance counts, the label distribution and business KPIs,
mergeable across hours like profiles are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelwatch.feedback import merge_feedback
from modelwatch.labels import label_of
from modelwatch.performance import (
    ClassificationCounts,
    MulticlassCounts,
    PerformanceCounts,
    RegressionMoments,
    performance_from_dict,
)
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.profiles.coercion import as_finite_floats
from modelwatch.profiles.numeric import NumericColumnProfile
from modelwatch.spec.models import MonitoringSpec

# The labels' own distribution (label drift): categorical for a classifier, numeric for a regression.
LabelProfile = CategoricalColumnProfile | NumericColumnProfile


@dataclass
class JoinedLabels:
    counts: PerformanceCounts
    labels: LabelProfile
    kpi_sums: dict[str, list[float]] = field(default_factory=dict)  # name -> [count, total]
    received: int = 0
    unmatched: int = 0  # labels whose prediction was not found (yet)
    corrected: int = 0  # predictions whose label was replaced by a different one
    labeled: int = 0  # request ids with a label (the rest sent outcomes only)

    def merged(self, *others: JoinedLabels) -> JoinedLabels:
        sums = {name: list(v) for name, v in self.kpi_sums.items()}
        for other in others:
            for name, (count, total) in other.kpi_sums.items():
                current = sums.setdefault(name, [0.0, 0.0])
                current[0] += count
                current[1] += total
        return JoinedLabels(
            counts=self.counts.merged(*(o.counts for o in others)),  # type: ignore[arg-type]
            labels=self.labels.merged(*(o.labels for o in others)),  # type: ignore[arg-type]
            kpi_sums=sums,
            received=self.received + sum(o.received for o in others),
            unmatched=self.unmatched + sum(o.unmatched for o in others),
            corrected=self.corrected + sum(o.corrected for o in others),
            labeled=self.labeled + sum(o.labeled for o in others),
        )

    def kpis(self, spec: MonitoringSpec) -> dict[str, float | None]:
        values: dict[str, float | None] = {}
        for kpi in spec.kpis:
            count, total = self.kpi_sums.get(kpi.name, [0.0, 0.0])
            if not count:
                values[kpi.name] = None
            else:
                values[kpi.name] = total if kpi.aggregation == "sum" else total / count
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts.to_dict(),
            "labels": self.labels.to_dict(),
            "kpi_sums": self.kpi_sums,
            "received": self.received,
            "unmatched": self.unmatched,
            "corrected": self.corrected,
            "labeled": self.labeled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JoinedLabels:
        return cls(
            counts=performance_from_dict(data["counts"]),
            labels=_label_profile_from_dict(data["labels"]),
            kpi_sums={k: [float(a), float(b)] for k, (a, b) in data["kpi_sums"].items()},
            received=int(data["received"]),
            unmatched=int(data["unmatched"]),
            corrected=int(data.get("corrected", 0)),  # caches written before corrections were counted
            labeled=int(data.get("labeled", 0)),
        )


def _kpi_value(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and np.isfinite(value):
        return float(value)
    return None


def _label_profile_from_dict(data: dict[str, Any]) -> LabelProfile:
    if data.get("kind") == "numeric":
        return NumericColumnProfile.from_dict(data)
    return CategoricalColumnProfile.from_dict(data)


def join_labels(spec: MonitoringSpec, labels: list[dict[str, Any]], index: dict[str, list[Any]]) -> JoinedLabels:
    """`labels` are feedback documents; `index` maps request ids to what the capture profiler
    kept of each prediction (modelwatch.windows.capture_profile: per task)."""
    actual: list[Any] = []
    found_predictions: list[list[Any]] = []
    unmatched = labeled = 0
    sums: dict[str, list[float]] = {}
    merged = merge_feedback(labels)  # label and outcomes sent apart, retries and corrections
    for document in merged.documents:
        outcomes = document.get("outcomes") or {}
        for kpi in spec.kpis:
            value = _kpi_value(outcomes.get(kpi.outcome))
            if value is not None:
                entry = sums.setdefault(kpi.name, [0.0, 0.0])
                entry[0] += 1
                entry[1] += value
        if document.get("label") is None:
            continue
        labeled += 1
        found = index.get(str(document.get("request_id")))
        if found is None:
            unmatched += 1
            continue
        actual.append(document["label"])
        found_predictions.append(found)
    counts: PerformanceCounts
    label_profile: LabelProfile
    if spec.task == "regression":
        values, missing, type_errors = as_finite_floats(np.array(actual, dtype=object))
        label_profile = NumericColumnProfile.from_values(values, missing, type_errors)
        counts = RegressionMoments.from_rows(_floats(actual), _floats([f[0] for f in found_predictions]))
    else:
        classes_actual = [label_of(a) for a in actual]
        label_profile = CategoricalColumnProfile.from_values(classes_actual, 0)
        predicted = [str(f[0]) for f in found_predictions]
        if spec.task == "multiclass":
            counts = _multiclass_counts(spec, classes_actual, predicted, [f[1] for f in found_predictions])
        else:
            probability = [np.nan if f[1] is None else float(f[1]) for f in found_predictions]
            counts = ClassificationCounts.from_rows(
                classes_actual, predicted, np.asarray(probability, dtype=np.float64), spec.columns.positive_class
            )
    return JoinedLabels(
        counts=counts,
        labels=label_profile,
        kpi_sums=sums,
        received=len(merged.documents),
        unmatched=unmatched,
        corrected=merged.corrected,
        labeled=labeled,
    )


def _multiclass_counts(
    spec: MonitoringSpec, actual: list[str], predicted: list[str], probabilities: list[Any]
) -> MulticlassCounts:
    """Counts over the model's classes: the spec's order, else the order the captures list them."""
    by_class = [p if isinstance(p, dict) else {} for p in probabilities]
    classes = spec.columns.classes or list(dict.fromkeys(label for p in by_class for label in p))
    if not classes:  # no probabilities captured: the classes the rows name
        classes = sorted(set(actual) | set(predicted))
    matrix = np.array([[_float(p.get(label)) for label in classes] for p in by_class], dtype=np.float64)
    return MulticlassCounts.from_rows(actual, predicted, matrix.reshape(len(actual), len(classes)), classes)


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return np.nan
    try:
        return float(value)
    except ValueError:
        return np.nan


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([_float(v) for v in values], dtype=np.float64)
