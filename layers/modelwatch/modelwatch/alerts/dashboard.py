"""The dashboard's widgets, declared once: the CDK stack builds the CloudWatch dashboard from
them (modelwatch_infra.dashboard) and the local runtime draws the same widgets from its own
metrics (modelwatch_local.dashboard). Each widget has a title, a size and its series: which
metric, which statistic over which period, under which dimensions.

A series' `source` says where its datapoints come from:
- "metric": a catalogue metric, one series under the given dimensions (plus `service`);
- "each": every series of a catalogue metric across its dimension's values (classes, functions),
  summed per period and labelled by that value (CloudWatch: a SEARCH expression);
- "total": all of "each" added into one series (predictions per minute);
- "lambda": one of Lambda's own metrics of a function (Errors, Throttles, Duration);
- "api": one of API Gateway's own metrics of the HTTP API (Count, 4xx, 5xx, Latency);
- "logs": a field of a function's log lines, aggregated by a Logs Insights query (CloudWatch
  only: the local runtime keeps metrics, not log lines).
Alarm states and retraining runs are widgets of their own kinds ("alarms", "retraining").

Free sources come first: a panel reads a custom metric only where no AWS metric or log line shows
the same, since each series a widget reads is sent and billed (modelwatch.alerts.consumed). So the
latency panel sets API Gateway's own Latency beside the handler's PredictionLatency (which its
alarm judges), and the feature values are read from the capture lines, which hold every value
already, rather than sent as one metric per numeric feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modelwatch.catalog import metrics as catalog
from modelwatch.catalog.functions import DRIFT, FUNCTIONS, PREDICT
from modelwatch.catalog.metrics import CATALOGUE, Metric
from modelwatch.spec.models import MAIN_METRIC, MonitoringSpec

Source = Literal["metric", "each", "total", "lambda", "api", "logs"]
Kind = Literal["graph", "alarms", "retraining", "logs"]
MINUTE, FIVE_MINUTES, HOUR, DAY = 60, 300, 3600, 86400
PERCENTILES = ("p10", "p25", "p50", "p75", "p90")
# Each task's performance panel: its main metric and a second one, each with its label-free
# estimate where the task has one.
PERFORMANCE_PANEL = {
    "binary": (MAIN_METRIC["binary"], "roc_auc"),
    "multiclass": (MAIN_METRIC["multiclass"], "f1_macro"),
    "regression": (MAIN_METRIC["regression"], "rmse"),
}
# Where a capture line holds a feature's value, as Logs Insights flattens the line's JSON: the
# first record of the line (a single-record request's only one). tests/unit/test_dashboard_queries.py
# checks the path against a line the capture code writes.
CAPTURED_FEATURE = "records.0.features.{}"


@dataclass(frozen=True)
class Series:
    source: Source
    name: str  # catalogue metric name (FeatureValue.<feature> for one feature), or AWS's metric name
    statistic: str
    period_seconds: int
    label: str
    dimensions: tuple[tuple[str, str], ...] = ()  # beyond `service` (catalogue metrics)
    function: str | None = None  # "lambda" and "logs" series: the function (catalogue name)


@dataclass(frozen=True)
class Threshold:
    label: str
    value: float


@dataclass(frozen=True)
class Widget:
    title: str
    kind: Kind
    series: tuple[Series, ...] = ()
    width: int = 8
    thresholds: tuple[Threshold, ...] = ()
    y_range: tuple[float, float] | None = None
    stacked: bool = False

    @property
    def drawn_locally(self) -> bool:
        """Whether the local runtime has its data: everything but Logs Insights queries."""
        return self.kind != "logs"

    def logs_query(self) -> tuple[str, ...]:
        """A "logs" widget's Logs Insights query: each series' statistic of its field, per period."""
        period = self.series[0].period_seconds
        stats = ", ".join(f"{_logs_statistic(s)} as `{s.label}`" for s in self.series)
        return (f"stats {stats} by bin({period // 60}m)",)


def _logs_statistic(series: Series) -> str:
    field = f"`{series.name}`"
    if series.statistic.startswith("p"):
        return f"pct({field}, {series.statistic[1:]})"
    return {"Maximum": f"max({field})", "Minimum": f"min({field})", "Average": f"avg({field})"}[series.statistic]


def _series(
    metric: Metric, statistic: str, period: int = MINUTE, label: str | None = None, **dimensions: str
) -> Series:
    return Series("metric", metric.name, statistic, period, label or metric.name, tuple(dimensions.items()))


def _thresholds(spec: MonitoringSpec, metric: Metric) -> tuple[Threshold, ...]:
    return tuple(Threshold(f"alarm: {rule.name}", rule.threshold) for rule in spec.alerts if rule.metric == metric.name)


def _feature_value(feature: str) -> Series:
    """A numeric feature's median over five minutes, from the prediction function's capture lines
    (Logs Insights takes a percentile of negative values too)."""
    return Series("logs", CAPTURED_FEATURE.format(feature), "p50", FIVE_MINUTES, feature, function=PREDICT.name)


def dashboard_window(spec: MonitoringSpec) -> str:
    """The drift check's window the dashboard's drift panels show: the spec's first."""
    return spec.drift.windows[0].name


