"""Labels joined to predictions: performance counts, the label distribution and business KPIs,
mergeable across hours like profiles are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelwatch.labels import label_of
from modelwatch.performance import ClassificationCounts
from modelwatch.profiles.categorical import CategoricalColumnProfile
from modelwatch.spec.models import MonitoringSpec


@dataclass
class JoinedLabels:
    counts: ClassificationCounts
    labels: CategoricalColumnProfile
    kpi_sums: dict[str, list[float]] = field(default_factory=dict)  # name -> [count, total]
    received: int = 0
    unmatched: int = 0  # labels whose prediction was not found (yet)

    def merged(self, *others: JoinedLabels) -> JoinedLabels:
        sums = {name: list(v) for name, v in self.kpi_sums.items()}
        for other in others:
            for name, (count, total) in other.kpi_sums.items():
                current = sums.setdefault(name, [0.0, 0.0])
                current[0] += count
                current[1] += total
        return JoinedLabels(
            counts=self.counts.merged(*(o.counts for o in others)),
            labels=self.labels.merged(*(o.labels for o in others)),
            kpi_sums=sums,
            received=self.received + sum(o.received for o in others),
            unmatched=self.unmatched + sum(o.unmatched for o in others),
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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JoinedLabels:
        return cls(
            counts=ClassificationCounts.from_dict(data["counts"]),
            labels=CategoricalColumnProfile.from_dict(data["labels"]),
            kpi_sums={k: [float(a), float(b)] for k, (a, b) in data["kpi_sums"].items()},
            received=int(data["received"]),
            unmatched=int(data["unmatched"]),
        )


def _kpi_value(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and np.isfinite(value):
        return float(value)
    return None


def join_labels(spec: MonitoringSpec, labels: list[dict[str, Any]], index: dict[str, list[Any]]) -> JoinedLabels:
    """`labels` are feedback documents; `index` maps request ids to [prediction, P(positive)]."""
    actual, predicted, probability = [], [], []
    unmatched = 0
    sums: dict[str, list[float]] = {}
    for document in labels:
        outcomes = document.get("outcomes") or {}
        for kpi in spec.kpis:
            value = _kpi_value(outcomes.get(kpi.outcome))
            if value is not None:
                entry = sums.setdefault(kpi.name, [0.0, 0.0])
                entry[0] += 1
                entry[1] += value
        if document.get("label") is None:
            continue
        found = index.get(str(document.get("request_id")))
        if found is None:
            unmatched += 1
            continue
        actual.append(label_of(document["label"]))
        predicted.append(str(found[0]))
        probability.append(np.nan if found[1] is None else float(found[1]))
    counts = ClassificationCounts.from_rows(
        actual, predicted, np.asarray(probability, dtype=np.float64), spec.columns.positive_class
    )
    return JoinedLabels(
        counts=counts,
        labels=CategoricalColumnProfile.from_values(actual, 0),
        kpi_sums=sums,
        received=len(labels),
        unmatched=unmatched,
    )
