"""The stack for a regression spec: its dashboard shows predicted values and errors (labelled and
estimated by DLE), never a confidence; its alarms are the spec's, an error alarm among them."""

from __future__ import annotations

import json

import pytest

from modelwatch.spec import SpecError, load_spec
from tests.infra.conftest import synthesize

REGRESSION_SPEC = """
version = 1

[model]
name = "price"
task = "regression"

[columns]
target = "price"
prediction = "predicted_price"

[features.size]
type = "numeric"
min = 0

[features.district]
type = "categorical"

[drift]
windows = [{ name = "1h", hours = 1 }, { name = "1d", hours = 24 }]

[[alerts]]
name = "HighPredictionLatency"
metric = "PredictionLatency"
statistic = "p95"
comparison = "GreaterThanThreshold"
threshold = 500

[[alerts]]
name = "HighPriceError"
metric = "MAE"
statistic = "Maximum"
comparison = "GreaterThanThreshold"
threshold = 25000
window = "1d"
period_seconds = 3600

[retraining]
performance = { metric = "mae", above = 30000 }
"""


@pytest.fixture(scope="module")
def regression_template(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "regression.toml"
    spec.write_text(REGRESSION_SPEC)
    _, template, _ = synthesize({"spec": str(spec)}, nag=False)
    return template.to_json()


def _resources(template: dict, kind: str) -> list[dict]:
    return [v["Properties"] for v in template["Resources"].values() if v["Type"] == kind]


def test_a_regression_dashboard_shows_values_and_errors_not_confidence(regression_template):
    (dashboard,) = _resources(regression_template, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["DashboardBody"])
    for title in ("Predicted value (min, mean, max)", "Predicted value over time", "Errors (MAE, RMSE)"):
        assert title in body, title
    for metric in ("PredictedValue", "MAE", "EstimatedMAE", "RMSE", "EstimatedRMSE"):
        assert f'\\"{metric}\\"' in body, metric
    for absent in ("Confidence distribution", "Predicted classes over time", '\\"Confidence\\"', '\\"Accuracy\\"'):
        assert absent not in body, absent


def test_a_regression_gets_its_error_alarm_and_error_trigger(regression_template):
    alarms = {a["AlarmName"]: a for a in _resources(regression_template, "AWS::CloudWatch::Alarm")}
    error = alarms["ModelWatch-HighPriceError"]
    assert error["MetricName"] == "MAE" and error["Threshold"] == 25000
    assert {"Name": "window", "Value": "1d"} in error["Dimensions"]
    retrain = alarms["ModelWatch-RetrainOnPerformance"]
    assert retrain["MetricName"] == "MAE" and retrain["ComparisonOperator"] == "GreaterThanThreshold"
    assert not any(a.get("MetricName") == "Confidence" for a in alarms.values())


def test_an_alert_on_a_metric_the_task_lacks_is_refused(tmp_path):
    spec = tmp_path / "confident.toml"
    spec.write_text(
        REGRESSION_SPEC
        + '\n[[alerts]]\nname = "LowConfidence"\nmetric = "Confidence"\nstatistic = "p50"\n'
        + 'comparison = "LessThanThreshold"\nthreshold = 0.6\n'
    )
    with pytest.raises(SpecError) as raised:
        load_spec(spec)
    assert "alerts[2].metric: 'Confidence' has no value for a regression model" in str(raised.value)
