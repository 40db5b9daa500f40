"""The cost model counts what the catalogues and the alarm plan declare: a metric, function or
alarm added there is billed without touching the model. Prices come from one dated file."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog import functions as fcat
from modelwatch.catalog import metrics as mcat
from modelwatch.cli.main import main
from modelwatch.cost.model import estimate
from modelwatch.cost.usage import (
    Traffic,
    alarms_from_plan,
    capture_deliveries,
    load_footprint,
    load_prices,
    monthly_usage,
)
from modelwatch.spec.models import AlertRule
from tests.conftest import ROOT

SPEC_PATH = str(ROOT / "monitoring.toml")
MILLION = Traffic(requests_per_month=1_000_000)


def _cost_json(capsys, *args: str) -> dict:
    assert main(["cost", "--spec", SPEC_PATH, "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_price_file_is_dated_and_every_price_is_positive():
    prices = load_prices()
    assert prices["checked"] and prices["region"] == "us-east-1"
    for section, values in prices.items():
        if isinstance(values, dict):
            assert values["source"].startswith("https://"), section
            numbers = [v for v in values.values() if isinstance(v, int | float)]
            assert numbers and all(v > 0 for v in numbers), section


def test_the_footprint_names_only_catalogued_functions():
    footprint = load_footprint()
    for table in (footprint["log_bytes"]["per_invocation"], footprint["duration_ms"]["per_invocation"]):
        assert set(table) <= set(fcat.FUNCTIONS)


def test_json_has_the_totals_and_components(capsys):
    result = _cost_json(capsys, "--requests-per-month", "1000000")
    assert result["total_per_month"] == pytest.approx(sum(result["components"].values()), abs=0.01)
    assert result["per_million_predictions"] == pytest.approx(result["total_per_month"], rel=1e-3)
    for component in ("api_gateway", "lambda_predict", "lambda_snapstart", "logs_ingestion", "logs_storage"):
        assert component in result["components"]
    for component in ("custom_metrics", "alarms", "dashboard", "s3_requests", "s3_storage", "step_functions"):
        assert component in result["components"]
    assert {"xray", "kms", "secrets_manager"} <= set(result["components"])


def test_no_traffic_has_no_cost_per_prediction(capsys):
    result = _cost_json(capsys, "--requests-per-month", "0")
    assert result["per_million_predictions"] is None
    assert result["components"]["custom_metrics"] == 0
    assert result["components"]["api_gateway"] == 0


def test_idle_costs_only_what_exists_without_traffic(demo_spec):
    """Idle: alarms, dashboard, key, secret, plus SnapStart's cached snapshot and the hourly
    drift check's listing (the floor the README states)."""
    idle = estimate(demo_spec, Traffic(requests_per_month=0)).components
    fixed = {"alarms", "dashboard", "kms", "secrets_manager"}
    floor = {"lambda_snapstart", "s3_requests", "lambda_drift", "lambda_retrain", "s3_storage"}
    assert all(value < 0.01 for name, value in idle.items() if name not in fixed | floor), idle
    without_snapstart = estimate(demo_spec, Traffic(requests_per_month=0, snap_start=False))
    assert without_snapstart.total_per_month < 10.5


def _sending_every_drift_series(spec):
    return spec.model_copy(update={"metrics": spec.metrics.model_copy(update={"drift_series": "all"})})


def test_a_metric_added_to_the_catalogue_is_billed(demo_spec, monkeypatch):
    every = _sending_every_drift_series(demo_spec)
    before = monthly_usage(every, MILLION).custom_metrics
    before_by_default = monthly_usage(demo_spec, MILLION).custom_metrics
    extra = mcat.Metric("SomethingNew", "None", ("predict",), "a metric someone adds")
    monkeypatch.setitem(mcat.CATALOGUE, extra.name, extra)
    assert monthly_usage(every, MILLION).custom_metrics == pytest.approx(before + 1, abs=0.01)
    per_window = mcat.Metric("SomethingPerFeature", "None", ("drift",), "a drift metric per feature", per="feature")
    monkeypatch.setitem(mcat.CATALOGUE, per_window.name, per_window)
    expected = before + 1 + len(demo_spec.features) * len(demo_spec.drift.windows)
    assert monthly_usage(every, MILLION).custom_metrics == pytest.approx(expected, abs=0.01)
    # By default a drift metric nothing reads is not sent, and costs nothing; the other is billed.
    assert monthly_usage(demo_spec, MILLION).custom_metrics == pytest.approx(before_by_default + 1, abs=0.01)