def _predictions_per_minute(spec: MonitoringSpec) -> Series:
    if spec.task == "regression":
        return Series("metric", catalog.PREDICTED_VALUE.name, "SampleCount", MINUTE, "predictions/min")
    return Series("total", catalog.PREDICTIONS.name, "Sum", MINUTE, "predictions/min")


# CloudWatch computes no percentile over a period holding a negative value (the widget goes
# blank): values that can be negative are drawn with statistics that always exist.
SIGNED_STATISTICS = ("Minimum", "Average", "Maximum")


def _output_distribution(spec: MonitoringSpec) -> Widget:
    """What the model answers, per record: a classifier's confidence, a regression's value."""
    if spec.task == "regression":
        # A regression's value may be negative: no percentiles.
        return Widget(
            "Predicted value (min, mean, max)",
            "graph",
            tuple(_series(catalog.PREDICTED_VALUE, s, label=s) for s in SIGNED_STATISTICS),
            thresholds=_thresholds(spec, catalog.PREDICTED_VALUE),
        )
    metric, title, y_range = catalog.CONFIDENCE, "Confidence distribution", (0.0, 1.0)
    return Widget(
        title,
        "graph",
        tuple(_series(metric, p, label=p) for p in PERCENTILES),
        thresholds=_thresholds(spec, metric),
        y_range=y_range,
    )


def _output_over_time(spec: MonitoringSpec) -> Widget:
    if spec.task == "regression":
        metric = catalog.PREDICTED_VALUE
        statistics = SIGNED_STATISTICS
        return Widget(
            "Predicted value over time",
            "graph",
            tuple(_series(metric, s, FIVE_MINUTES, s) for s in statistics),
            width=12,
        )
    each_class = Series("each", catalog.PREDICTIONS.name, "Sum", FIVE_MINUTES, "")
    return Widget("Predicted classes over time", "graph", (each_class,), width=12, stacked=True)


def _performance(spec: MonitoringSpec, window: str) -> Widget:
    """The task's performance on labelled rows beside its label-free estimate (CBPE, DLE)."""
    keys = PERFORMANCE_PANEL[spec.task]
    shown = [catalog.PERFORMANCE[k] for k in keys] + [
        catalog.ESTIMATED_PERFORMANCE[k] for k in keys if k in catalog.ESTIMATED_PERFORMANCE
    ]
    shown = [m for m in shown if m.applies_to(spec.task)]
    thresholds = tuple(t for m in shown for t in _thresholds(spec, m))
    series = tuple(_series(m, "Average", HOUR, window=window) for m in shown)
    if spec.task == "regression":
        errors = ", ".join(catalog.PERFORMANCE[k].name for k in keys)
        return Widget(f"Errors ({errors}): labelled and estimated ({window})", "graph", series, thresholds=thresholds)
    title = f"{catalog.PERFORMANCE[keys[0]].name}: labelled and estimated ({window})"
    return Widget(title, "graph", series, thresholds=thresholds, y_range=(0, 1))


