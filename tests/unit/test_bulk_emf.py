"""BulkEMFProvider writes the documents Powertools' own provider writes for the same values: the
same metrics, units and values as CloudWatch reads them, split into documents at the same points
(100 values of a metric, 100 metrics), whatever mix of bulk and one-by-one adds produced them; in
EMF's shortest form; and a metric it does not send is a plain property of the document."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import time
import warnings

import pytest
from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from functions.shared.emit import BulkEMFProvider, MetricFamily, add_metric, add_values, add_values_per
from modelwatch.catalog import metrics as catalog
from modelwatch.catalog.metrics import LARGEST_MAGNITUDE

TIMESTAMP = int(time.time() * 1000)  # CloudWatch takes 14 days back at most: Powertools warns


def _documents(provider: AmazonCloudWatchEMFProvider, fill) -> list[dict]:
    """The documents printed while `fill` adds values and when the invocation's metrics flush."""
    metrics = Metrics(provider=provider)
    metrics.set_timestamp(TIMESTAMP)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        fill(metrics)
        metrics.flush_metrics()
    return [json.loads(line) for line in printed.getvalue().splitlines()]


def _as_read(document: dict) -> dict:
    """A document as CloudWatch reads it ("Specification: Embedded metric format"): a metric
    without a unit has unit None, and a metric's value is a number or a list of numbers."""
    read = copy.deepcopy(document)
    for directive in read["_aws"]["CloudWatchMetrics"]:
        for definition in directive["Metrics"]:
            definition.setdefault("Unit", "None")
            values = read[definition["Name"]]
            read[definition["Name"]] = [float(v) for v in (values if isinstance(values, list) else [values])]
    return read


def _both(fill) -> tuple[list[dict], list[dict]]:
    ours = _documents(BulkEMFProvider(namespace="N", service="s"), fill)
    theirs = _documents(AmazonCloudWatchEMFProvider(namespace="N", service="s"), fill)
    return [_as_read(d) for d in ours], [_as_read(d) for d in theirs]


def _request(features: int, records: int):
    """A prediction request's document: latencies, a value per record, a count per class and
    every feature's values."""

    def fill(metrics: Metrics) -> None:
        add_metric(metrics, catalog.PREDICTION_LATENCY, 0.25)
        add_values(metrics, catalog.CONFIDENCE, [0.5 + i / (2 * records) for i in range(records)])
        add_values_per(metrics, catalog.PREDICTIONS, {"yes": [records - 1], "no": [1]})
        names = [f"f{j}" for j in range(features)]
        rows = [
            {name: (None if (i + j) % 7 == 0 else i * j + 0.5) for j, name in enumerate(names)} for i in range(records)
        ]
        MetricFamily(catalog.FEATURE_VALUE, names).add_from(metrics, rows)
        add_metric(metrics, catalog.MODEL_LATENCY, 0.1)

    return fill


@pytest.mark.parametrize(
    ("features", "records"),
    [(3, 1), (50, 1), (92, 1), (97, 1), (120, 1), (3, 99), (3, 100), (3, 101), (5, 250)],
)
def test_a_requests_documents_are_powertools_own(features, records):
    ours, theirs = _both(_request(features, records))
    assert ours == theirs
    assert all(len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) <= 100 for d in ours)


def test_values_added_one_by_one_then_in_bulk_split_where_powertools_splits():
    def fill(metrics: Metrics) -> None:
        for value in range(60):
            metrics.add_metric("Confidence", MetricUnit.NoUnit, value / 100)
        add_values(metrics, catalog.CONFIDENCE, [0.9] * 70)

    ours, theirs = _both(fill)
    assert ours == theirs and len(ours) == 2


def test_values_are_recorded_as_cloudwatch_takes_them():
    def fill(metrics: Metrics) -> None:
        add_values(metrics, catalog.CONFIDENCE, [1e-200, 0, 3, 1e300, -1e300, float("nan"), float("inf")])
        add_values(metrics, catalog.PREDICTED_VALUE, [float("nan")])  # nothing to record: no metric
        MetricFamily(catalog.FEATURE_VALUE, ["a"]).add_from(metrics, [{"a": float("-inf")}, {"a": 2}])

    (document,) = _documents(BulkEMFProvider(namespace="N", service="s"), fill)
    assert document["Confidence"] == [0, 0, 3, LARGEST_MAGNITUDE, -LARGEST_MAGNITUDE]
    assert document["FeatureValue.a"] == 2
    assert "PredictedValue" not in document


