"""The prediction function's metrics, as CloudWatch EMF through Powertools Metrics.

Per task: a classifier's confidence per record and its count per predicted class; a regression's
predicted value per record. Dimensions stay low-cardinality: service, and for the per-class count
model version and class. Request ids and inputs go in metadata, never in dimensions.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from aws_lambda_powertools.metrics import Metrics

from functions.shared.emit import add_metric, emit_with_dimensions
from modelwatch.catalog import metrics as catalog
from modelwatch.serving.prediction import ScoredBatch
from modelwatch.spec.models import MonitoringSpec


def emit_capture_sent(spec: MonitoringSpec, model_version: str, records: int, at: datetime) -> None:
    """How many capture records this request logged, stamped with their timestamp (so the drift
    run's reconciliation finds them in the same hour as their capture/ partition)."""
    if records:
        dimensions = {"service": spec.metrics.service, "model_version": model_version}
        emit_with_dimensions(catalog.CAPTURE_RECORDS_SENT, records, spec.metrics.namespace, dimensions, at)


def emit_scored(metrics: Metrics, spec: MonitoringSpec, batch: ScoredBatch, total_ms: float) -> None:
    add_metric(metrics, catalog.PREDICTION_LATENCY, total_ms)
    add_metric(metrics, catalog.MODEL_LATENCY, batch.model_ms)
    for confidence in batch.confidences:
        add_metric(metrics, catalog.CONFIDENCE, confidence)
    for value in batch.predicted_values:
        add_metric(metrics, catalog.PREDICTED_VALUE, value)
    add_metric(metrics, catalog.MISSING_VALUES, sum(len(e.missing) for e in batch.events))
    add_metric(metrics, catalog.OUT_OF_RANGE, sum(len(e.out_of_range) for e in batch.events))
    add_metric(metrics, catalog.UNSEEN_CATEGORY, sum(len(e.unseen) for e in batch.events))
    metrics.add_metadata("request_ids", [p["request_id"] for p in batch.predictions])
    metrics.add_metadata("model_version", batch.model_version)
    for label, count in Counter(batch.predicted).items():
        dimensions = {"service": spec.metrics.service, "model_version": batch.model_version, "class": label}
        emit_with_dimensions(catalog.PREDICTIONS, count, spec.metrics.namespace, dimensions)
    # Feature values ride in the request's one EMF document, one metric per feature: a document
    # per feature (a "feature" dimension) would cost about 0.06 ms each on every request.
    for name in spec.numeric_features:
        if name in spec.sensitive_features:
            continue  # a sensitive number is dropped: its values never reach an EMF line
        for capture in batch.captures:
            value = capture["features"].get(name)
            if value is not None:
                add_metric(metrics, catalog.FEATURE_VALUE, value, feature=name)


def emit_rejected(metrics: Metrics, errors: int) -> None:
    add_metric(metrics, catalog.VALIDATION_ERRORS, errors)


def emit_model_failure(metrics: Metrics) -> None:
    add_metric(metrics, catalog.MODEL_LOAD_FAILED, 1)
