"""Accounting that cannot be skipped: the drift run reconciles captures and feedback first and
apart from its windows, from a stored watermark, catching up every settled hour a failed run left;
its heartbeat alarms when it stops; feedback lost on the way to labels/ is reported like captures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog import layout
from modelwatch.catalog.metrics import ACCOUNTING_HEARTBEAT, CAPTURES_MISSING, FEEDBACK_MISSING, LAMBDA_ERRORS
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.serving.current_model import ModelUnavailableError
from modelwatch_local.clock import MovableClock
from modelwatch_local.faults import INTERNAL_ERROR, InjectedFaults
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)


@pytest.fixture
def stack():
    local = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        local.publish_demo_model("v1")
        yield local
    finally:
        local.stop()


def _settles(hour: str) -> datetime:
    """The hourly run at which `hour` becomes settled."""
    return layout.hour_start(hour) + timedelta(hours=layout.SETTLE_HOURS + 1)


def _run(stack: LocalStack, end: datetime) -> dict:
    """The scheduled run at `end` (the clock moved there first), then CloudWatch evaluating."""
    stack.clock.advance(max(0.0, (end - stack.clock()).total_seconds()) + 60)
    try:
        return stack.run_drift(end).result
    finally:
        stack.evaluate_alarms()


def _alarm(stack: LocalStack, metric: str) -> str:
    (name,) = [a.name for a in planned_alarms(stack.platform.spec) if a.rule.metric == metric]
    return stack.alarms.states[name]


def _watermark(stack: LocalStack) -> str | None:
    stored = stack.objects(layout.accounting_watermark_key())
    return json.loads(stored[layout.accounting_watermark_key()])["hour"] if stored else None


def _predictions(stack: LocalStack, lose_batch: bool, seed: int) -> list[str]:
    """200 predictions in two requests of this hour, the second's capture lines lost when asked;
    returns their request ids."""
    frame = demo_frame(200, seed)
    ids = []
    for number, first in enumerate((0, 100)):
        records = {"instances": demo_records(frame, range(first, first + 100))}
        result = stack.call("predict", "POST", "/predict", records, deliver_capture=not (lose_batch and number == 1))
        assert result.status == 200
        ids += [p["request_id"] for p in result.body["predictions"]]
    return ids


def _failed_drift_invocations(stack: LocalStack) -> float:
    points = stack.metrics.points("AWS/Lambda", LAMBDA_ERRORS)
    return sum(
        value for dimensions, series in points.items() if "modelwatch-drift" in str(dimensions) for _, value in series
    )


def test_a_failed_drift_window_leaves_accounting_on_time(stack):
    stack.clock.advance(600)
    _predictions(stack, lose_batch=True, seed=61)
    hour = layout.hour_of(stack.clock())
    stack.flush_deliveries()
    # The served version's baseline no longer matches its manifest: every window refuses to run.
    manifest = stack.registry.manifest("v1")
    stack.s3.put_object(Bucket=stack.platform.settings.model_bucket, Key=manifest.baseline_key, Body=b"{}")
    with pytest.raises(ModelUnavailableError, match="baseline"):
        _run(stack, _settles(hour))
    assert _watermark(stack) == hour  # reconciled all the same, on time
    assert _alarm(stack, CAPTURES_MISSING.name) == "ALARM"  # the 100 lost captures are reported
    assert _alarm(stack, ACCOUNTING_HEARTBEAT.name) == "OK"
    assert _failed_drift_invocations(stack) == 1  # and the window's failure still surfaces


def test_the_next_run_catches_up_the_hours_a_failed_run_missed(stack):
    stack.clock.advance(600)
    first = layout.hour_of(stack.clock())
    _predictions(stack, lose_batch=True, seed=62)  # hour 1: a capture batch lost
    stack.clock.advance(3600)
    second = layout.hour_of(stack.clock())
    _predictions(stack, lose_batch=False, seed=63)  # hour 2: every capture delivered
    stack.flush_deliveries()
    before = layout.hour_of(layout.hour_start(first) - timedelta(hours=1))
    _run(stack, _settles(before))  # the run before: the watermark is the hour before the traffic
    assert _watermark(stack) == before

    # The run at which hour 1 settles cannot read the feedback tallies: its accounting fails.
    faults = InjectedFaults(
        stack.s3, "ListObjectsV2", lambda request: INTERNAL_ERROR if "feedback-filed" in request.url else None
    )
    try:
        with pytest.raises(ClientError, match="InternalError"):
            _run(stack, _settles(first))
    finally:
        faults.remove()
    assert _watermark(stack) == before
    assert stack.objects(layout.REPORTS.prefix, bodies=False)  # its windows ran all the same
    assert _alarm(stack, CAPTURES_MISSING.name) != "ALARM"

    # The next run takes every settled hour after the watermark, oldest first.
    result = _run(stack, _settles(second))
    hours = result["accounting"]["hours"]
    assert [h["hour"] for h in hours] == [first, second]
    assert [h["captures"]["missing"] for h in hours] == [100, 0]
    assert _watermark(stack) == second and result["accounting"]["behind"] == 0
    assert _alarm(stack, CAPTURES_MISSING.name) == "ALARM"


@pytest.mark.parametrize("how", ["not-running", "failing"])
def test_the_heartbeat_alarm_fires_when_reconciliation_stops(stack, how: str):
    start = _settles(layout.hour_of(stack.clock()))
    for hour in range(3):
        _run(stack, start + timedelta(hours=hour))
    assert _alarm(stack, ACCOUNTING_HEARTBEAT.name) == "OK"
    later = start + timedelta(hours=3)
    if how == "not-running":  # the schedule stops: nothing runs for three hours
        stack.clock.advance((later + timedelta(hours=2) - stack.clock()).total_seconds())
        stack.evaluate_alarms()
    else:  # the runs go on, but each fails to reconcile its hour (the feedback tallies cannot be listed)
        faults = InjectedFaults(
            stack.s3, "ListObjectsV2", lambda request: INTERNAL_ERROR if "feedback-filed" in request.url else None
        )
        try:
            for hour in range(3):
                with pytest.raises(ClientError):
                    _run(stack, later + timedelta(hours=hour))
        finally:
            faults.remove()
    assert _alarm(stack, ACCOUNTING_HEARTBEAT.name) == "ALARM"


@pytest.mark.parametrize("lost", [True, False], ids=["one-batch-lost", "all-delivered"])
def test_lost_feedback_is_reported(stack, lost: bool):
    stack.clock.advance(600)
    ids = _predictions(stack, lose_batch=False, seed=64)
    stack.clock.advance(600)
    for number, batch in enumerate((ids[:100], ids[100:])):
        items = {"items": [{"request_id": i, "label": "1"} for i in batch]}
        result = stack.call("feedback", "POST", "/feedback", items, deliver_capture=not (lost and number == 1))
        assert result.status == 200
        assert result.metrics()["FeedbackRecordsSent"] == [({"service": "demo-classifier"}, [100.0])]
    received = layout.hour_of(stack.clock())
    stack.flush_deliveries()
    (hour,) = _run(stack, _settles(received))["accounting"]["hours"]
    assert (hour["feedback"]["sent"], hour["feedback"]["filed"]) == (200, 100 if lost else 200)
    assert hour["feedback"]["missing"] == (100 if lost else 0)
    assert _alarm(stack, FEEDBACK_MISSING.name) == ("ALARM" if lost else "OK")
    assert _alarm(stack, CAPTURES_MISSING.name) == "OK"  # the predictions' captures all arrived
