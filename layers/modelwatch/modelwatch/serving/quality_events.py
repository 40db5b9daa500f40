"""Data-quality signals of one validated record against the spec: missing values, values outside
the allowed range, categories the schema does not know. They are counted, never rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelwatch.spec.models import MonitoringSpec


@dataclass
class QualityEvents:
    missing: list[str] = field(default_factory=list)
    out_of_range: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        return (
            [f"{name}: missing" for name in self.missing]
            + [f"{name}: outside the allowed range" for name in self.out_of_range]
            + [f"{name}: category not in the schema" for name in self.unseen]
        )


def quality_events(spec: MonitoringSpec, record: dict[str, Any]) -> QualityEvents:
    events = QualityEvents()
    for name, feature in spec.features.items():
        value = record.get(name)
        if value is None:
            events.missing.append(name)
        elif feature.type == "numeric":
            if (feature.min is not None and value < feature.min) or (feature.max is not None and value > feature.max):
                events.out_of_range.append(name)
        elif feature.categories is not None and value not in feature.categories:
            events.unseen.append(name)
    return events
