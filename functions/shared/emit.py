"""The one way a function puts a metric in CloudWatch: by its catalogue entry, which brings the
name and the unit (modelwatch.catalog.metrics), with the value as CloudWatch can store it (a
magnitude below 8.5e-109, which CloudWatch rejects, is 0). Powertools writes it as EMF.

A metric nothing reads (no alarm, trigger, dashboard widget or read-back: modelwatch.alerts.consumed,
under the spec's `[metrics] series`) is not sent as a metric: its values are a plain property of the
same document, which Logs Insights can search and CloudWatch does not bill."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.constants import MAX_METRICS

from modelwatch.alerts.consumed import sent_metric_names
from modelwatch.catalog.metrics import Metric, recordable, recordable_values
from modelwatch.spec.models import MonitoringSpec

# Looked up, not constructed, on every emission (an Enum call by value costs a few microseconds).
UNITS = {unit.value: unit for unit in MetricUnit}
STANDARD_RESOLUTION = 60  # seconds: what Powertools records when no resolution is given


class BulkEMFProvider(AmazonCloudWatchEMFProvider):
    """Powertools' CloudWatch EMF provider, taking a metric's values in bulk and writing the
    document with orjson.

    Powertools checks the name, unit and value of each value it is given and formats a debug line
    for it, debug on or not: about 4 µs a value. The predict function's document carries a value
    per feature, so that cost grew with the model's width on the request path (about 0.2 ms at 50
    features). Here names and units come from the metric catalogue (the spec refuses a feature or
    class that cannot name a metric) and every value has passed `recordable`: checked once, they
    go into the same metric set Powertools serializes and flushes, as its add_metric puts them. An
    add that would reach a document's 100-metric or 100-value limit goes through add_metric value
    by value, so Powertools flushes exactly where it would.

    The document Powertools serializes is written with orjson rather than the json module: the
    same JSON, in about a tenth of the time (a wide model's document is 4 KB, 60 µs with json),
    and in its shortest EMF form (`compact`): every request logs one, and CloudWatch bills the bytes.

    `sent`: catalogue names of the metrics sent as metrics (None: all); another metric's values
    are written as a plain property of the document (`add_properties`)."""

    def __init__(self, *args: Any, sent: frozenset[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent = sent

    def sends(self, metric: Metric) -> bool:
        return self.sent is None or metric.name in self.sent

    def add_properties(self, values_of: Mapping[str, list[float]]) -> None:
        """Values as plain properties of the document (a number, or a list of them)."""
        metadata = self.metadata_set
        for name, values in values_of.items():
            held = metadata.get(name)
            if held is not None:
                values = [*(held if isinstance(held, list) else [held]), *values]
            metadata[name] = values[0] if len(values) == 1 else values

    def add_values(self, unit: MetricUnit, values_of: Mapping[str, list[float]]) -> None:
        """Each named metric's values (name -> values, none empty), all in `unit`."""
        metric_set = self.metric_set
        unit_name = unit.value  # an Enum's value is a property: read once, not once a metric
        for name, values in values_of.items():
            metric = metric_set.get(name)
            if metric is None:
                if len(metric_set) + 1 >= MAX_METRICS or len(values) >= MAX_METRICS:
                    self._add_one_by_one(name, unit, values)
                    continue
                # The entry Powertools' add_metric makes, with all its keys set.
                metric_set[name] = {"Unit": unit_name, "StorageResolution": STANDARD_RESOLUTION, "Value": values}
            elif len(metric["Value"]) + len(values) >= MAX_METRICS:
                self._add_one_by_one(name, unit, values)
            else:
                metric["Value"].extend(values)

    def _add_one_by_one(self, name: str, unit: MetricUnit, values: list[float]) -> None:
        for value in values:
            self.add_metric(name, unit, value)

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if raise_on_empty_metrics and not self.metric_set:
            super().flush_metrics(raise_on_empty_metrics)  # Powertools' error
        if self.metric_set and not is_metrics_disabled():
            print(orjson.dumps(compact(self.serialize_metric_set())).decode())
        # An invocation whose metrics nothing reads prints nothing (not even Powertools' warning:
        # that is the expected case now, modelwatch.alerts.consumed), and passes none of its
        # properties to the next invocation.
        self.clear_metrics()


def compact(document: dict[str, Any]) -> dict[str, Any]:
    """The same EMF document in fewer bytes, as CloudWatch reads it alike ("Specification:
    Embedded metric format"): no "Unit": "None" (the unit a metric without one has), a metric's
    only value as a number rather than a list of one, and whole numbers without ".0"."""
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for definition in directive["Metrics"]:
            if definition.get("Unit") == "None":
                del definition["Unit"]
            values = document[definition["Name"]]
            if isinstance(values, list):
                values = [_shortest(value) for value in values]
                document[definition["Name"]] = values[0] if len(values) == 1 else values
    return document


def _shortest(value: float) -> float | int:
    """A whole number as an integer (1 rather than 1.0), within the doubles' exact integers."""
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**53 else value


def function_metrics(spec: MonitoringSpec) -> Metrics:
    """A function's Powertools Metrics, in the spec's namespace and service, on BulkEMFProvider,
    sending as metrics what something reads (`sent_metric_names`)."""
    provider = BulkEMFProvider(
        namespace=spec.metrics.namespace, service=spec.metrics.service, sent=sent_metric_names(spec)
    )
    return Metrics(provider=provider)


def add_metric(metrics: Metrics, metric: Metric, value: float, of: str | None = None) -> None:
    """A value in the invocation's EMF document (dimension `service` only); `of` names the
    feature or class of a metric named per value (FeatureValue.<feature>, Predictions.<class>)."""
    add_values(metrics, metric, (value,), of)


def add_values(metrics: Metrics, metric: Metric, values: Sequence[float], of: str | None = None) -> None:
    """Values of one metric in the invocation's EMF document, as add_metric puts each; zeros of a
    metric the catalogue sends only when nonzero are left out."""
    _check(metric, of is not None)
    recorded = recordable_values(values)
    if metric.only_when_nonzero:
        recorded = [value for value in recorded if value]
    _put(metrics, metric, {metric.name if of is None else metric.name_for(of): recorded})


class MetricFamily:
    """A metric named per feature or class (FeatureValue.<feature>) over a fixed set of them, its
    names and unit worked out once: the predict function adds one value per feature to every
    request's document, so the per-feature work is a lookup and an append."""

    def __init__(self, metric: Metric, members: Iterable[str]) -> None:
        _check(metric, True)
        self.metric = metric
        self.names = {member: metric.name_for(member) for member in members}

    def add_from(self, metrics: Metrics, rows: Iterable[Mapping[str, Any]]) -> None:
        """Each member's values in `rows` (member -> value; None or absent is no value)."""
        named: dict[str, list[float]] = {}
        for row in rows:
            for member, name in self.names.items():
                value = row.get(member)
                if value is None or (recorded := recordable(value)) is None:
                    continue
                if name in named:
                    named[name].append(recorded)
                else:
                    named[name] = [recorded]
        _put(metrics, self.metric, named)


def add_values_per(metrics: Metrics, metric: Metric, values_of: Mapping[str, Sequence[float]]) -> None:
    """Values of a metric named per feature or class, for each of them (`values_of`: feature or
    class -> its values): the catalogue entry checked once for all of them."""
    _check(metric, True)
    named = {metric.name_for(of): recordable_values(values) for of, values in values_of.items()}
    _put(metrics, metric, named)


def _check(metric: Metric, named: bool) -> None:
    if metric.dimensions != ("service",):
        raise ValueError(f"{metric.name} has dimensions {metric.dimensions}: use emit_with_dimensions")
    if named != (metric.named_per is not None):
        raise ValueError(f"{metric.name} is named per {metric.named_per}: give `of` exactly when it is")


def _put(metrics: Metrics, metric: Metric, values_of: dict[str, list[float]]) -> None:
    """Each named value set of `metric` (recorded already); one left without any is not added. A
    metric the provider does not send becomes the document's property."""
    values_of = {name: values for name, values in values_of.items() if values}
    if not values_of:
        return
    unit = UNITS[metric.unit]
    provider = metrics.provider
    if isinstance(provider, BulkEMFProvider):
        if provider.sends(metric):
            provider.add_values(unit, values_of)
        else:
            provider.add_properties(values_of)
        return
    for name, values in values_of.items():
        for value in values:
            metrics.add_metric(name, unit, value)


def emit_with_dimensions(metric: Metric, value: float, namespace: str, dimensions: Mapping[str, str]) -> None:
    """A value in its own EMF document, with every dimension the catalogue gives the metric."""
    if tuple(dimensions) != metric.dimensions:
        raise ValueError(f"{metric.name} takes dimensions {metric.dimensions}, not {tuple(dimensions)}")
    recorded = recordable(value)
    if recorded is None:
        return  # NaN or an infinity: nothing CloudWatch can store
    with single_metric(metric.name, UNITS[metric.unit], recorded, namespace=namespace) as document:
        for key, dimension in dimensions.items():
            document.add_dimension(key, dimension)
