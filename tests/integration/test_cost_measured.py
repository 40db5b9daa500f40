"""The cost model against a measured run: a shortened day of traffic, labels and hourly drift
checks on the local stack, metered (invocations, bytes logged, S3 requests by kind, metric
series, delivery objects), then the same counts from `modelwatch.cost` at the same traffic. They
agree within 10%.

The requests are spread evenly over each hour (one every 90 s, a label for every tenth right
after its prediction), as the model takes traffic to be within an hour. The capture path is the
delivery stream's: the local stand-in for Firehose buffers the API functions' capture and
feedback lines and writes one object under deliveries/ per buffer, on the simulated clock
([capture] buffer_seconds on a fixed grid, or buffer_mib, whichever fills first), and each
object's notification invokes the capture function once. At 40 requests and 4 labels an hour
and the demo spec's 300 s buffer, an object's interval starts with its first line, so one
object every 300 s plus the wait for the next line (90 s on average): about 9 an hour, about one
of them holding records of two hours."""

from __future__ import annotations

import random
import warnings
from datetime import UTC, datetime

import pytest

from modelwatch.catalog import functions as fcat
from modelwatch.catalog.layout import DELIVERIES
from modelwatch.catalog.metrics import metric_named
from modelwatch.cost.usage import HOURS_PER_MONTH, Traffic, monthly_usage
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
        stack.clock.advance((-stack.clock().minute * 60 - stack.clock().second) % 3600)  # start on an hour
        deliveries_before = len(stack.objects(DELIVERIES.prefix, bodies=False))
        with metered(stack) as usage:
            arrivals = random.Random(11)
            for hour in range(HOURS):
                frame = demo_frame(PER_HOUR, 500 + hour)
                hour_start = stack.clock()
                # Requests at random moments of the hour (seeded), as the model takes traffic.
                moments = sorted(arrivals.uniform(0, 3600) for _ in range(PER_HOUR))
                for row in range(PER_HOUR):
                    stack.clock.advance((hour_start - stack.clock()).total_seconds() + moments[row])
                    result = stack.call("predict", "POST", "/predict", {"features": demo_records(frame, [row])[0]})
                    if row % LABEL_EVERY == 0:
                        request_id = result.body["predictions"][0]["request_id"]
                        label = int(frame["label"][row])
                        outcomes = {"clicked": bool(label), "revenue": 2.5 * label}
                        item = {"request_id": request_id, "label": label, "outcomes": outcomes}
                        stack.call("feedback", "POST", "/feedback", item)
                        labels += 1
                stack.clock.advance((hour_start - stack.clock()).total_seconds() + 3600)
                stack.run_drift(stack.clock().replace(minute=0, second=0, microsecond=0))
        series = metric_series(stack)
        baseline_rows = DatasetProfile.from_json(stack.registry.baseline(manifest)).rows
        delivered = len(stack.objects(DELIVERIES.prefix, bodies=False)) - deliveries_before
        yield usage, series, labels, baseline_rows, delivered
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


def test_delivery_objects_agree(measured):
    """One object per buffer the hour's lines fill: what the model bounds them by."""
    *_, labels, baseline_rows, delivered = measured
    model = _model(labels, baseline_rows)
    assert _close(model.stream.objects, _per_month(delivered)), (model.stream.objects, _per_month(delivered))


def test_distinct_metric_series_agree(measured):
    _, series, labels, baseline_rows, _ = measured
    model = _model(labels, baseline_rows)
    assert _close(model.custom_metrics, len(series)), (model.custom_metrics, len(series), sorted(series))
    # Every metric the functions sent is one the model bills (none is left out by construction).
    sent = {metric_named(name).name for name, _ in series}
    assert {name for name in sent if not model.metric_series.get(name)} == set()


def test_invocations_per_function_agree(measured):
    usage, _, labels, baseline_rows, _ = measured
    model = _model(labels, baseline_rows)
    capture = fcat.CAPTURE_FUNCTION.name
    for function, count in sorted(usage.invocations.items(), key=lambda item: item[0] == capture):
        assert _close(model.invocations[function], _per_month(count)), function


def test_log_bytes_per_invocation_agree(measured):
    """What each function prints (the model leaves Lambda's own START/END/REPORT lines out by
    default, and the local runtime prints none)."""
    usage, _, labels, baseline_rows, _ = measured
    model = _model(labels, baseline_rows)
    capture = fcat.CAPTURE_FUNCTION.name
    for function in sorted(usage.invocations, key=lambda name: name == capture):
        per_invocation = model.log_bytes[function] / model.invocations[function]
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
    """The capture function's and the drift check's follow the delivery objects (the profiles and
    join indexes an hour's rollup reads are the capture function's groups)."""
    usage, _, labels, baseline_rows, _ = measured
    model = _model(labels, baseline_rows)
    for function in (fcat.FEEDBACK.name, fcat.CAPTURE_FUNCTION.name, fcat.DRIFT.name):
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


def test_wall_time_per_invocation_is_printed_beside_the_footprint(measured, capsys):
    """Durations depend on the machine: printed for whoever updates footprint.toml, not asserted
    beyond being measured at all."""
    from modelwatch.cost.usage import load_footprint

    usage, *_ = measured
    footprint = load_footprint()["duration_ms"]["per_invocation"]
    with capsys.disabled():
        for function, count in sorted(usage.invocations.items()):
            measured_ms = 1000 * usage.seconds[function] / count
            noted = footprint.get(function)
            print(f"\n{function}: {measured_ms:.1f} ms an invocation here (cold starts included), footprint {noted}")
    assert all(usage.seconds[f] > 0 for f in usage.invocations)
