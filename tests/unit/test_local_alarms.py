"""The local runtime's CloudWatch: EMF lines become metrics, and the spec's alarms are evaluated
over them the way CloudWatch's documents say: M of N datapoints over the evaluation range,
partially missing data ("Configuring how CloudWatch alarms treat missing data"), low-sample
percentiles ("Percentile-based alarms and low data samples") and metric math."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from modelwatch.alerts.plan import PlannedAlarm
from modelwatch.catalog.metrics import API_5XX_RATE, API_ID_DIMENSION, API_REQUESTS, API_SERVER_ERRORS
from modelwatch.spec import SpecError, parse_spec
from modelwatch.spec.models import AlertRule, MonitoringSpec
from modelwatch_local.alarms import LOCAL_API_ID, AlarmEvaluator, too_few_samples
from modelwatch_local.math_expression import UnsupportedExpressionError, evaluate_expression
from modelwatch_local.metrics import MetricStore, statistic
from tests.conftest import ROOT

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
        "statistic": "Maximum",
        "comparison": "GreaterThanThreshold",
        "threshold": 0.5,
        "period_seconds": 60,
        "evaluation_periods": 3,
    } | changes
    return AlertRule(**fields)


def _evaluator(spec: MonitoringSpec, rule: AlertRule) -> tuple[AlarmEvaluator, PlannedAlarm]:
    evaluator = AlarmEvaluator(spec.model_copy(update={"alerts": [rule]}), MetricStore())
    return evaluator, next(a for a in evaluator.planned if a.name == rule.name)


def _state_after(spec: MonitoringSpec, rule: AlertRule, pattern: str, current: str) -> str:
    """The state after one evaluation in the last minute of `pattern`, one minute per symbol,
    oldest first, as the document writes them: 0 not breaching, X breaching, - missing."""
    evaluator, alarm = _evaluator(spec, rule)
    evaluator.states[alarm.name] = current
    symbols = pattern.split()
    for minute, symbol in enumerate(symbols):
        if symbol != "-":
            value = 0.9 if symbol == "X" else 0.1
            evaluator.store.put("ModelWatch", "Confidence", alarm.dimensions, value, T0 + timedelta(minutes=minute))
    evaluator.evaluate(T0 + timedelta(minutes=len(symbols) - 1, seconds=30))
    return evaluator.states[alarm.name]


# "Configuring how CloudWatch alarms treat missing data", its table for 3 of 3 datapoints to alarm
# with five datapoints retrieved (the evaluation range), one column per treat_missing_data. "keep"
# is the table's "Retain current state" (checked from both OK and ALARM).
MISSING_DATA_TABLE = [
    ("0 - X - X", {"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"}),
    ("- - - - 0", {"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"}),
    ("- - - - -", {"missing": "INSUFFICIENT_DATA", "ignore": "keep", "breaching": "ALARM", "notBreaching": "OK"}),
    ("0 X X - X", {"missing": "ALARM", "ignore": "ALARM", "breaching": "ALARM", "notBreaching": "ALARM"}),
    ("- - X - -", {"missing": "ALARM", "ignore": "keep", "breaching": "ALARM", "notBreaching": "OK"}),
]


@pytest.mark.parametrize(
    ("pattern", "treatment", "expected"),
    [(pattern, treatment, state) for pattern, row in MISSING_DATA_TABLE for treatment, state in row.items()],
)
def test_the_documented_missing_data_table(demo_spec, pattern, treatment, expected):
    rule = _rule(treat_missing_data=treatment, datapoints_to_alarm=3)
    for current in ("OK", "ALARM"):
        assert _state_after(demo_spec, rule, pattern, current) == (current if expected == "keep" else expected)


def test_older_datapoints_in_the_evaluation_range_stand_in_for_missing_recent_ones(demo_spec):
    # Three real datapoints within five periods are the three evaluated: the gap is not filled.
    rule = _rule(treat_missing_data="notBreaching")
    assert _state_after(demo_spec, rule, "X X - X", "OK") == "ALARM"
    # Beyond the range (evaluation periods + 2), an old breach no longer counts.
    assert _state_after(demo_spec, rule, "X - - - - X X", "OK") == "OK"


@pytest.mark.parametrize(
    ("pattern", "datapoints", "expected"),
    [("X 0 X", 2, "ALARM"), ("X 0 X", 3, "OK"), ("0 0 X", 2, "OK"), ("X X 0 X", 2, "ALARM")],
)
def test_m_out_of_n(demo_spec, pattern, datapoints, expected):
    assert _state_after(demo_spec, _rule(datapoints_to_alarm=datapoints), pattern, "OK") == expected


@pytest.mark.parametrize(
    ("percentile", "fewest_significant"), [("p95", 200), ("p50", 20), ("p99", 1000), ("p10", 100), ("p99.9", 10000)]
)
def test_the_documented_low_sample_count_of_each_percentile(percentile, fewest_significant):
    assert too_few_samples(percentile, fewest_significant - 1)
    assert not too_few_samples(percentile, fewest_significant)


def _latency_minute(evaluator: AlarmEvaluator, alarm: PlannedAlarm, minute: int, samples: int, value: float) -> None:
    for _ in range(samples):
        evaluator.store.put("ModelWatch", "PredictionLatency", alarm.dimensions, value, T0 + timedelta(minutes=minute))


def test_ignore_keeps_the_state_through_a_low_sample_period_instead_of_treating_it_as_missing(demo_spec):
    rule = _rule(
        metric="PredictionLatency",
        statistic="p95",
        threshold=500,
        evaluation_periods=1,
        evaluate_low_sample_count_percentile="ignore",
    )
    evaluator, alarm = _evaluator(demo_spec, rule)
    _latency_minute(evaluator, alarm, 0, 199, 900.0)  # one short of 10/(1-0.95): not judged
    evaluator.evaluate(T0 + timedelta(seconds=30))
    assert evaluator.states[alarm.name] == "INSUFFICIENT_DATA"
    _latency_minute(evaluator, alarm, 1, 200, 900.0)
    evaluator.evaluate(T0 + timedelta(minutes=1, seconds=30))
    assert evaluator.states[alarm.name] == "ALARM"
    # A quiet minute of fast requests: too few to judge, so the alarm stays (missing data with
    # notBreaching would have moved it to OK).
    _latency_minute(evaluator, alarm, 2, 30, 100.0)
    assert not evaluator.evaluate(T0 + timedelta(minutes=2, seconds=30))
    assert evaluator.states[alarm.name] == "ALARM"
    _latency_minute(evaluator, alarm, 3, 250, 100.0)
    evaluator.evaluate(T0 + timedelta(minutes=3, seconds=30))
    assert evaluator.states[alarm.name] == "OK"


def test_evaluate_judges_a_percentile_over_any_number_of_samples(demo_spec):
    rule = _rule(
        metric="PredictionLatency",
        statistic="p95",
        threshold=500,
        evaluation_periods=1,
        evaluate_low_sample_count_percentile="evaluate",
    )
    evaluator, alarm = _evaluator(demo_spec, rule)
    _latency_minute(evaluator, alarm, 0, 5, 900.0)
    evaluator.evaluate(T0 + timedelta(seconds=30))
    assert evaluator.states[alarm.name] == "ALARM"


def test_min_samples_is_refused_with_what_cloudwatch_has_instead():
    document = tomllib.loads((ROOT / "monitoring.toml").read_text())
    document["alerts"][0].pop("evaluate_low_sample_count_percentile")
    document["alerts"][0]["min_samples"] = 10
    document["alerts"][2]["evaluate_low_sample_count_percentile"] = "ignore"  # an Average of a rate
    with pytest.raises(SpecError) as caught:
        parse_spec(document, "spec.toml")
    problems = "\n".join(caught.value.problems)
    assert "min_samples was removed" in problems and "evaluate_low_sample_count_percentile" in problems
    assert "percentile statistics (pNN) only" in problems


def test_metric_math_evaluates_the_catalogue_expression():
    expression = API_5XX_RATE.math.expression
    assert evaluate_expression(expression, {"errors": 3.0, "requests": 40.0}) == 7.5
    assert evaluate_expression(expression, {"errors": 0.0, "requests": 0.0}) == 0.0  # IF guards the division
    assert evaluate_expression("100 * errors / MAX([requests, 1])", {"errors": 2.0, "requests": 0.0}) == 200.0
    assert evaluate_expression("errors / requests", {"errors": 1.0, "requests": 0.0}) is None
    with pytest.raises(UnsupportedExpressionError):
        evaluate_expression("__import__('os')", {})


def test_the_5xx_rate_alarm_is_the_math_over_api_gateway_counts_not_a_statistic_of_samples(demo_spec):
    evaluator = AlarmEvaluator(demo_spec, MetricStore())
    (errors_alarm,) = [a for a in evaluator.planned if a.rule.metric == API_5XX_RATE.name]
    assert errors_alarm.math is API_5XX_RATE.math and errors_alarm.dimensions == {}
    api = {API_ID_DIMENSION: LOCAL_API_ID}
    for minute, (requests, errors) in enumerate([(40, 3), (50, 4)]):
        at = T0 + timedelta(minutes=minute)
        for n in range(requests):
            evaluator.store.put(API_REQUESTS.namespace, API_REQUESTS.name, api, 1.0, at)
            evaluator.store.put(API_SERVER_ERRORS.namespace, API_SERVER_ERRORS.name, api, float(n < errors), at)
    points = evaluator.datapoints(errors_alarm, T0 + timedelta(minutes=1, seconds=30))
    assert [p.value for p in points[-2:]] == [7.5, 8.0] and all(p.value is None for p in points[:-2])
    (change,) = [c for c in evaluator.evaluate(T0 + timedelta(minutes=1, seconds=30)) if c.alarm is errors_alarm]
    assert change.new == "ALARM"
    trigger = change.sns_message("ModelWatch")["Trigger"]
    (expression,) = [m for m in trigger["Metrics"] if "Expression" in m]
    assert expression["Expression"] == API_5XX_RATE.math.expression and "MetricName" not in trigger
    inputs = {m["Id"]: m["MetricStat"] for m in trigger["Metrics"] if "MetricStat" in m}
    assert {i: (s["Metric"]["MetricName"], s["Stat"], s["Period"]) for i, s in inputs.items()} == {
        "errors": ("5xx", "Sum", 60),
        "requests": ("Count", "Sum", 60),
    }


def test_a_change_is_reported_once_in_cloudwatchs_format(demo_spec):
    store = MetricStore()
    evaluator = AlarmEvaluator(demo_spec, store)
    latency = next(a for a in evaluator.planned if a.name == "HighPredictionLatency")
    assert latency.rule.evaluate_low_sample_count_percentile == "ignore"
    for minute in range(5):
        _latency_minute(evaluator, latency, minute, 200, 900.0)
    changes = [c for c in evaluator.evaluate(T0 + timedelta(minutes=4, seconds=30)) if c.alarm is latency]
    assert [(c.old, c.new) for c in changes] == [("INSUFFICIENT_DATA", "ALARM")]
    message = changes[0].sns_message("ModelWatch")
    assert (
        message["AlarmName"] == "ModelWatch-HighPredictionLatency" and message["Trigger"]["ExtendedStatistic"] == "p95"
    )
    assert message["Trigger"]["EvaluateLowSampleCountPercentile"] == "ignore"
    assert message["NewStateReason"].startswith("Threshold Crossed: 5 out of the last 5 datapoints [900")
    assert not [c for c in evaluator.evaluate(T0 + timedelta(minutes=4, seconds=50)) if c.alarm is latency]
