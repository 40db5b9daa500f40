"""Which hours a run reconciles (every settled hour after the watermark, oldest first, bounded),
how a failure at one hour leaves it due for the next run, and how the drift run's parts report
failures only after each has run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from modelwatch.alerts.plan import planned_alarms
from modelwatch.catalog import layout
from modelwatch.catalog.metrics import ACCOUNTING_HEARTBEAT, FEEDBACK_MISSING
from modelwatch.data_access.data_bucket import DataBucket
from modelwatch.data_access.feedback_receipts import filed_in_hour, tallies, write_tally
from modelwatch.jobs.capture_accounting import settled_hour
from modelwatch.jobs.reconciliation import MAX_HOURS_PER_RUN, Reconciliation, due_hours
from modelwatch.jobs.run_apart import attempt, raise_failures

END = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
LATEST = settled_hour(END)


def _hours_before(hour: str, count: int) -> str:
    return layout.hour_of(layout.hour_start(hour) - timedelta(hours=count))


def test_a_first_run_takes_the_hour_that_has_just_settled():
    assert due_hours(None, END) == ([LATEST], 0)


def test_every_settled_hour_after_the_watermark_is_due_oldest_first():
    hours, behind = due_hours(_hours_before(LATEST, 3), END)
    assert hours == [_hours_before(LATEST, 2), _hours_before(LATEST, 1), LATEST] and behind == 0
    assert due_hours(LATEST, END) == ([], 0)  # a second run in the same hour has nothing to do


def test_a_long_outage_is_caught_up_a_bounded_number_of_hours_a_run():
    hours, behind = due_hours(_hours_before(LATEST, 30), END)
    assert len(hours) == MAX_HOURS_PER_RUN and hours[0] == _hours_before(LATEST, 29)
    assert behind == 30 - MAX_HOURS_PER_RUN


@pytest.fixture
def data():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        yield DataBucket(s3, "data")


def _reconciliation(data: DataBucket, failing_hour: str | None = None) -> Reconciliation:
    def sent(hour: str) -> dict[str, int]:
        if hour == failing_hour:
            raise ConnectionError("GetMetricData timed out")
        return {"v1": 0}

    return Reconciliation(data, lambda: "v1", sent, lambda hour: 0, 0.01)


def test_a_failure_stops_the_run_at_its_hour_which_the_next_run_reconciles_first(data):
    watermark = _hours_before(LATEST, 3)
    data.write(layout.accounting_watermark_key(), json.dumps({"hour": watermark}).encode(), "application/json")
    failing = _hours_before(LATEST, 1)
    run = _reconciliation(data, failing_hour=failing).run(END)
    assert [h.captures.hour for h in run.hours] == [_hours_before(LATEST, 2)]
    assert isinstance(run.failure, ConnectionError) and run.behind == 2
    stored = json.loads(data.read(layout.accounting_watermark_key()))["hour"]
    assert stored == _hours_before(LATEST, 2)  # past the hour done, not past the failed one

    again = _reconciliation(data).run(END)
    assert [h.captures.hour for h in again.hours] == [failing, LATEST] and again.failure is None


def test_feedback_is_tallied_by_the_hour_received_and_a_redelivery_rewrites_its_tally(data):
    pieces = [
        {"request_id": "a", "received_at": "2026-12-05T13:59:59.000+00:00"},
        {"request_id": "b", "received_at": "2026-12-05T14:00:00.000+00:00"},
        {"request_id": "c", "received_at": "2026-12-05T14:30:00.000+00:00"},
    ]
    assert tallies(pieces) == {"2026-12-05-13": 1, "2026-12-05-14": 2}
    for _ in range(2):  # the same delivery filed twice
        for hour, count in tallies(pieces).items():
            write_tally(data, hour, "batch-1", count)
    write_tally(data, "2026-12-05-14", "batch-2", 5)
    assert filed_in_hour(data, "2026-12-05-14") == 7 and filed_in_hour(data, "2026-12-05-13") == 1


def _no_watermark() -> int:
    raise ValueError("no watermark")


def test_every_part_runs_and_the_failures_are_raised_afterwards():
    ran = []
    first = attempt("accounting", _no_watermark)
    second = attempt("drift windows", lambda: ran.append("windows") or 3)
    assert ran == ["windows"] and second.value == 3 and not first.succeeded
    with pytest.raises(ValueError, match="no watermark"):
        raise_failures([("accounting", first.error)])  # type: ignore[list-item]
    with pytest.raises(ExceptionGroup, match="accounting, drift windows"):
        raise_failures([("accounting", ValueError("a")), ("drift windows", KeyError("b"))])
    raise_failures([])  # nothing failed: nothing raised


def test_the_heartbeat_alarm_treats_silence_as_breaching(demo_spec):
    planned = {p.rule.metric: p.rule for p in planned_alarms(demo_spec)}
    heartbeat = planned[ACCOUNTING_HEARTBEAT.name]
    assert heartbeat.treat_missing_data == "breaching" and heartbeat.severity == "critical"
    assert (heartbeat.statistic, heartbeat.comparison, heartbeat.threshold) == ("SampleCount", "LessThanThreshold", 1)
    assert planned[FEEDBACK_MISSING.name].treat_missing_data == "notBreaching"  # an idle hour sends none
