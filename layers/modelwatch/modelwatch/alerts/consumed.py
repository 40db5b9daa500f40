"""Which drift series (metric, window) something reads: an alarm or retraining trigger of the
plan, or the dashboard's drift panels (modelwatch.alerts.dashboard: they show the first window). With
`[metrics] drift_series = "consumed"` the drift check sends only these; drift.json and the HTML
report keep every value of every window either way. Each series is a custom metric billed for
every hour it is sent (modelwatch.cost), and the demo spec's three windows send about a hundred."""

from __future__ import annotations

from modelwatch.alerts.dashboard import dashboard_drift_metrics, dashboard_window
from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog.metrics import CATALOGUE, Metric
from modelwatch.spec.models import MonitoringSpec


def consumed_drift_series(spec: MonitoringSpec) -> set[tuple[str, str]]:
    """(metric name, window) of every drift series an alarm, a trigger or the dashboard reads."""
    consumed = {
        (planned.rule.metric, planned.dimensions["window"])
        for planned in planned_alarms(spec)
        if CATALOGUE[planned.rule.metric].is_drift_metric
    }
    consumed |= {(name, dashboard_window(spec)) for name in dashboard_drift_metrics(spec)}
    return consumed


def sends_drift_series(spec: MonitoringSpec, metric: Metric, window: str) -> bool:
    """Whether the drift check sends `metric` for `window` under the spec's drift_series setting."""
    return spec.metrics.drift_series == "all" or (metric.name, window) in consumed_drift_series(spec)
