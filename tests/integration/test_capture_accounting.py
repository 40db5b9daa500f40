"""Capture accounting: a record the predict function logged for capture but that never reached
capture/ (a Logs subscription that skipped a batch) is counted as missing once its hour has
settled, and the CapturesMissing alarm fires; traffic whose captures all arrive does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog import layout
from modelwatch.catalog.metrics import CAPTURES_MISSING
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.jobs.capture_accounting import settled_hour
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)


def _traffic(stack: LocalStack, lose_one_batch: bool) -> str:
    """300 records in three requests within one hour; the second batch's capture lines lost when asked."""
    frame = demo_frame(300, 43)
    stack.clock.advance(600)
    for number, first in enumerate((0, 100, 200)):
        records = {"instances": demo_records(frame, range(first, first + 100))}
        deliver = not (lose_one_batch and number == 1)
        result = stack.call("predict", "POST", "/predict", records, deliver_capture=deliver)
        assert result.status == 200
        # In the request's EMF (Powertools flushes a document early when a metric holds 100
        # values), stamped with the records' own time, so CloudWatch puts the count in their
        # capture hour even when a document is flushed in the next hour.
        assert result.metrics()["CaptureRecordsSent.v1"] == [({"service": "demo-classifier"}, [100.0])]
        documents = [d for d in result.emf() if "ColdStart" not in d]
        assert {d["_aws"]["Timestamp"] for d in documents} == {int(stack.clock().timestamp() * 1000)}
    return layout.hour_of(stack.clock())


def _reconcile(stack: LocalStack, hour: str) -> dict:
    """The drift run at which `hour` settles, then CloudWatch evaluating the alarms."""
    end = layout.hour_start(hour) + timedelta(hours=layout.SETTLE_HOURS + 1)
    stack.clock.advance((end - stack.clock()).total_seconds() + 60)
    assert settled_hour(end) == hour
    result = stack.run_drift(end).result
    stack.evaluate_alarms()
    (reconciled,) = result["accounting"]["hours"]  # a first run reconciles the hour that has just settled
    return reconciled["captures"]


@pytest.mark.parametrize("lost", [True, False], ids=["one-batch-lost", "all-delivered"])
def test_captures_missing_alarms_only_when_a_capture_is_lost(lost: bool):
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1")
        hour = _traffic(stack, lose_one_batch=lost)
        account = _reconcile(stack, hour)
        (version,) = account["versions"]
        assert (version["model_version"], version["sent"]) == ("v1", 300)
        assert version["captured"] == (200 if lost else 300)
        assert account["missing"] == (100 if lost else 0)
        (alarm,) = [a.name for a in planned_alarms(stack.platform.spec) if a.rule.metric == CAPTURES_MISSING.name]
        assert stack.alarms.states[alarm] == ("ALARM" if lost else "OK")
    finally:
        stack.stop()


def test_an_hour_is_reconciled_only_once_it_has_settled():
    """A capture delivered late but inside the retry window is not counted missing: the hour is
    judged only after SETTLE_HOURS, by which time it has arrived."""
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1")
        frame = demo_frame(100, 44)
        stack.clock.advance(600)
        late = stack.call(
            "predict", "POST", "/predict", {"instances": demo_records(frame, range(100))}, deliver_capture=False
        )
        hour = layout.hour_of(stack.clock())
        stack.clock.advance(20 * 3600)  # the subscription's retries bring the batch 20 h later
        stack.deliver_capture("predict", late.stdout)
        assert _reconcile(stack, hour)["missing"] == 0
    finally:
        stack.stop()
