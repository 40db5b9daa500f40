"""Which metrics something reads: an alarm or retraining trigger of the plan, a dashboard widget
(modelwatch.alerts.dashboard), or a function that reads it back from CloudWatch (the catalogue's
READ_BACK). Each series is a custom metric billed for every hour it is sent (modelwatch.cost), so
by default a function sends only what is read:

- drift metrics, per (metric, window) series, under `[metrics] drift_series`: the demo spec's
  three windows would send about a hundred; drift.json and the HTML report keep every value of
  every window either way;
- every other catalogued metric under `[metrics] series`: one nothing reads is written as a plain
  property of the function's EMF document instead (functions.shared.emit), which Logs Insights
  can search and CloudWatch does not bill as a metric.
"""

from __future__ import annotations

from modelwatch.alerts.dashboard import dashboard_drift_metrics, dashboard_widgets, dashboard_window
from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog.metrics import CATALOGUE, READ_BACK, Metric
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


def consumed_metrics(spec: MonitoringSpec) -> set[str]:
    """Catalogue names of the metrics (other than the drift check's per-window ones) that an alarm
    or trigger judges, a dashboard widget draws, or a function reads back."""
    consumed = {planned.rule.metric for planned in planned_alarms(spec)}
    consumed |= {planned.folded_from for planned in planned_alarms(spec) if planned.folded_from}
    consumed |= {
        series.name
        for widget in dashboard_widgets(spec)
        for series in widget.series
        if series.source in ("metric", "each", "total") and series.name in CATALOGUE
    }
    return consumed | set(READ_BACK)


def sends_metric(spec: MonitoringSpec, metric: Metric) -> bool:
    """Whether a function sends `metric` (not a drift metric of a window: sends_drift_series) as
    a metric under the spec's `series` setting; otherwise it is only a property of its document."""
    if metric.is_drift_metric:
        raise ValueError(f"{metric.name} is sent per window: ask sends_drift_series")
    return spec.metrics.series == "all" or metric.name in consumed_metrics(spec)


def sent_metric_names(spec: MonitoringSpec) -> frozenset[str]:
    """Catalogue names of every metric outside the drift windows that the functions send."""
    return frozenset(m.name for m in CATALOGUE.values() if not m.is_drift_metric and sends_metric(spec, m))
