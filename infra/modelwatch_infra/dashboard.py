"""The CloudWatch dashboard, built from the widget catalogue (modelwatch.alerts.dashboard), the
one the local runtime draws too: the seed's panels (predictions, p95 latency, the confidence
distribution, drift score per feature, each class over time) and the rest an on-call person
needs (drift share, errors, cold starts, duration and memory, capture, accuracy, KPIs, quality,
feature values, the alarms' states, retraining outcomes). This module only turns each declared
series or query into its CDK form."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from modelwatch.alerts.dashboard import Series, Widget, dashboard_rows
from modelwatch.catalog.functions import PREDICT
from modelwatch.catalog.metrics import CATALOGUE
from modelwatch.spec.models import MonitoringSpec

HEIGHT = 6


def _search(spec: MonitoringSpec, series: Series) -> str:
    """Every series of the metric, whatever the values of its dimensions (the catalogue's) or of
    the value its name carries: unquoted, `MetricName=Predictions` is CloudWatch's partial match,
    a token of the name, so it finds every `Predictions.<class>`."""
    metric = CATALOGUE[series.name]
    schema = f"{{{spec.metrics.namespace},{','.join(sorted(metric.dimensions))}}}"
    name = metric.name if metric.named_per else f'"{metric.name}"'
    return f"SEARCH('{schema} MetricName={name}', '{series.statistic}', {series.period_seconds})"


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
        self.spec, self.api, self.functions, self.predict_logs, self.alarms = spec, api, functions, predict_logs, alarms
        rows = [[self._widget(widget) for widget in row] for row in dashboard_rows(spec)]
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=name, widgets=rows)

    def _widget(self, widget: Widget) -> cw.IWidget:
        if widget.kind == "alarms":
            return cw.AlarmStatusWidget(title=widget.title, alarms=self.alarms, width=widget.width, height=HEIGHT)
        if widget.kind == "logs":
            # Every "logs" widget of the catalogue reads the prediction function's lines.
            if {s.function for s in widget.series} != {PREDICT.name}:
                raise ValueError(f"{widget.title}: only the prediction function's log group is on the dashboard")
            return cw.LogQueryWidget(
                title=widget.title,
                log_group_names=[self.predict_logs.log_group_name],
                query_lines=list(widget.logs_query()),
                view=cw.LogQueryVisualizationType.LINE,
                width=widget.width,
                height=HEIGHT,
            )
        options = {}
        if widget.y_range is not None:
            options["left_y_axis"] = cw.YAxisProps(min=widget.y_range[0], max=widget.y_range[1])
        annotations = [
            cw.HorizontalAnnotation(value=t.value, label=t.label, color=cw.Color.RED) for t in widget.thresholds
        ]
        return cw.GraphWidget(
            title=widget.title,
            left=[self._series(s) for s in widget.series],
            left_annotations=annotations or None,
            stacked=widget.stacked,
            width=widget.width,
            height=HEIGHT,
            **options,
        )

    def _series(self, series: Series) -> cw.IMetric:
        period = cdk.Duration.seconds(series.period_seconds)
        if series.source == "metric":
            return cw.Metric(
                namespace=self.spec.metrics.namespace,
                metric_name=series.name,
                dimensions_map={"service": self.spec.metrics.service, **dict(series.dimensions)},
                statistic=series.statistic,
                period=period,
                label=series.label,
            )
        if series.source == "each":
            return cw.MathExpression(expression=_search(self.spec, series), label=series.label, period=period)
        if series.source == "total":
            return cw.MathExpression(expression=f"SUM({_search(self.spec, series)})", label=series.label, period=period)
        if series.source == "lambda":
            function = self.functions[series.function]  # type: ignore[index]
            return function.metric(series.name, statistic=series.statistic, period=period, label=series.label)
        if series.source == "api":
            return self.api.metric(series.name, statistic=series.statistic, period=period, label=series.label)
        raise ValueError(f"series source {series.source} has no CloudWatch form")