def test_feature_values_one_by_one_and_by_family_make_the_same_document():
    """The request path's family of feature metrics against Powertools' add_metric, value by value."""
    rows = [{"a": 1, "b": None, "c": 2.5}, {"a": 3, "c": 1e-300}, {"b": -1e300}]

    def by_family(metrics: Metrics) -> None:
        MetricFamily(catalog.FEATURE_VALUE, ["a", "b", "c"]).add_from(metrics, rows)

    def one_by_one(metrics: Metrics) -> None:
        for row in rows:
            for name in ("a", "b", "c"):
                if row.get(name) is not None:
                    add_metric(metrics, catalog.FEATURE_VALUE, row[name], of=name)

    (ours,) = map(_as_read, _documents(BulkEMFProvider(namespace="N", service="s"), by_family))
    (theirs,) = map(_as_read, _documents(AmazonCloudWatchEMFProvider(namespace="N", service="s"), one_by_one))
    names = {m["Name"] for m in ours["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"FeatureValue.a", "FeatureValue.b", "FeatureValue.c"}
    assert (
        {n: ours[n] for n in names}
        == {n: theirs[n] for n in names}
        == {
            "FeatureValue.a": [1.0, 3.0],
            "FeatureValue.b": [-LARGEST_MAGNITUDE],
            "FeatureValue.c": [2.5, 0.0],
        }
    )


def test_a_named_metric_needs_its_name_and_others_refuse_one():
    metrics = Metrics(provider=BulkEMFProvider(namespace="N", service="s"))
    with pytest.raises(ValueError, match="named per feature"):
        add_values(metrics, catalog.FEATURE_VALUE, [1.0])
    with pytest.raises(ValueError, match="named per"):
        add_values_per(metrics, catalog.CONFIDENCE, {"x": [1.0]})
    with pytest.raises(ValueError, match="named per"):
        MetricFamily(catalog.CONFIDENCE, ["x"])
    metrics.provider.clear_metrics()


def test_a_metric_sent_only_when_nonzero_leaves_its_zeros_out():
    def fill(metrics: Metrics) -> None:
        add_metric(metrics, catalog.PREDICTION_LATENCY, 0.2)
        add_metric(metrics, catalog.MISSING_VALUES, 0)
        add_metric(metrics, catalog.OUT_OF_RANGE, 2)

    (document,) = _documents(BulkEMFProvider(namespace="N", service="s"), fill)
    assert "MissingValues" not in document and document["OutOfRange"] == 2


def test_the_document_is_emfs_shortest_form():
    """No "Unit": "None", a single value as a number, whole numbers without ".0": 30 bytes fewer
    for a one-record request than Powertools writes, read by CloudWatch the same (above)."""

    def fill(metrics: Metrics) -> None:
        add_metric(metrics, catalog.PREDICTION_LATENCY, 0.25)
        add_values(metrics, catalog.CONFIDENCE, [0.75])
        add_values_per(metrics, catalog.PREDICTIONS, {"yes": [1]})

    (ours,) = _documents(BulkEMFProvider(namespace="N", service="s"), fill)
    (theirs,) = _documents(AmazonCloudWatchEMFProvider(namespace="N", service="s"), fill)
    units = {m["Name"]: m.get("Unit") for m in ours["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"PredictionLatency": "Milliseconds", "Confidence": None, "Predictions.yes": "Count"}
    assert (ours["PredictionLatency"], ours["Confidence"], ours["Predictions.yes"]) == (0.25, 0.75, 1)
    assert len(json.dumps(ours, separators=(",", ":"))) < len(json.dumps(theirs, separators=(",", ":"))) - 20


def test_a_metric_the_provider_does_not_send_is_a_property_of_the_document():
    """What nothing reads (modelwatch.alerts.consumed) costs no metric: its values stay in the
    document, where Logs Insights finds them, and leave with it."""

    def fill(metrics: Metrics) -> None:
        add_metric(metrics, catalog.PREDICTION_LATENCY, 0.25)
        add_metric(metrics, catalog.MODEL_LATENCY, 0.125)
        add_values(metrics, catalog.CONFIDENCE, [0.5, 0.75])
        add_metric(metrics, catalog.MODEL_LATENCY, 0.5)

    sent = frozenset({catalog.PREDICTION_LATENCY.name})
    provider = BulkEMFProvider(namespace="N", service="s", sent=sent)
    (document,) = _documents(provider, fill)
    assert [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["PredictionLatency"]
    assert document["ModelLatency"] == [0.125, 0.5] and document["Confidence"] == [0.5, 0.75]
    # An invocation whose document has no metric prints nothing and keeps nothing for the next one.
    metrics = Metrics(provider=provider)
    with contextlib.redirect_stdout(io.StringIO()) as printed, warnings.catch_warnings():
        warnings.simplefilter("error")  # nor Powertools' "No application metrics" warning
        add_metric(metrics, catalog.MODEL_LATENCY, 9.0)
        metrics.flush_metrics()
    assert printed.getvalue() == "" and provider.metadata_set == {}
