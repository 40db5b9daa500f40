"""CloudWatch metrics from the functions' EMF log lines, as CloudWatch extracts them: each
directive's metrics under each of its dimension sets, and the statistics alarms ask for.

Locally the datapoints are stamped with the simulated clock at the invocation, not the EMF
document's Timestamp (Powertools writes the wall clock, which the simulation runs ahead of)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime

import numpy as np

SeriesKey = tuple[str, str, frozenset[tuple[str, str]]]  # namespace, metric name, dimensions


Datapoint = tuple[SeriesKey, float]


def emf_datapoints(lines: Iterable[str]) -> Iterator[Datapoint]:
    """Every datapoint of every EMF document among `lines`: each directive's metrics under each
    of its dimension sets."""
    for line in lines:
        if '"_aws"' not in line:
            continue
        try:
            document = json.loads(line)
            directives = document["_aws"]["CloudWatchMetrics"]
        except (ValueError, KeyError, TypeError):
            continue  # CloudWatch drops what is not EMF, too
        for directive in directives:
            for dimension_set in directive.get("Dimensions", [[]]):
                dimensions = frozenset((name, str(document[name])) for name in dimension_set)
                for metric in directive["Metrics"]:
                    values = document.get(metric["Name"])
                    for value in values if isinstance(values, list) else [values]:
                        if isinstance(value, int | float):
                            yield (directive["Namespace"], metric["Name"], dimensions), float(value)


class MetricStore:
    def __init__(self, mirror: Callable[[list[Datapoint], datetime], None] | None = None) -> None:
        self._series: dict[SeriesKey, list[tuple[datetime, float]]] = defaultdict(list)
        # Concurrent invocations put datapoints while others (or the alarms) read: a series added
        # while another thread walks the series would break its walk.
        self._lock = threading.Lock()
        # Called with each ingestion's datapoints (the stack puts the read-back ones in moto).
        self._mirror = mirror

    def ingest(self, lines: Iterable[str], at: datetime) -> int:
        """Every EMF document among `lines`; returns how many datapoints were added."""
        points = list(emf_datapoints(lines))
        with self._lock:
            for key, value in points:
                self._series[key].append((at, value))
        if self._mirror is not None and points:
            self._mirror(points, at)
        return len(points)

    def series(self) -> list[SeriesKey]:
        """Every series that holds a datapoint: what CloudWatch bills as custom metrics."""
        with self._lock:
            return [key for key, points in self._series.items() if points]

    def put(self, namespace: str, name: str, dimensions: Mapping[str, str], value: float, at: datetime) -> None:
        with self._lock:
            self._series[(namespace, name, frozenset(dimensions.items()))].append((at, value))

    def points(self, namespace: str, name: str) -> dict[frozenset[tuple[str, str]], list[tuple[datetime, float]]]:
        """Every series of a metric, by its dimensions: what a dashboard's SEARCH finds."""
        with self._lock:
            return {
                dimensions: list(points)
                for (space, metric, dimensions), points in self._series.items()
                if space == namespace and metric == name and points
            }

    def names_under(self, namespace: str, prefix: str) -> list[str]:
        """The metric names of a namespace that start with `prefix` (Predictions.<class>, say)."""
        with self._lock:
            names = {metric for space, metric, _ in self._series if space == namespace and metric.startswith(prefix)}
        return sorted(names)

    def values(
        self, namespace: str, name: str, dimensions: Mapping[str, str], start: datetime, end: datetime
    ) -> list[float]:
        """The samples of exactly these dimensions in [start, end), as CloudWatch matches them."""
        with self._lock:
            series = list(self._series.get((namespace, name, frozenset(dimensions.items())), []))
        return [value for moment, value in series if start <= moment < end]


def statistic(values: list[float], name: str) -> float | None:
    """A CloudWatch statistic of one period's samples; None when there are none."""
    if not values:
        return None
    if name == "Sum":
        return float(np.sum(values))
    if name == "Average":
        return float(np.mean(values))
    if name == "Minimum":
        return float(np.min(values))
    if name == "Maximum":
        return float(np.max(values))
    if name == "SampleCount":
        return float(len(values))
    if name.startswith("p"):
        return float(np.percentile(values, float(name[1:]), method="inverted_cdf"))
    raise ValueError(f"statistic {name} is not supported locally")
