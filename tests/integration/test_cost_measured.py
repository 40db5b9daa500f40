"""The cost model against a measured run: a shortened day of traffic, labels and hourly drift
checks on the local stack, metered (invocations, bytes logged, S3 requests by kind, metric
series), then the same counts from `modelwatch.cost` at the same traffic. They agree within 10%.

The local runtime delivers each request's capture line on its own (one Logs subscription
delivery per request), so the model is asked for exactly that; in AWS, batching is an
assumption of the model (footprint.toml) that no local run can measure."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest

from modelwatch.catalog import functions as fcat
from modelwatch.catalog.metrics import metric_named
from modelwatch.cost.usage import HOURS_PER_MONTH, Traffic, load_footprint, monthly_usage
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.profiles import DatasetProfile
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch_local.clock import MovableClock
from modelwatch_local.lambda_runtime import _handler_module
from modelwatch_local.stack import LocalStack
from modelwatch_local.usage_meter import Usage, metered, metric_series
from tests.conftest import ROOT

HOURS, PER_HOUR, LABEL_EVERY = 3, 40, 10  # labels for 10% of predictions, as the demo volumes
START = datetime(2027, 1, 11, 0, 0, tzinfo=UTC)  # a month no other test uses: moto's backend is shared
TOLERANCE = 0.10


@pytest.fixture(scope="module")
def measured():
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        serving: str | None = stack.registry.current_version()
    except ModelUnavailableError:
        serving = None
    for function in fcat.FUNCTIONS:  # as deployed: Powertools' default level, whatever ran before
        logger = getattr(_handler_module(function), "logger", None) if function != fcat.RETRAIN.name else None
        if logger is not None:
            logger.setLevel("INFO")
    try:
        manifest = stack.publish_demo_model("v-cost", rows=3000)
        labels = 0
        with metered(stack) as usage:
            for hour in range(HOURS):
                frame = demo_frame(PER_HOUR, 500 + hour)
                stack.clock.advance(60)
                for row in range(PER_HOUR):
                    result = stack.call("predict", "POST", "/predict", {"features": demo_records(frame, [row])[0]})
                    if row % LABEL_EVERY == 0:
                        request_id = result.body["predictions"][0]["request_id"]
                        label = int(frame["label"][row])
                        outcomes = {"clicked": bool(label), "revenue": 2.5 * label}
                        item = {"request_id": request_id, "label": label, "outcomes": outcomes}
                        stack.call("feedback", "POST", "/feedback", item)
                        labels += 1
                stack.clock.advance(3600 - 60)
                stack.run_drift(stack.clock().replace(minute=0, second=0, microsecond=0))
        series = metric_series(stack)
        baseline_rows = DatasetProfile.from_json(stack.registry.baseline(manifest)).rows
        yield usage, series, labels, baseline_rows
    finally:
        if serving is not None:
            stack.registry.promote(serving)
        stack.stop()


def _model(labels: int, baseline_rows: int):
    """The model at the run's rates, scaled to a month; each drift run saw (HOURS + 1) / 2 hours of
    traffic on average (1, 2, 3 ...)."""
    traffic = Traffic(
        requests_per_month=PER_HOUR * HOURS_PER_MONTH,
        labels_per_month=labels / HOURS * HOURS_PER_MONTH,
        baseline_rows=baseline_rows,
        capture_lines_per_delivery=1,
        history_hours=(HOURS + 1) / 2,
    )
    return monthly_usage(load_spec_once(), traffic)


def load_spec_once():
    from modelwatch.spec import load_spec

    return load_spec(ROOT / "monitoring.toml")


def _per_month(measured_count: float) -> float:
    return measured_count / HOURS * HOURS_PER_MONTH


def _close(model: float, measured: float) -> bool:
    return abs(model - measured) <= TOLERANCE * max(abs(measured), 1e-9)


def test_distinct_metric_series_agree(measured):
    _, series, labels, baseline_rows = measured
    model = _model(labels, baseline_rows)
    assert _close(model.custom_metrics, len(series)), (model.custom_metrics, len(series), sorted(series))
    # Every metric the functions sent is one the model bills (none is left out by construction).
    sent = {metric_named(name).name for name, _ in series}
    assert {name for name in sent if not model.metric_series.get(name)} == set()


def test_invocations_per_function_agree(measured):
    usage, _, labels, baseline_rows = measured
    model = _model(labels, baseline_rows)
    for function, count in usage.invocations.items():
        assert _close(model.invocations[function], _per_month(count)), function


def test_log_bytes_per_invocation_agree(measured):
    usage, _, labels, baseline_rows = measured
    model = _model(labels, baseline_rows)
    platform = load_footprint()["log_bytes"]["lambda_platform_per_invocation"]
    for function in usage.invocations:
        per_invocation = model.log_bytes[function] / model.invocations[function] - platform
        assert _close(per_invocation, usage.log_bytes_per_invocation(function)), (
            function,
            per_invocation,
            usage.log_bytes_per_invocation(function),
        )


def _s3_kinds(usage: Usage, function: str) -> dict[str, float]:
    operations = usage.s3_by_operation(function)
    return {
        "put": _per_month(operations["PutObject"]),
        "list": _per_month(operations["ListObjectsV2"]),
        "get": _per_month(operations["GetObject"]),
    }


def test_s3_requests_by_kind_agree(measured):
    usage, _, labels, baseline_rows = measured
    model = _model(labels, baseline_rows)
    for function in (fcat.CAPTURE_FUNCTION.name, fcat.FEEDBACK.name, fcat.DRIFT.name):
        kinds = _s3_kinds(usage, function)
        expected = {
            "put": model.s3_puts.get(function, 0.0),
            "list": model.s3_lists.get(function, 0.0),
            "get": model.s3_gets.get(function, 0.0),
        }
        for kind, value in kinds.items():
            # A handful of one-off reads (the model registry on a first invocation) is not a rate.
            assert _close(expected[kind], value) or abs(expected[kind] - value) <= _per_month(3), (
                function,
                kind,
                expected[kind],
                value,
            )
