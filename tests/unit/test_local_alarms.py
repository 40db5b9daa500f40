"""The local runtime's CloudWatch: EMF lines become metrics, and the spec's alarms are evaluated
over them the way CloudWatch does (M of N datapoints, missing data, low-sample percentiles)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from modelwatch.alerts.plan import PlannedAlarm
from modelwatch.spec.models import AlertRule
from modelwatch_local.alarms import AlarmEvaluator, _decide
from modelwatch_local.metrics import MetricStore, statistic

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _emf(values: dict[str, list[float]], **dimensions: str) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": 0,
                "CloudWatchMetrics": [
                    {"Namespace": "NS", "Dimensions": [sorted(dimensions)], "Metrics": [{"Name": n} for n in values]}
                ],
            },
            **dimensions,
            **values,
        }
    )


def test_emf_documents_become_series_by_exact_dimensions():
    store = MetricStore()
    added = store.ingest([_emf({"Latency": [1.0, 3.0]}, service="s"), "not json", '{"_aws": 1}'], T0)
    assert added == 2
    assert store.values("NS", "Latency", {"service": "s"}, T0, T0 + timedelta(minutes=1)) == [1.0, 3.0]
    assert store.values("NS", "Latency", {"service": "other"}, T0, T0 + timedelta(minutes=1)) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Sum", 10.0), ("Average", 2.5), ("Minimum", 1.0), ("Maximum", 4.0), ("SampleCount", 4.0), ("p50", 2.0)],
)
def test_statistics(name, expected):
    assert statistic([4.0, 1.0, 3.0, 2.0], name) == expected
    assert statistic([], name) is None


def _rule(**changes) -> AlertRule:
    fields = {
        "name": "R",
        "metric": "Confidence",
        "statistic": "Average",
        "comparison": "GreaterThanThreshold",
        "threshold": 0.5,
        "period_seconds": 60,
        "evaluation_periods": 3,
    } | changes
    return AlertRule(**fields)


@pytest.mark.parametrize(
    ("values", "rule", "state"),
    [
        ([0.9, 0.9, 0.9], {}, "ALARM"),
        ([0.9, 0.1, 0.9], {}, "OK"),  # 3 of 3 needed
        ([0.9, 0.1, 0.9], {"datapoints_to_alarm": 2}, "ALARM"),
        ([None, 0.9, 0.9], {"treat_missing_data": "breaching"}, "ALARM"),
        ([None, 0.9, 0.9], {"treat_missing_data": "notBreaching"}, "OK"),
        ([None, None, None], {"treat_missing_data": "missing"}, "INSUFFICIENT_DATA"),
        ([None, None, None], {"treat_missing_data": "ignore"}, "ALARM"),  # keeps the current state
    ],
)
def test_m_of_n_and_missing_data(values, rule, state):
    points = [(T0 + timedelta(minutes=i), v) for i, v in enumerate(values)]
    assert _decide(_rule(**rule), points, "ALARM")[0] == state


def test_a_percentile_over_too_few_samples_is_missing_and_a_change_is_reported_once(demo_spec):
    store = MetricStore()
    evaluator = AlarmEvaluator(demo_spec, store)
    latency = next(a for a in evaluator.planned if a.name == "HighPredictionLatency")
    assert isinstance(latency, PlannedAlarm) and latency.rule.min_samples == 10
    for minute in range(5):
        for _ in range(5):  # 5 samples a minute, fewer than min_samples: not evaluated
            store.put("ModelWatch", "PredictionLatency", latency.dimensions, 900.0, T0 + timedelta(minutes=minute))
    assert evaluator.datapoints(latency, T0 + timedelta(minutes=4))[-1][1] is None
    for minute in range(5):
        for _ in range(10):
            store.put("ModelWatch", "PredictionLatency", latency.dimensions, 900.0, T0 + timedelta(minutes=minute))
    changes = [c for c in evaluator.evaluate(T0 + timedelta(minutes=4, seconds=30)) if c.alarm is latency]
    assert [(c.old, c.new) for c in changes] == [("INSUFFICIENT_DATA", "ALARM")]
    message = changes[0].sns_message("ModelWatch")
    assert (
        message["AlarmName"] == "ModelWatch-HighPredictionLatency" and message["Trigger"]["ExtendedStatistic"] == "p95"
    )
    assert message["NewStateReason"].startswith("Threshold Crossed: 5 out of the last 5 datapoints [900")
    assert not [c for c in evaluator.evaluate(T0 + timedelta(minutes=4, seconds=50)) if c.alarm is latency]
