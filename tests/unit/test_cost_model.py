"""The cost model counts what the catalogues and the alarm plan declare: a metric, function or
alarm added there is billed without touching the model. Prices come from one dated file."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog import functions as fcat
from modelwatch.catalog import metrics as mcat
from modelwatch.catalog.layout import CAPTURE, DELIVERIES, JOINS, LABELS
from modelwatch.cli.main import main
from modelwatch.cost.model import estimate
from modelwatch.cost.usage import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    MIB,
    SECONDS_PER_MONTH,
    SNAPSTART_INACTIVE_AFTER_DAYS,
    Traffic,
    alarms_from_plan,
    delivery_stream,
    firehose_billed_bytes,
    load_footprint,
    load_prices,
    monthly_usage,
    months_kept,
    profile_bytes,
)
from modelwatch.sketches import SKETCH_K
from modelwatch.spec.models import AlertRule
from tests.conftest import ROOT

SPEC_PATH = str(ROOT / "monitoring.toml")
MILLION = Traffic(requests_per_month=1_000_000)
HUNDRED_MILLION = Traffic(requests_per_month=100_000_000)


def _with_capture(spec, **update):
    return spec.model_copy(update={"capture": spec.capture.model_copy(update=update)})


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
    assert {"xray", "kms", "secrets_manager", "firehose"} <= set(result["components"])
    # What the capture path did, and what the model could not price, are in the counts.
    counts = result["counts"]
    assert counts["delivery_objects"] == pytest.approx(counts["s3_notifications"], abs=1)
    assert counts["delivery_objects"] == pytest.approx(counts["invocations"]["capture"], abs=0.1)
    assert counts["s3_puts_by_writer"]["delivery-stream"] == pytest.approx(counts["delivery_objects"], abs=1)
    assert result["unpriced"]["firehose_cloudwatch_logs_decompression_gb"] == counts["firehose_decompressed_gb"] > 0
    assert {"logs_batching", "delivery_objects", "snapstart", "kms_rotation"} <= set(result["assumptions"])


def test_no_traffic_has_no_cost_per_prediction(capsys):
    result = _cost_json(capsys, "--requests-per-month", "0")
    assert result["per_million_predictions"] is None
    # The one series an idle stack sends: the accounting's heartbeat, which must keep arriving.
    assert 0 < result["components"]["custom_metrics"] <= 0.30
    assert result["components"]["api_gateway"] == 0


def test_idle_costs_only_what_exists_without_traffic(demo_spec):
    """Idle: alarms, dashboard, keys, secret, and the hourly drift check (its run, listings,
    reports, the accounting's heartbeat); no delivery object, no capture invocation, no Firehose byte."""
    result = estimate(demo_spec, Traffic(requests_per_month=0))
    idle = result.components
    fixed = {"alarms", "dashboard", "kms", "secrets_manager", "custom_metrics"}
    assert {name for name, series in result.usage.metric_series.items() if series} == {"AccountingHeartbeat"}
    drift_check = {"s3_requests", "lambda_drift", "lambda_retrain", "s3_storage", "step_functions"}
    assert all(value < 0.01 for name, value in idle.items() if name not in fixed | drift_check), idle
    assert sum(idle[name] for name in drift_check) < 0.5
    assert result.usage.stream.objects == result.usage.invocations[fcat.CAPTURE_FUNCTION.name] == 0
    assert idle["firehose"] == 0


def test_an_idle_snapstart_version_is_billed_only_in_the_month_the_traffic_stopped(demo_spec):
    """Lambda deactivates a SnapStart version after 14 days without an invocation and bills its
    snapshot only while active: nothing in a steady idle month, up to 14 days in the first."""
    prices = load_prices()["lambda"]
    memory_gb = fcat.PREDICT.memory_mb / 1024
    full_month = memory_gb * SECONDS_PER_MONTH * prices["snapstart_cache_per_gb_second"]
    steady = estimate(demo_spec, Traffic(requests_per_month=0))
    first = estimate(demo_spec, Traffic(requests_per_month=0, idle_month="first"))
    assert steady.components["lambda_snapstart"] == 0
    assert first.components["lambda_snapstart"] == pytest.approx(
        full_month * SNAPSTART_INACTIVE_AFTER_DAYS / DAYS_PER_MONTH
    )
    assert "steady idle month" in steady.as_json()["assumptions"]["snapstart"]
    assert "first idle month" in first.as_json()["assumptions"]["snapstart"]
    # Busy: active all month. A request a month: active only within 14 days of one.
    busy = estimate(demo_spec, MILLION)
    assert busy.usage.snapstart_active_share == pytest.approx(1.0)
    rare = estimate(demo_spec, Traffic(requests_per_month=1))
    assert rare.usage.snapstart_active_share == pytest.approx(
        1 - math.exp(-SNAPSTART_INACTIVE_AFTER_DAYS / DAYS_PER_MONTH)
    )
    assert 0 < rare.components["lambda_snapstart"] < busy.components["lambda_snapstart"]
    assert estimate(demo_spec, replace(MILLION, snap_start=False)).components["lambda_snapstart"] == 0


def _sending_every_drift_series(spec):
    """[metrics] drift_series and series "all": every catalogued metric sent, read or not."""
    everything = {"drift_series": "all", "series": "all"}
    return spec.model_copy(update={"metrics": spec.metrics.model_copy(update=everything)})


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
    # By default ([metrics] series and drift_series "consumed") a metric nothing reads is not sent
    # as a metric, drift or not, and costs nothing.
    assert monthly_usage(demo_spec, MILLION).custom_metrics == pytest.approx(before_by_default, abs=0.01)


def test_a_function_added_to_the_catalogue_is_billed(demo_spec, monkeypatch):
    before = estimate(demo_spec, MILLION)
    added = replace(fcat.CAPTURE_FUNCTION, name="summarize", description="another asynchronous function")
    monkeypatch.setitem(fcat.FUNCTIONS, added.name, added)
    after = estimate(demo_spec, MILLION)
    assert after.components["lambda_summarize"] > 0
    # Its dead letters and dead-letter errors; its errors and throttles end in that queue, no alarms of their own.
    assert after.usage.alarms == before.usage.alarms + 2
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
    # API Gateway sends per-route metrics only in hours with requests.
    idle = Traffic(requests_per_month=0)
    idle_metrics = estimate(demo_spec, idle).components["custom_metrics"]  # the accounting's heartbeat
    assert estimate(demo_spec, replace(idle, api_detailed_metrics=True)).components["custom_metrics"] == idle_metrics
    assert estimate(demo_spec, replace(MILLION, dashboard=False)).components["dashboard"] == 0


def test_tracing_follows_the_catalogue_and_is_off_by_default(demo_spec):
    """X-Ray is opt-in (issue 14): no trace by default; on the API path, the functions the
    catalogue traces by default are the ones traced (none other), at the default sampling rule."""
    assert estimate(demo_spec, MILLION).components["xray"] == 0
    traced = monthly_usage(demo_spec, replace(MILLION, trace_api=True))
    api_calls = sum(traced.invocations[f.name] for f in fcat.FUNCTIONS.values() if f.traced_by_default)
    assert api_calls > 0
    xray = load_prices()["xray"]
    reservoir = xray["reservoir_per_second"] * SECONDS_PER_MONTH
    assert traced.xray_traces == pytest.approx(
        sum(
            min(n, reservoir) + xray["fixed_rate"] * max(0.0, n - reservoir)
            for n in (traced.invocations[f.name] for f in fcat.FUNCTIONS.values() if f.traced_by_default)
        )
    )


def test_lambda_platform_lines_are_counted_only_when_on(demo_spec):
    footprint = load_footprint()
    off = monthly_usage(demo_spec, MILLION)
    on = monthly_usage(demo_spec, replace(MILLION, platform_log_lines=True))
    per_invocation = footprint["log_bytes"]["lambda_platform_per_invocation"]
    for name, count in off.invocations.items():
        assert on.log_bytes[name] - off.log_bytes[name] == pytest.approx(count * per_invocation)


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
    quarter = _with_capture(demo_spec, sample_rate=0.25)
    every, fewer = monthly_usage(demo_spec, HUNDRED_MILLION), monthly_usage(quarter, HUNDRED_MILLION)
    assert fewer.stream.captured_records == pytest.approx(every.stream.captured_records / 4)
    assert fewer.stream.capture_lines == pytest.approx(every.stream.capture_lines / 4)
    assert fewer.stream.billed_bytes < every.stream.billed_bytes
    assert fewer.s3_stored_gb[CAPTURE.name] == pytest.approx(every.s3_stored_gb[CAPTURE.name] / 4)
    assert fewer.log_bytes[fcat.PREDICT.name] < every.log_bytes[fcat.PREDICT.name]
    # The buffer, not the traffic, sets the objects: a quarter of the lines, as many objects
    # (within the wait for the next line after a flush, under 0.1 s here).
    assert fewer.stream.objects == pytest.approx(every.stream.objects, rel=1e-3)


def test_firehose_bills_each_record_in_5kb_increments(demo_spec):
    """Direct PUT ingestion rounds each record up: 3 KB bills 5 KB, 12 KB bills 15 KB. A record is
    one Logs batch; with one log event each (the worst case), every line bills a whole increment."""
    prices = load_prices()
    increment = prices["firehose"]["ingestion_increment_bytes"]
    assert firehose_billed_bytes(3 * 1024, prices) == increment
    assert firehose_billed_bytes(12 * 1024, prices) == 3 * increment
    assert firehose_billed_bytes(increment, prices) == increment
    assert firehose_billed_bytes(increment + 1, prices) == 2 * increment
    stream = delivery_stream(demo_spec, MILLION, load_footprint(), prices)
    assert stream.billed_bytes == pytest.approx(stream.lines * increment)  # each gzipped line < 5 KB
    result = estimate(demo_spec, MILLION)
    rate = prices["firehose"]["direct_put_ingestion_per_gb"]
    assert result.components["firehose"] == pytest.approx(stream.lines * increment / 1e9 * rate)
    # A batch request's line grows past the increment and bills more of them.
    big = delivery_stream(demo_spec, replace(MILLION, records_per_request=100), load_footprint(), prices)
    assert big.billed_bytes / big.capture_lines > 2 * increment


def test_objects_an_hour_are_bounded_by_the_buffer_not_the_traffic(demo_spec):
    """An hour with traffic gets max(ceil(bytes / buffer_mib), min(3600 / (buffer_seconds + the
    wait for the next line), lines)) objects: never more than 3600 / buffer_seconds while the
    time bound decides. 100 times the traffic, the same objects (within the wait), capture
    invocations and capture S3 requests, while the records in them grow 100 times."""
    low, high = monthly_usage(demo_spec, MILLION), monthly_usage(demo_spec, HUNDRED_MILLION)
    bound = 3600 / demo_spec.capture.buffer_seconds
    for usage in (low, high):
        stream = usage.stream
        lines = stream.lines / stream.traffic_hours
        by_time = 3600 / (demo_spec.capture.buffer_seconds + 3600 / lines)
        by_size = math.ceil(stream.delivered_bytes / stream.traffic_hours / (demo_spec.capture.buffer_mib * MIB))
        assert stream.objects_per_traffic_hour == pytest.approx(max(by_size, by_time))
        assert stream.objects_per_traffic_hour <= bound
        assert stream.traffic_hours == pytest.approx(HOURS_PER_MONTH)
    capture = fcat.CAPTURE_FUNCTION.name
    assert high.stream.objects == pytest.approx(low.stream.objects, rel=0.01)
    assert high.invocations[capture] == pytest.approx(low.invocations[capture], rel=0.01)
    assert low.invocations[capture] == low.stream.objects
    assert high.s3_puts[capture] == pytest.approx(low.s3_puts[capture], rel=0.01)
    assert high.s3_gets[capture] == pytest.approx(low.s3_gets[capture], rel=0.01)
    assert high.s3_gets[fcat.DRIFT.name] == pytest.approx(low.s3_gets[fcat.DRIFT.name], rel=0.01)
    assert high.stream.records_per_object == pytest.approx(100 * low.stream.records_per_object, rel=0.01)
    # Past the size bound the objects follow the bytes: ceil(bytes an hour / buffer_mib).
    huge = delivery_stream(demo_spec, Traffic(requests_per_month=10e9), load_footprint(), load_prices())
    per_hour = huge.delivered_bytes / huge.traffic_hours
    assert huge.objects_per_traffic_hour == math.ceil(per_hour / (demo_spec.capture.buffer_mib * MIB)) > bound


def test_objects_without_a_time_buffer_and_without_traffic(demo_spec):
    """buffer_seconds = 0 is Firehose's zero buffering: at most one object per record (each a
    line). Hours without a line have no object; a trickle gets one object per line."""
    footprint, prices = load_footprint(), load_prices()
    unbuffered = delivery_stream(_with_capture(demo_spec, buffer_seconds=0), MILLION, footprint, prices)
    assert unbuffered.objects == pytest.approx(unbuffered.lines)
    assert delivery_stream(demo_spec, Traffic(requests_per_month=0), footprint, prices).objects == 0
    trickle = delivery_stream(demo_spec, Traffic(requests_per_month=100, labels_per_month=0), footprint, prices)
    assert trickle.objects <= trickle.lines
    assert trickle.objects == pytest.approx(trickle.lines, rel=0.1)  # about one line an hour: one object each
    assert trickle.traffic_hours < HOURS_PER_MONTH


def test_a_delivery_object_files_one_group_per_version_and_hour(demo_spec):
    """Per object: one (served version, hour) capture group, two when it spans an hour's end (one
    object an hour: buffer_seconds / 3600 of them while the time bound decides); per prediction
    hour of its feedback lines one labels group. Each capture group is three PUTs (capture object,
    partial profile, join index), each labels group three (the object, its hour's marker, and the
    tally of its pieces for the accounting)."""
    usage = monthly_usage(demo_spec, HUNDRED_MILLION)
    stream = usage.stream
    spans = 1 / stream.objects_per_traffic_hour  # one object an hour spans the hour's end
    assert stream.capture_groups == pytest.approx(stream.objects * (1 + spans))
    assert stream.label_groups == pytest.approx(stream.objects * (1 + spans))
    assert usage.s3_puts[fcat.CAPTURE_FUNCTION.name] == pytest.approx(
        3 * stream.capture_groups + 3 * stream.label_groups
    )
    # Fewer lines than that in an object: never more groups than lines.
    sparse = delivery_stream(demo_spec, Traffic(requests_per_month=2000), load_footprint(), load_prices())
    assert sparse.capture_groups <= sparse.capture_lines
    assert sparse.label_groups <= sparse.feedback_lines


def test_kms_keys_bill_their_first_two_rotations(demo_spec):
    """$1 a key a month, plus $1 for each of its first two yearly rotations: $3 from the third
    year (the model's default, the steady state), $1 in the first."""

    def kms(traffic, template=None):
        return pytest.approx(estimate(demo_spec, traffic, template).components["kms"], abs=0.01)

    idle = Traffic(requests_per_month=0)  # a few publishes (retraining's notices): under a cent of requests
    keys = monthly_usage(demo_spec, idle).kms_keys
    assert kms(idle) == 3.0 * keys
    assert kms(replace(idle, key_age_years=0.5)) == 1.0 * keys
    assert kms(replace(idle, key_age_years=1.5)) == 2.0 * keys
    assert kms(replace(idle, key_age_years=7)) == 3.0 * keys
    assert kms(replace(idle, kms_keys=1)) == 3.0
    assert "third year" in estimate(demo_spec, idle).as_json()["assumptions"]["kms_rotation"]
    template = {
        "Resources": {
            "Rotated": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "Kept": {"Type": "AWS::KMS::Key", "Properties": {}},
        }
    }
    assert kms(idle, template) == 3.0 + 1.0


def test_storage_is_counted_per_record_and_per_object(demo_spec):
    """Captures, join indexes, labels and deliveries by record, kept as long as the layout keeps
    each area; partial profiles by object, their size by the records in it."""
    footprint = load_footprint()
    sizes = footprint["capture_object"]
    half = monthly_usage(demo_spec, Traffic(requests_per_month=50_000_000))
    full = monthly_usage(demo_spec, HUNDRED_MILLION)
    assert half.stream.objects == pytest.approx(full.stream.objects, rel=1e-3)
    for area in (CAPTURE, JOINS, LABELS, DELIVERIES):
        assert full.s3_stored_gb[area.name] == pytest.approx(2 * half.s3_stored_gb[area.name])
    months = months_kept(CAPTURE, HUNDRED_MILLION)
    assert months == pytest.approx(HUNDRED_MILLION.capture_retention_days / DAYS_PER_MONTH)
    assert full.s3_stored_gb[CAPTURE.name] == pytest.approx(
        full.stream.captured_records * sizes["capture_record_bytes"] * months / 1e9
    )
    assert months_kept(DELIVERIES, HUNDRED_MILLION) == pytest.approx(DELIVERIES.retention_days / DAYS_PER_MONTH)
    shorter = monthly_usage(demo_spec, replace(HUNDRED_MILLION, capture_retention_days=30))
    assert shorter.s3_stored_gb[CAPTURE.name] == pytest.approx(full.s3_stored_gb[CAPTURE.name] / 3)
    # A partial profile grows with its records while it keeps every value, then barely.
    assert profile_bytes(1000, footprint) > 5 * profile_bytes(100, footprint)
    assert profile_bytes(100_000, footprint) < 1.5 * profile_bytes(SKETCH_K + 1, footprint)
    assert full.s3_stored_gb["profiles"] < 2 * half.s3_stored_gb["profiles"]
