"""Score validated records with the served model: predictions, probabilities, quality signals and
the capture records, with the model's own time measured apart from the rest."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelwatch.serving.capture import capture_record
from modelwatch.serving.current_model import Served
from modelwatch.serving.onnx_model import OnnxClassifier
from modelwatch.serving.quality_events import QualityEvents, quality_events
from modelwatch.serving.request_ids import new_request_id
from modelwatch.spec.models import MonitoringSpec


@dataclass(frozen=True)
class ScoredBatch:
    model_version: str
    predictions: list[dict[str, Any]]  # the response items
    captures: list[dict[str, Any]]
    events: list[QualityEvents]
    model_ms: float

    @property
    def confidences(self) -> list[float]:
        return [p["confidence"] for p in self.predictions]

    @property
    def predicted(self) -> list[str]:
        return [p["prediction"] for p in self.predictions]


def score(
    spec: MonitoringSpec, served: Served[OnnxClassifier], records: list[dict[str, Any]], now: datetime
) -> ScoredBatch:
    model = served.model
    started = time.perf_counter()
    probabilities = model.predict_proba(records)
    model_ms = (time.perf_counter() - started) * 1000
    version = served.manifest.version
    predictions, captures, events = [], [], []
    for record, row in zip(records, probabilities.tolist(), strict=True):
        by_class = {label: round(p, 6) for label, p in zip(model.classes, row, strict=True)}
        predicted = max(by_class, key=by_class.__getitem__)
        request_id = new_request_id(now)
        found = quality_events(spec, record)
        events.append(found)
        predictions.append(
            {
                "request_id": request_id,
                "model_version": version,
                "prediction": predicted,
                "probabilities": by_class,
                "confidence": by_class[predicted],
                "warnings": found.warnings(),
            }
        )
        captures.append(capture_record(request_id, now, version, record, predicted, by_class))
    return ScoredBatch(version, predictions, captures, events, model_ms)
