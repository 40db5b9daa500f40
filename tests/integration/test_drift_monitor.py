"""The monitor end to end on the embedded stack: predictions are captured, each capture object is
profiled, labels arrive late, and the scheduled drift check writes its reports and metrics."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from modelwatch.demo.data import FEATURES, demo_frame, demo_records
from modelwatch.drift import analyze
from modelwatch.profiles import DatasetProfile
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch.windows.capture_profile import parse_capture, profile_captures
from modelwatch_local.clock import MovableClock
from modelwatch_local.lambda_runtime import invoke
from modelwatch_local.stack import LocalStack
from tests.conftest import spec_sending_every_drift_series

START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def monitored(tmp_path_factory, request):
    """Three hours of traffic (the last one drifted), half of it labelled, then the drift check
    sending every drift series (so each metric it can send is checked)."""
    spec = spec_sending_every_drift_series(tmp_path_factory.mktemp("spec"))
    stack = LocalStack(spec, clock=MovableClock(START))
    request.addfinalizer(stack.stop)  # stopped even when this setup fails: a stack left running is shared
    stack.publish_demo_model("v1")
    stable, drifted = demo_frame(2400, 101), demo_frame(1200, 102, drift=0.9)
    traffic: list[tuple[dict, int]] = []
    for hour, (frame, offset) in enumerate([(stable, 0), (stable, 1200), (drifted, 0)]):
        stack.clock.advance(3600 if hour else 60)
        for batch in range(12):
            first = offset + batch * 100
            result = stack.call(
                "predict", "POST", "/predict", {"instances": demo_records(frame, range(first, first + 100))}
            )
            assert result.status == 200
            traffic += [(p, int(frame["label"][first + j])) for j, p in enumerate(result.body["predictions"])]
    stack.clock.advance(1800)
    labelled = traffic[::2]
    for chunk in range(0, len(labelled), 100):
        items = [
            {
                "request_id": p["request_id"],
                "label": label,
                "outcomes": {"clicked": bool(label), "revenue": 2.0 * label},
            }
            for p, label in labelled[chunk : chunk + 100]
        ]
        assert stack.call("feedback", "POST", "/feedback", {"items": items}).status == 200
    end = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    invocation = stack.run_drift(end)
    return stack, invocation, end, traffic


def _document(stack, window: str, end: datetime) -> dict:
    key = f"reports/v1/{window}/{end.strftime('%Y-%m-%dT%H:%M:%SZ')}/drift.json"
    return json.loads(stack.objects(key)[key])


def _metrics(invocation) -> list[tuple[str, dict, float]]:
    found = []
    for line in invocation.stdout:
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            dimensions = {d: document[d] for d in directive["Dimensions"][0]}
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                found.append((metric["Name"], dimensions, (values if isinstance(values, list) else [values])[0]))
    return found


def test_every_capture_object_has_a_profile_and_a_join_index(monitored):
    stack, *_ = monitored
    captures = [k for k in stack.objects("capture/", bodies=False)]
    assert captures and all("model_version=v1/dt=2026-11-20-0" in k for k in captures)
    for key in captures:
        assert key.replace("capture/", "profiles/").replace(".jsonl", ".json") in stack.objects(
            "profiles/", bodies=False
        )
        assert key.replace("capture/", "joins/").replace(".jsonl", ".json") in stack.objects("joins/", bodies=False)


def test_reports_are_written_per_window(monitored):
    stack, _, end, _ = monitored
    stamp = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    for window in ("1h", "1d", "7d"):
        keys = stack.objects(f"reports/v1/{window}/{stamp}/", bodies=False)
        assert set(keys) == {f"reports/v1/{window}/{stamp}/drift.json", f"reports/v1/{window}/{stamp}/report.html"}
    last_hour, day = _document(stack, "1h", end), _document(stack, "1d", end)
    assert last_hour["current_rows"] == 1200 and day["current_rows"] == 3600
    assert last_hour["dataset_drift"] is True  # the drifted hour
    assert {f["name"] for f in last_hour["features"] if f["drifted"]} >= {"age", "income", "region"}
    assert day["performance"]["accuracy"] is not None and day["estimated_performance"]["accuracy"] is not None
    assert day["labels"] == {"received": 1800, "unmatched": 0, "corrected": 0}
    assert day["kpis"]["ClickThroughRate"] == pytest.approx(np.mean([label for _, label in monitored[3][::2]]))
    assert day["new_labeled_rows"] == 1800
    page = stack.objects(f"reports/v1/1d/{stamp}/")[f"reports/v1/1d/{stamp}/report.html"].decode()
    assert "Labels and business KPIs" in page and "ClickThroughRate" in page
    assert f"{day['kpis']['ClickThroughRate']:.4f}" in page and "1,800 labels received" in page


def test_expected_metrics_are_emitted(monitored):
    _, invocation, _, _ = monitored
    metrics = _metrics(invocation)
    names = {name for name, _, _ in metrics}
    assert {
        "DriftScore",
        "DriftShare",
        "DatasetDrift",
        "PredictionDrift",
        "LabelDrift",
        "Accuracy",
        "F1",
        "AUC",
        "EstimatedAccuracy",
        "EstimatedAUC",
        "MissingRate",
        "OutOfRangeRate",
        "NewLabeledRows",
        "Kpi",
        "InsufficientData",
        "FeatureDrifted",
    } <= names
    scores = {(d["window"], d["feature"]): v for n, d, v in metrics if n == "DriftScore"}
    assert {feature for window, feature in scores if window == "1h"} == set(FEATURES)
    assert all(set(d) <= {"service", "window", "feature", "kpi", "method"} for _, d, _ in metrics)
    kpis = {d["kpi"] for n, d, _ in metrics if n == "Kpi"}
    assert kpis == {"ClickThroughRate", "RevenuePerPrediction"}


def test_merged_profiles_equal_the_raw_rows(monitored):
    stack, _, end, _ = monitored
    spec = stack.platform.spec
    manifest = stack.registry.manifest("v1")
    baseline = DatasetProfile.from_json(stack.registry.baseline(manifest))
    rows = [
        record
        for key, body in stack.objects("capture/model_version=v1/dt=2026-11-20-02/").items()
        for record in parse_capture(body)
    ]
    direct = analyze(spec, baseline, profile_captures(spec, rows).profile)
    stored = {f["name"]: f for f in _document(stack, "1h", end)["features"]}
    for feature in direct.features:
        # 1,200 rows: under the sketch's exact size, so the merge is exact up to float rounding.
        assert stored[feature.name]["statistic"] == pytest.approx(feature.statistic, abs=1e-9)
        assert stored[feature.name]["drifted"] == feature.drifted


def test_rerunning_a_window_writes_the_same_keys_and_values(monitored):
    stack, first, end, _ = monitored
    before = {k: v for k, v in stack.objects("reports/").items()}
    again = stack.run_drift(end)
    assert stack.objects("reports/") == before

    def canonical(invocation):
        return sorted((name, sorted(dims.items()), value) for name, dims, value in _metrics(invocation))

    assert canonical(again) == canonical(first)


def test_a_small_window_is_insufficient_data_with_no_verdict(tmp_path):
    # Stacks alive together share moto's backend (the module's stack may be, or may not: xdist
    # decides): this one works in a month of its own and puts the model pointer back when done.
    spec = spec_sending_every_drift_series(tmp_path)
    stack = LocalStack(spec, clock=MovableClock(datetime(2026, 12, 1, tzinfo=UTC)))
    serving = None
    try:
        with contextlib.suppress(ModelUnavailableError):
            serving = stack.registry.current_version()
        stack.publish_demo_model("v-small")
        stack.clock.advance(60)
        stack.call("predict", "POST", "/predict", {"instances": demo_records(demo_frame(10, 7), range(10))})
        invocation = stack.run_drift(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
        metrics = _metrics(invocation)
        one_hour = {n: v for n, d, v in metrics if d.get("window") == "1h"}
        assert one_hour["InsufficientData"] == 1.0
        assert "DatasetDrift" not in one_hour and "DriftShare" not in one_hour
    finally:
        if serving is not None:
            stack.registry.promote(serving)
        stack.stop()


def test_poison_objects_are_quarantined_and_backfills_are_profiled(monitored):
    stack, *_ = monitored
    bucket = stack.platform.settings.data_bucket
    stack.s3.put_object(Bucket=bucket, Key="capture/model_version=v1/dt=2026-11-19-00/bad.jsonl", Body=b"{nope\n")
    good = next(iter(stack.objects("capture/model_version=v1/dt=2026-11-20-00/").items()))
    stack.s3.put_object(Bucket=bucket, Key="capture/model_version=v1/dt=2026-11-19-00/old.jsonl", Body=good[1])
    batch = {
        "Items": [
            {"Key": "capture/model_version=v1/dt=2026-11-19-00/bad.jsonl"},
            {"Key": "capture/model_version=v1/dt=2026-11-19-00/old.jsonl"},
        ]
    }
    result = invoke("capture", batch)
    assert result.result == {"profiled": 1, "quarantined": 1}
    assert "quarantine/poison/capture/model_version=v1/dt=2026-11-19-00/bad.jsonl" in stack.objects(
        "quarantine/poison/", bodies=False
    )
    assert "profiles/model_version=v1/dt=2026-11-19-00/old.json" in stack.objects("profiles/", bodies=False)
    assert any(name == "ProfileFailed" and value == 1.0 for name, _, value in _metrics(result))


def test_backfill_distributed_map_profiles_objects_written_before_capture_profiled_them(monitored):
    from modelwatch.catalog.layout import BACKFILL_RESULTS
    from modelwatch.jobs.backfill_machine import BATCH, backfill_definition
    from modelwatch_local.distributed_map import results_of, run_distributed_map

    stack, *_ = monitored
    bucket = stack.platform.settings.data_bucket
    body = next(iter(stack.objects("capture/model_version=v1/dt=2026-11-20-01/").values()))
    old = [f"capture/model_version=v1/dt=2026-11-18-0{h}/backfill-{i}.jsonl" for h in range(3) for i in range(40)]
    for key in old:
        stack.s3.put_object(Bucket=bucket, Key=key, Body=body)
    definition = backfill_definition(bucket, "arn:aws:lambda:us-east-1:123456789012:function:modelwatch-capture")
    written = run_distributed_map(definition, {"prefix": "capture/model_version=v1/dt=2026-11-18"}, stack.s3, "capture")
    # The state's output says where the results are (ResultWriter), not what they are.
    assert set(written) == {"ResultWriterDetails"}
    assert written["ResultWriterDetails"]["Key"].startswith(BACKFILL_RESULTS.prefix)
    results = results_of(stack.s3, written)
    assert len(results) == -(-len(old) // BATCH)
    assert sum(r["profiled"] for r in results) == len(old)
    profiled = stack.objects("profiles/model_version=v1/dt=2026-11-18", bodies=False)
    assert len(profiled) == len(old)


def test_hours_are_rolled_up_once_and_settled_hours_are_not_read_again(monitored, monkeypatch):
    stack, _, end, _ = monitored
    rollups = stack.objects("profiles-hourly/model_version=v1/")
    for hour in ("2026-11-20-00", "2026-11-20-01", "2026-11-20-02"):
        captured = stack.objects(f"capture/model_version=v1/dt={hour}/", bodies=False)
        rollup = json.loads(rollups[f"profiles-hourly/model_version=v1/dt={hour}.json"])
        assert rollup["objects"] == len(captured) > 0
    read: list[str] = []
    original = stack.s3.get_object

    def counting(**kwargs):
        read.append(kwargs["Key"])
        return original(**kwargs)

    monkeypatch.setattr(stack.s3, "get_object", counting)
    later = end + timedelta(hours=5)  # every hour with traffic has settled by now
    stack.run_drift(later)  # rolls up any hour seen for the first time (the backfilled ones too)
    read.clear()
    stack.run_drift(later + timedelta(hours=1))
    assert not [k for k in read if k.startswith("profiles/")], "settled hours must come from their rollup"
    rolled = stack.objects("profiles-hourly/model_version=v1/", bodies=False)
    # (The backfilled hours were profiled after they settled: their late markers make the check
    # list them again, which a marker is for; only rollups are read.)
    assert sorted(k for k in read if k.startswith("profiles-hourly/")) == sorted(
        k for k in rolled if k.endswith(".json")
    )
