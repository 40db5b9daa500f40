"""Score validated records with the served model, per task: predictions (with class probabilities
and confidence for a classifier, the value for a regression), quality signals and the capture
records, with the model's own time measured apart from the rest. With monitoring off only the
predictions are made: no quality signals (and so no warnings in the response), no captures."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelwatch.serving.capture import capture_record
from modelwatch.serving.current_model import Served
from modelwatch.serving.onnx_model import OnnxClassifier, OnnxRegressor, ServedModel
from modelwatch.serving.quality_events import QualityEvents, quality_events
from modelwatch.serving.request_ids import RequestIdSigner
from modelwatch.spec.models import MonitoringSpec

PROBABILITY_DIGITS = 6  # a client needs no more, and the response stays short


@dataclass(frozen=True)
class ScoredBatch:
    model_version: str
    predictions: list[dict[str, Any]]  # the response items
    captures: list[dict[str, Any]]
    events: list[QualityEvents]
    model_ms: float
    task: str = "binary"

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    @property
    def confidences(self) -> list[float]:
        """A classifier's top probability per record (a regression has none)."""
        return [p["confidence"] for p in self.predictions] if self.is_classification else []

    @property
    def predicted(self) -> list[str]:
        """A classifier's predicted class per record (a regression has none)."""
        return [p["prediction"] for p in self.predictions] if self.is_classification else []

    @property
    def predicted_values(self) -> list[float]:
        """A regression's predicted value per record (a classifier has none)."""
        return [] if self.is_classification else [p["prediction"] for p in self.predictions]


def score(
    spec: MonitoringSpec,
    served: Served[ServedModel],
    records: list[dict[str, Any]],
    now: datetime,
    signer: RequestIdSigner,
    monitoring: bool = True,
    attributes: dict[str, str] | None = None,
) -> ScoredBatch:
    """Each record scored, with a request id `signer` issues (the id feedback must name).
    `attributes`: the request's attributes, never given to the model, captured with each record."""
    model = served.model
    version = served.manifest.version
    if isinstance(model, OnnxRegressor):
        return _score_regression(spec, version, model, records, now, signer, monitoring, attributes)
    return _score_classification(spec, version, model, records, now, signer, monitoring, attributes)


def _observed(spec: MonitoringSpec, record: dict[str, Any], monitoring: bool, events: list[QualityEvents]) -> list[str]:
    """The record's quality signals, kept for the metrics; its warnings for the response."""
    if not monitoring:
        return []
    found = quality_events(spec, record)
    events.append(found)
    return found.warnings()


def _score_classification(
    spec: MonitoringSpec,
    version: str,
    model: OnnxClassifier,
    records: list[dict[str, Any]],
    now: datetime,
    signer: RequestIdSigner,
    monitoring: bool,
    attributes: dict[str, str] | None = None,
) -> ScoredBatch:
    started = time.perf_counter()
    probabilities = model.predict_proba(records)
    model_ms = (time.perf_counter() - started) * 1000
    predictions, captures, events = [], [], []
    for record, row in zip(records, probabilities.tolist(), strict=True):
        by_class = {label: round(p, PROBABILITY_DIGITS) for label, p in zip(model.classes, row, strict=True)}
        predicted = max(by_class, key=by_class.__getitem__)
        request_id = signer.new_request_id(now)
        predictions.append(
            {
                "request_id": request_id,
                "model_version": version,
                "prediction": predicted,
                "probabilities": by_class,
                "confidence": by_class[predicted],
                "warnings": _observed(spec, record, monitoring, events),
            }
        )
        if monitoring:
            captures.append(capture_record(request_id, now, version, record, predicted, by_class, attributes))
    return ScoredBatch(version, predictions, captures, events, model_ms, spec.task)


def _score_regression(
    spec: MonitoringSpec,
    version: str,
    model: OnnxRegressor,
    records: list[dict[str, Any]],
    now: datetime,
    signer: RequestIdSigner,
    monitoring: bool,
    attributes: dict[str, str] | None = None,
) -> ScoredBatch:
    started = time.perf_counter()
    values = model.predict(records)
    model_ms = (time.perf_counter() - started) * 1000
    predictions, captures, events = [], [], []
    for record, value in zip(records, values.tolist(), strict=True):
        request_id = signer.new_request_id(now)
        warnings = _observed(spec, record, monitoring, events)
        predictions.append(
            {"request_id": request_id, "model_version": version, "prediction": value, "warnings": warnings}
        )
        if monitoring:
            captures.append(capture_record(request_id, now, version, record, value, attributes=attributes))
    return ScoredBatch(version, predictions, captures, events, model_ms, spec.task)