def dashboard_rows(spec: MonitoringSpec) -> list[list[Widget]]:
    """The dashboard, row by row (CloudWatch's grid is 24 units wide)."""
    window = dashboard_window(spec)
    functions = sorted(FUNCTIONS)
    return [
        [
            Widget("Predictions per minute", "graph", (_predictions_per_minute(spec),)),
            Widget(
                "p95 latency (ms)",
                "graph",
                (
                    _series(catalog.PREDICTION_LATENCY, "p95", label="handler p95"),
                    Series("api", catalog.API_LATENCY, "p95", MINUTE, "API p95"),
                ),
                thresholds=_thresholds(spec, catalog.PREDICTION_LATENCY),
            ),
            _output_distribution(spec),
        ],
        [
            Widget(
                f"Drift score per feature ({window})",
                "graph",
                tuple(
                    _series(catalog.DRIFT_SCORE, "Maximum", HOUR, f, window=window, feature=f) for f in spec.features
                ),
                width=12,
                thresholds=_thresholds(spec, catalog.DRIFT_SCORE),
            ),
            _output_over_time(spec),
        ],
        [
            Widget(
                f"Share of drifted features ({window})",
                "graph",
                (_series(catalog.DRIFT_SHARE, "Maximum", HOUR, "drift share", window=window),),
                width=8,
                thresholds=_thresholds(spec, catalog.DRIFT_SHARE),
                y_range=(0, 1),
            ),
            _performance(spec, window),
            Widget(
                f"Business KPIs ({window})",
                "graph",
                tuple(_series(catalog.KPI, "Average", HOUR, k.name, window=window, kpi=k.name) for k in spec.kpis),
            ),
        ],
        [
            Widget(
                "API requests, 4xx and 5xx",
                "graph",
                tuple(
                    Series("api", m.name, "Sum", MINUTE, m.name)
                    for m in (catalog.API_REQUESTS, catalog.API_CLIENT_ERRORS, catalog.API_SERVER_ERRORS)
                ),
            ),
            Widget(
                "Function errors and throttles",
                "graph",
                tuple(
                    Series("lambda", what, "Sum", MINUTE, f"{name} {what.lower()}", function=name)
                    for what in (catalog.LAMBDA_ERRORS, catalog.LAMBDA_THROTTLES)
                    for name in functions
                ),
            ),
            Widget("Cold starts", "graph", (Series("each", catalog.COLD_START.name, "Sum", FIVE_MINUTES, ""),)),
        ],
        [
            Widget(
                "Duration (ms)",
                "graph",
                (
                    Series("lambda", catalog.LAMBDA_DURATION, "p95", MINUTE, "predict p95", function=PREDICT.name),
                    Series("lambda", catalog.LAMBDA_DURATION, "Maximum", MINUTE, "drift max", function=DRIFT.name),
                ),
            ),
            Widget(
                "Memory used by the prediction function (MB)",
                "logs",
                (
                    Series(
                        "logs", catalog.PEAK_MEMORY_PROPERTY, "Maximum", FIVE_MINUTES, "max MB", function=PREDICT.name
                    ),
                ),
            ),
            Widget(
                "Capture failures",
                "graph",
                (
                    _series(catalog.CAPTURE_FAILED, "Sum", FIVE_MINUTES),
                    _series(catalog.PROFILE_FAILED, "Sum", FIVE_MINUTES),
                ),
            ),
        ],
        [
            Widget(
                f"Data quality ({window})",
                "graph",
                tuple(_series(m, "Maximum", HOUR, window=window) for m in catalog.QUALITY_RATES.values()),
            ),
            *(
                [
                    Widget(
                        "Feature values (median, first record of each captured request)",
                        "logs",
                        tuple(_feature_value(f) for f in spec.plain_numeric_features),
                        width=16,
                    )
                ]
                if spec.plain_numeric_features
                else []
            ),
        ],
        [
            Widget("Alarms", "alarms", width=24),
            Widget(
                "Retraining: challengers promoted and rejected",
                "retraining",
                (
                    _series(catalog.RETRAINING_PROMOTE, "Sum", DAY, "promoted"),
                    _series(catalog.RETRAINING_REJECT, "Sum", DAY, "rejected"),
                ),
                width=24,
            ),
        ],
    ]


def dashboard_widgets(spec: MonitoringSpec) -> list[Widget]:
    return [widget for row in dashboard_rows(spec) for widget in row]


def dashboard_drift_metrics(spec: MonitoringSpec) -> set[str]:
    """The drift check's metrics the dashboard plots (for its window): the drift check sends
    them even when it sends only what is read (modelwatch.alerts.consumed)."""
    return {
        series.name
        for widget in dashboard_widgets(spec)
        for series in widget.series
        if series.source == "metric" and series.name in CATALOGUE and CATALOGUE[series.name].is_drift_metric
    }
