"""The prediction function's metrics, as CloudWatch EMF through Powertools Metrics.

Dimensions stay low-cardinality: service, and for the per-class count model version and class.
Request ids and inputs go in metadata, never in dimensions.
"""

from __future__ import annotations

from collections import Counter

from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

from modelwatch.metric_catalog import feature_metric
from modelwatch.serving.prediction import ScoredBatch
from modelwatch.spec.models import MonitoringSpec


def emit_scored(metrics: Metrics, spec: MonitoringSpec, batch: ScoredBatch, total_ms: float) -> None:
    metrics.add_metric("PredictionLatency", MetricUnit.Milliseconds, total_ms)
    metrics.add_metric("ModelLatency", MetricUnit.Milliseconds, batch.model_ms)
    for confidence in batch.confidences:
        metrics.add_metric("Confidence", MetricUnit.NoUnit, confidence)
    metrics.add_metric("MissingValues", MetricUnit.Count, sum(len(e.missing) for e in batch.events))
    metrics.add_metric("OutOfRange", MetricUnit.Count, sum(len(e.out_of_range) for e in batch.events))
    metrics.add_metric("UnseenCategory", MetricUnit.Count, sum(len(e.unseen) for e in batch.events))
    metrics.add_metadata("request_ids", [p["request_id"] for p in batch.predictions])
    metrics.add_metadata("model_version", batch.model_version)
    namespace = spec.metrics.namespace
    for label, count in Counter(batch.predicted).items():
        with single_metric("Predictions", MetricUnit.Count, count, namespace=namespace) as metric:
            metric.add_dimension("service", spec.metrics.service)
            metric.add_dimension("model_version", batch.model_version)
            metric.add_dimension("class", label)
    # Feature values ride in the request's one EMF document, one metric per feature: a document
    # per feature (a "feature" dimension) would cost about 0.06 ms each on every request.
    for name in spec.numeric_features:
        for capture in batch.captures:
            value = capture["features"].get(name)
            if value is not None:
                metrics.add_metric(feature_metric(name), MetricUnit.NoUnit, value)


def emit_rejected(metrics: Metrics, errors: int) -> None:
    metrics.add_metric("ValidationErrors", MetricUnit.Count, errors)


def emit_model_failure(metrics: Metrics) -> None:
    metrics.add_metric("ModelLoadFailed", MetricUnit.Count, 1)