def test_a_function_added_to_the_catalogue_is_billed(demo_spec, monkeypatch):
    before = estimate(demo_spec, MILLION)
    added = replace(fcat.CAPTURE_FUNCTION, name="summarize", description="another asynchronous function")
    monkeypatch.setitem(fcat.FUNCTIONS, added.name, added)
    after = estimate(demo_spec, MILLION)
    assert after.components["lambda_summarize"] > 0
    assert after.usage.alarms == before.usage.alarms + 4  # errors, throttles, dead letters, dead-letter errors
    assert after.total_per_month > before.total_per_month


def test_an_alert_rule_added_to_the_spec_is_billed_per_feature(demo_spec):
    before = alarms_from_plan(demo_spec)
    rule = AlertRule(
        name="AnyFeatureDrifted",
        metric=mcat.FEATURE_DRIFTED.name,
        statistic="Maximum",
        comparison="GreaterThanThreshold",
        threshold=0,
    )
    spec = demo_spec.model_copy(update={"alerts": [*demo_spec.alerts, rule]})
    after = alarms_from_plan(spec)
    assert len(planned_alarms(spec)) == len(planned_alarms(demo_spec)) + len(demo_spec.features)
    assert after == (before[0] + len(demo_spec.features), before[1] + len(demo_spec.features))


def test_template_alarms_are_counted_with_metric_math_per_metric(demo_spec):
    template = {
        "Resources": {
            "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "X"}},
            "B": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"Metrics": [{"Expression": "a/b"}, {"MetricStat": {}}, {"MetricStat": {}}]},
            },
            "C": {"Type": "AWS::SNS::Topic"},
        }
    }
    usage = monthly_usage(demo_spec, MILLION, template=template)
    assert (usage.alarms, usage.alarm_metrics) == (2, 3)


def test_cuts_lower_the_bill(demo_spec):
    base = estimate(demo_spec, MILLION)
    traced = estimate(demo_spec, replace(MILLION, trace_background=True))
    detailed = estimate(demo_spec, replace(MILLION, api_detailed_metrics=True))
    assert traced.components["xray"] > base.components["xray"]
    assert detailed.components["custom_metrics"] == pytest.approx(base.components["custom_metrics"] + 12 * 0.30)


def test_sending_only_consumed_drift_series_is_the_largest_cut(demo_spec):
    """[metrics] drift_series = "consumed" (the default): the series alarms, triggers and the
    dashboard read, against "all"."""
    from modelwatch.alerts.consumed import consumed_drift_series

    assert demo_spec.metrics.drift_series == "consumed"  # the default
    every = monthly_usage(_sending_every_drift_series(demo_spec), MILLION)
    fewer = monthly_usage(demo_spec, MILLION)
    assert fewer.custom_metrics < every.custom_metrics - 50
    pairs = consumed_drift_series(demo_spec)
    assert ("DriftShare", "1d") in pairs and ("MissingRate", "1h") in pairs
    assert not any(window == "7d" for _, window in pairs)  # nothing reads the weekly window


def test_the_cost_model_needs_neither_aws_packages_nor_the_cdk():
    import subprocess
    import sys
    import textwrap

    absent = ("boto3", "botocore", "aws_cdk", "jsii", "moto", "aws_lambda_powertools", "modelwatch_infra")
    program = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class Absent(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {absent!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (absent in this test)")
                return None

        sys.meta_path.insert(0, Absent())
        from modelwatch.cli.main import main
        sys.exit(main(["cost", "--spec", sys.argv[1], "--requests-per-month", "1000000", "--json"]))
        """
    )
    done = subprocess.run([sys.executable, "-c", program, SPEC_PATH], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_per_month"] > 0


def test_capture_sampling_is_deterministic_by_request_id_and_cuts_the_pipeline(demo_spec):
    from modelwatch.serving.capture_sampling import captured, sampled

    ids = [f"request-{i}" for i in range(20_000)]
    kept = [i for i in ids if captured(i, 0.25)]
    assert abs(len(kept) / len(ids) - 0.25) < 0.02
    assert kept == [i for i in ids if captured(i, 0.25)]  # a label finds its prediction again
    assert sampled([{"request_id": i} for i in ids[:10]], 1.0) == [{"request_id": i} for i in ids[:10]]
    quarter = demo_spec.model_copy(update={"capture": demo_spec.capture.model_copy(update={"sample_rate": 0.25})})
    every, fewer = monthly_usage(demo_spec, MILLION), monthly_usage(quarter, MILLION)
    footprint = load_footprint()
    assert capture_deliveries(quarter, MILLION, footprint) == pytest.approx(
        capture_deliveries(demo_spec, MILLION, footprint) / 4
    )
    # Feedback lines go through the capture function too, sampled or not.
    assert fewer.invocations[fcat.CAPTURE_FUNCTION.name] < every.invocations[fcat.CAPTURE_FUNCTION.name]
    assert fewer.log_bytes[fcat.PREDICT.name] < every.log_bytes[fcat.PREDICT.name]
