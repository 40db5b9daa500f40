"""The dashboard's Logs Insights widgets read fields that the functions' log lines hold: each
feature's path in a capture line as the capture code writes it, and the prediction document's peak
memory; and what the dashboard, the alarms and read-backs do not read is not sent as a metric."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from modelwatch.alerts.consumed import consumed_metrics, sends_metric, sent_metric_names
from modelwatch.alerts.dashboard import dashboard_widgets
from modelwatch.catalog import metrics as catalog
from modelwatch.serving import capture


def _flattened(value: Any, prefix: str = "") -> dict[str, Any]:
    """A JSON log event's fields as Logs Insights discovers them: nested keys joined with ".",
    list items by their index."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    found: dict[str, Any] = {}
    for key, item in items:
        found |= _flattened(item, f"{prefix}.{key}" if prefix else str(key))
    return found


def test_the_feature_values_widget_reads_each_features_value_in_a_capture_line(demo_spec):
    features = {"age": 41.0, "income": 52000.0, "score": 640.0, "category": "a", "region": "north"}
    record = capture.capture_record(
        "0" * 32, datetime(2026, 12, 1, tzinfo=UTC), "v1", features, "1", {"0": 0.2, "1": 0.8}
    )
    (line,) = capture.log_lines(capture.CAPTURE, [record])
    fields = _flattened(json.loads(line))
    (widget,) = [w for w in dashboard_widgets(demo_spec) if w.title.startswith("Feature values")]
    assert widget.kind == "logs" and [s.label for s in widget.series] == demo_spec.plain_numeric_features
    for series in widget.series:
        assert fields[series.name] == features[series.label]
        assert f"pct(`{series.name}`, 50) as `{series.label}`" in widget.logs_query()[0]


def test_the_memory_widget_reads_the_prediction_documents_peak_memory(demo_spec):
    from functions.predict.telemetry import peak_memory_mb

    (widget,) = [w for w in dashboard_widgets(demo_spec) if w.title.startswith("Memory used")]
    assert widget.logs_query() == (f"stats max(`{catalog.PEAK_MEMORY_PROPERTY}`) as `max MB` by bin(5m)",)
    assert 10 < peak_memory_mb() < 100_000  # this process's, in MB


def test_only_what_something_reads_is_sent_by_default(demo_spec):
    sent = sent_metric_names(demo_spec)
    assert sent <= consumed_metrics(demo_spec)
    # Read by an alarm, the dashboard or a read-back:
    for metric in (catalog.PREDICTION_LATENCY, catalog.CONFIDENCE, catalog.PREDICTIONS, catalog.CAPTURE_RECORDS_SENT):
        assert metric.name in sent, metric.name
    assert {catalog.CAPTURE_FAILED.name, catalog.CAPTURES_MISSING.name, catalog.COLD_START.name} <= sent
    # Read by nothing: a property of the document at most.
    for metric in (
        catalog.MODEL_LATENCY,
        catalog.FEATURE_VALUE,
        catalog.CAPTURED_RECORDS,
        catalog.PROFILED_OBJECTS,
        catalog.FEEDBACK,
        catalog.NOTIFICATIONS_SENT,
        catalog.VALIDATION_ERRORS,
    ):
        assert not sends_metric(demo_spec, metric), metric.name
    every = demo_spec.model_copy(update={"metrics": demo_spec.metrics.model_copy(update={"series": "all"})})
    assert sent_metric_names(every) == {m.name for m in catalog.CATALOGUE.values() if not m.is_drift_metric}


def test_an_alarm_on_a_metric_makes_it_read(demo_spec):
    rule = {"name": "SlowModel", "metric": "ModelLatency", "statistic": "p95", "comparison": "GreaterThanThreshold"}
    document = demo_spec.model_dump(mode="json")
    document["alerts"].append(rule | {"threshold": 100})
    from modelwatch.spec import parse_spec

    assert sends_metric(parse_spec(document, "<test>"), catalog.MODEL_LATENCY)
