"""The one way a function puts a metric in CloudWatch: by its catalogue entry, which brings the
name and the unit (modelwatch.catalog.metrics), with the value as CloudWatch can store it (a
magnitude below 8.5e-109, which CloudWatch rejects, is 0). Powertools writes it as EMF."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

from modelwatch.catalog.metrics import Metric, recordable

# Looked up, not constructed, on every emission (an Enum call by value costs a few microseconds).
UNITS = {unit.value: unit for unit in MetricUnit}


def add_metric(metrics: Metrics, metric: Metric, value: float, of: str | None = None) -> None:
    """A value in the invocation's EMF document (dimension `service` only); `of` names the
    feature or class of a metric named per value (FeatureValue.<feature>, Predictions.<class>)."""
    if metric.dimensions != ("service",):
        raise ValueError(f"{metric.name} has dimensions {metric.dimensions}: use emit_with_dimensions")
    if (of is None) != (metric.named_per is None):
        raise ValueError(f"{metric.name} is named per {metric.named_per}: give `of` exactly when it is")
    name = metric.name if of is None else metric.name_for(of)
    metrics.add_metric(name, UNITS[metric.unit], recordable(value))


def emit_with_dimensions(metric: Metric, value: float, namespace: str, dimensions: Mapping[str, str]) -> None:
    """A value in its own EMF document, with every dimension the catalogue gives the metric."""
    if tuple(dimensions) != metric.dimensions:
        raise ValueError(f"{metric.name} takes dimensions {metric.dimensions}, not {tuple(dimensions)}")
    with single_metric(metric.name, UNITS[metric.unit], recordable(value), namespace=namespace) as document:
        for key, dimension in dimensions.items():
            document.add_dimension(key, dimension)
