"""The one way a function puts a metric in CloudWatch: by its catalogue entry, which brings the
name and the unit (modelwatch.catalog.metrics), with the value as CloudWatch can store it (a
magnitude below 8.5e-109, which CloudWatch rejects, is 0). Powertools writes it as EMF."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

from modelwatch.catalog.metrics import Metric, recordable

# Looked up, not constructed, on every emission (an Enum call by value costs a few microseconds).
UNITS = {unit.value: unit for unit in MetricUnit}


def add_metric(metrics: Metrics, metric: Metric, value: float, feature: str | None = None) -> None:
    """A value in the invocation's EMF document (dimension `service` only)."""
    if metric.dimensions != ("service",):
        raise ValueError(f"{metric.name} has dimensions {metric.dimensions}: use emit_with_dimensions")
    name = metric.name_for(feature) if feature is not None else metric.name
    metrics.add_metric(name, UNITS[metric.unit], recordable(value))


def emit_with_dimensions(
    metric: Metric, value: float, namespace: str, dimensions: Mapping[str, str], at: datetime | None = None
) -> None:
    """A value in its own EMF document, with every dimension the catalogue gives the metric.

    `at`: the moment the value belongs to, when it must fall in the same hour as a record stamped
    with it (a capture record's hour); by default the document's flush time, which can be the
    next hour's first milliseconds."""
    if tuple(dimensions) != metric.dimensions:
        raise ValueError(f"{metric.name} takes dimensions {metric.dimensions}, not {tuple(dimensions)}")
    with single_metric(metric.name, UNITS[metric.unit], recordable(value), namespace=namespace) as document:
        if at is not None:
            document.set_timestamp(at)
        for key, dimension in dimensions.items():
            document.add_dimension(key, dimension)
