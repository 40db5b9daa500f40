"""The prediction function's metrics, as CloudWatch EMF through Powertools Metrics.

Per task: a classifier's confidence per record and its count per predicted class; a regression's
predicted value per record. One EMF document per request, as small as what reads it needs (every
request logs one, and CloudWatch bills the bytes): the per-class counts are named per value in it
(Predictions.<class>), and the only dimension is `service`. A metric nothing reads is not sent
(modelwatch.alerts.consumed): ModelLatency stays a plain property of the document; the feature
values, which the capture line holds already, are left out (the dashboard reads them from there).
The model version is named by CaptureRecordsSent.<version>, or is a property when the request
captured nothing; request ids and inputs are in the capture line, not repeated here.
"""

from __future__ import annotations

import resource
from collections import Counter

from aws_lambda_powertools.metrics import Metrics

from functions.shared.emit import MetricFamily, add_metric, add_values, add_values_per
from modelwatch.alerts.consumed import sends_metric
from modelwatch.catalog import metrics as catalog
from modelwatch.serving.prediction import ScoredBatch
from modelwatch.spec.models import MonitoringSpec

# Latencies to the microsecond: CloudWatch's statistics need no more, and each digit is a log byte.
LATENCY_DECIMALS = 3


def feature_values(spec: MonitoringSpec) -> MetricFamily:
    """FeatureValue.<feature> of the numeric features whose values a request's document carries:
    none unless something reads them as metrics (`[metrics] series = "all"`, or an alarm on
    one), and never a sensitive number, which is dropped. Worked out once per deployment: the
    spec's feature lists are computed properties, too slow to ask for on every request, and so
    are the metric names."""
    sent = sends_metric(spec, catalog.FEATURE_VALUE)
    return MetricFamily(catalog.FEATURE_VALUE, spec.plain_numeric_features if sent else ())


def peak_memory_mb() -> int:
    """The process's peak resident memory so far, in MB (Linux counts ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def emit_scored(metrics: Metrics, features: MetricFamily, batch: ScoredBatch, total_ms: float, captured: int) -> None:
    """`features`: feature_values(spec). `captured`: the capture records this request logged,
    counted per model version for the drift run's reconciliation with capture/ (the document's
    timestamp is the records' own, set by the handler, so both fall in the same hour)."""
    add_metric(metrics, catalog.PREDICTION_LATENCY, round(total_ms, LATENCY_DECIMALS))
    add_metric(metrics, catalog.MODEL_LATENCY, round(batch.model_ms, LATENCY_DECIMALS))
    add_values(metrics, catalog.CONFIDENCE, batch.confidences)
    add_values(metrics, catalog.PREDICTED_VALUE, batch.predicted_values)
    # Input problems are sent only when there are some (the catalogue's only_when_nonzero): a
    # clean request (nearly all of them) adds three fewer values to its document. The alarms judge
    # the drift check's hourly rates (MissingRate, OutOfRangeRate, UnseenCategoryRate).
    add_metric(metrics, catalog.MISSING_VALUES, sum(len(e.missing) for e in batch.events))
    add_metric(metrics, catalog.OUT_OF_RANGE, sum(len(e.out_of_range) for e in batch.events))
    add_metric(metrics, catalog.UNSEEN_CATEGORY, sum(len(e.unseen) for e in batch.events))
    if captured:
        add_metric(metrics, catalog.CAPTURE_RECORDS_SENT, captured, of=batch.model_version)
    else:
        metrics.add_metadata("model_version", batch.model_version)
    # What Lambda's REPORT line would say of memory, which is not logged by default.
    metrics.add_metadata(catalog.PEAK_MEMORY_PROPERTY, peak_memory_mb())
    add_values_per(metrics, catalog.PREDICTIONS, {label: [count] for label, count in Counter(batch.predicted).items()})
    features.add_from(metrics, (capture["features"] for capture in batch.captures))


def emit_rejected(metrics: Metrics, errors: int) -> None:
    add_metric(metrics, catalog.VALIDATION_ERRORS, errors)


def emit_model_failure(metrics: Metrics) -> None:
    add_metric(metrics, catalog.MODEL_LOAD_FAILED, 1)
