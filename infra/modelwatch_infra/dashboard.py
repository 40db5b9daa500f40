"""The CloudWatch dashboard, from the spec: the seed's panels (predictions per second, p95 latency,
the confidence distribution, drift score per feature, each class over time) and the rest an
on-call person needs (errors, cold starts, duration and memory, capture, accuracy, KPIs, quality,
the alarms' states).

Panels follow the model's task: a classifier gets the confidence distribution, its classes over
time and its accuracy with CBPE's estimate; a regression gets the predicted value's distribution
and course, and its errors (MAE, RMSE) with DLE's estimates."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from modelwatch.alerts.consumed import dashboard_window
from modelwatch.catalog import metrics as catalog
from modelwatch.catalog.metrics import Metric
from modelwatch.spec.models import MAIN_METRIC, MonitoringSpec

MINUTE = cdk.Duration.minutes(1)
FIVE_MINUTES = cdk.Duration.minutes(5)
PERCENTILES = ("p10", "p25", "p50", "p75", "p90")
# Each task's performance panel: its main metric and a second one, each with its label-free
# estimate where the task has one.
PERFORMANCE_PANEL = {
    "binary": (MAIN_METRIC["binary"], "roc_auc"),
    "multiclass": (MAIN_METRIC["multiclass"], "f1_macro"),
    "regression": (MAIN_METRIC["regression"], "rmse"),
}
HOUR = cdk.Duration.hours(1)
DAY = cdk.Duration.days(1)


def _metric(
    spec: MonitoringSpec,
    metric: Metric,
    statistic: str,
    period: cdk.Duration = MINUTE,
    label: str | None = None,
    of_feature: str | None = None,
    **dimensions: str,
) -> cw.Metric:
    """A catalogue metric's series; `of_feature` picks one feature's FeatureValue.<feature>."""
    return cw.Metric(
        namespace=spec.metrics.namespace,
        metric_name=metric.name if of_feature is None else metric.name_for(of_feature),
        dimensions_map={"service": spec.metrics.service, **dimensions},
        statistic=statistic,
        period=period,
        label=label or metric.name,
    )


def _search(spec: MonitoringSpec, metric: Metric, statistic: str, seconds: int) -> str:
    """Every series of the metric, whatever the values of its dimensions (the catalogue's) or of
    the value its name carries: unquoted, `MetricName=Predictions` is CloudWatch's partial match,
    a token of the name, so it finds every `Predictions.<class>`."""
    schema = f"{{{spec.metrics.namespace},{','.join(sorted(metric.dimensions))}}}"
    name = metric.name if metric.named_per else f'"{metric.name}"'
    return f"SEARCH('{schema} MetricName={name}', '{statistic}', {seconds})"


def _every_series(spec: MonitoringSpec, metric: Metric) -> cw.MathExpression:
    """Every series of a metric across the values of its dimensions (classes, functions), summed
    per five minutes, each labelled by its own dimensions."""
    return cw.MathExpression(expression=_search(spec, metric, "Sum", 300), label="", period=FIVE_MINUTES)


def _threshold(spec: MonitoringSpec, metric: Metric) -> list[cw.HorizontalAnnotation]:
    return [
        cw.HorizontalAnnotation(value=rule.threshold, label=f"alarm: {rule.name}", color=cw.Color.RED)
        for rule in spec.alerts
        if rule.metric == metric.name
    ]


def _graph(title: str, metrics: list[cw.IMetric], width: int = 8, **options) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=metrics, width=width, height=6, **options)


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: MonitoringSpec,
        name: str,
        api: apigw.HttpApi,
        functions: dict[str, lambda_.Function],
        predict_logs: logs.ILogGroup,
        alarms: list[cw.Alarm],
    ) -> None:
        super().__init__(scope, id)
        window = dashboard_window(spec)  # its drift panels are among the consumed series
        named = sorted(functions.items())
        rows: list[list[cw.IWidget]] = [
            [
                _graph("Predictions per second", [_predictions_per_second(spec)]),
                _graph(
                    "p95 latency (ms)",
                    [
                        _metric(spec, catalog.PREDICTION_LATENCY, "p95", label="request p95"),
                        _metric(spec, catalog.MODEL_LATENCY, "p95", label="model p95"),
                    ],
                    left_annotations=_threshold(spec, catalog.PREDICTION_LATENCY),
                ),
                _output_distribution(spec),
            ],
            [
                _graph(
                    f"Drift score per feature ({window})",
                    [
                        _metric(spec, catalog.DRIFT_SCORE, "Maximum", HOUR, label=f, window=window, feature=f)
                        for f in spec.features
                    ],
                    width=12,
                    left_annotations=_threshold(spec, catalog.DRIFT_SCORE),
                ),
                _output_over_time(spec),
            ],
            [
                _graph(
                    "API requests, 4xx and 5xx",
                    [
                        api.metric_count(statistic="Sum"),
                        api.metric_client_error(statistic="Sum"),
                        api.metric_server_error(statistic="Sum"),
                    ],
                ),
                _graph(
                    "Function errors and throttles",
                    [f.metric_errors(statistic="Sum", label=f"{n} errors") for n, f in named]
                    + [f.metric_throttles(statistic="Sum", label=f"{n} throttles") for n, f in named],
                ),
                _graph(
                    "Cold starts",
                    [_every_series(spec, catalog.COLD_START)],
                ),
            ],
            [
                _graph(
                    "Duration (ms)",
                    [
                        functions["predict"].metric_duration(statistic="p95", label="predict p95"),
                        functions["drift"].metric_duration(statistic="Maximum", label="drift max"),
                    ],
                ),
                cw.LogQueryWidget(
                    title="Memory used by the prediction function (MB)",
                    log_group_names=[predict_logs.log_group_name],
                    query_lines=[
                        'filter @type = "REPORT"',
                        "stats max(@maxMemoryUsed / 1000 / 1000) as max_mb by bin(5m)",
                    ],
                    view=cw.LogQueryVisualizationType.LINE,
                    width=8,
                    height=6,
                ),
                _graph(
                    "Capture failures",
                    [
                        _metric(spec, catalog.CAPTURE_FAILED, "Sum", FIVE_MINUTES),
                        _metric(spec, catalog.PROFILE_FAILED, "Sum", FIVE_MINUTES),
                    ],
                ),
            ],
            [
                _performance(spec, window),
                _graph(
                    f"Business KPIs ({window})",
                    [
                        _metric(spec, catalog.KPI, "Average", HOUR, label=k.name, window=window, kpi=k.name)
                        for k in spec.kpis
                    ],
                ),
                _graph(
                    f"Data quality ({window})",
                    [_metric(spec, m, "Maximum", HOUR, window=window) for m in catalog.QUALITY_RATES.values()],
                ),
            ],
            [
                _graph(
                    "Feature values (p50)",
                    [_metric(spec, catalog.FEATURE_VALUE, "p50", label=f, of_feature=f) for f in spec.numeric_features],
                    width=12,
                ),
                cw.AlarmStatusWidget(title="Alarms", alarms=alarms, width=12, height=6),
            ],
            [
                _graph(
                    "Retraining: challengers promoted and rejected",
                    [
                        _metric(spec, catalog.RETRAINING_PROMOTE, "Sum", DAY, label="promoted"),
                        _metric(spec, catalog.RETRAINING_REJECT, "Sum", DAY, label="rejected"),
                    ],
                    width=24,
                ),
            ],
        ]
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=name, widgets=rows)


def _predictions_per_second(spec: MonitoringSpec) -> cw.MathExpression:
    """A classifier's per-class counts summed; a regression's predicted values counted."""
    if spec.task == "regression":
        values = _metric(spec, catalog.PREDICTED_VALUE, "SampleCount")
        return cw.MathExpression(expression="values / 60", using_metrics={"values": values}, label="predictions/s")
    per_class = _search(spec, catalog.PREDICTIONS, "Sum", 60)
    return cw.MathExpression(expression=f"SUM({per_class}) / 60", label="predictions/s", period=MINUTE)


def _output_distribution(spec: MonitoringSpec) -> cw.GraphWidget:
    """What the model answers, per record: a classifier's confidence, a regression's value."""
    if spec.task == "regression":
        return _graph(
            "Predicted value distribution",
            [_metric(spec, catalog.PREDICTED_VALUE, p, label=p) for p in PERCENTILES],
            left_annotations=_threshold(spec, catalog.PREDICTED_VALUE),
        )
    return _graph(
        "Confidence distribution",
        [_metric(spec, catalog.CONFIDENCE, p, label=p) for p in PERCENTILES],
        left_annotations=_threshold(spec, catalog.CONFIDENCE),
        left_y_axis=cw.YAxisProps(min=0, max=1),
    )


def _output_over_time(spec: MonitoringSpec) -> cw.GraphWidget:
    if spec.task == "regression":
        return _graph(
            "Predicted value over time",
            [
                _metric(spec, catalog.PREDICTED_VALUE, statistic, FIVE_MINUTES, label=statistic)
                for statistic in ("Minimum", "p50", "Average", "Maximum")
            ],
            width=12,
        )
    return _graph("Predicted classes over time", [_every_series(spec, catalog.PREDICTIONS)], width=12, stacked=True)


def _performance(spec: MonitoringSpec, window: str) -> cw.GraphWidget:
    """The task's performance on labelled rows beside its label-free estimate (CBPE, DLE)."""
    keys = PERFORMANCE_PANEL[spec.task]
    shown = [catalog.PERFORMANCE[k] for k in keys] + [
        catalog.ESTIMATED_PERFORMANCE[k] for k in keys if k in catalog.ESTIMATED_PERFORMANCE
    ]
    shown = [m for m in shown if m.applies_to(spec.task)]
    annotations = [a for m in shown for a in _threshold(spec, m)]
    metrics = [_metric(spec, m, "Average", HOUR, window=window) for m in shown]
    if spec.task == "regression":
        errors = ", ".join(catalog.PERFORMANCE[k].name for k in keys)
        return _graph(f"Errors ({errors}): labelled and estimated ({window})", metrics, left_annotations=annotations)
    return _graph(
        f"{catalog.PERFORMANCE[keys[0]].name}: labelled and estimated ({window})",
        metrics,
        left_annotations=annotations,
        left_y_axis=cw.YAxisProps(min=0, max=1),
    )
