"""Dead-letter alarms speak again: each judges messages arriving in its queue (the alarm plan's
dead_letter_alarm, deployed by the stack and evaluated by the local runtime), so a second failure
while the first dead letter still waits is a second notification, not silence."""

from __future__ import annotations

from datetime import UTC, datetime

from modelwatch.alerts.plan import DEAD_LETTERS_SENT, SQS_NAMESPACE
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
ALARM = "ModelWatch-capture-DeadLetters"


def _waiting(stack: LocalStack, function: str) -> int:
    attributes = stack.platform.client("sqs").get_queue_attributes(
        QueueUrl=stack.dead_letter_queues[function], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _fail_capture(stack: LocalStack) -> None:
    """An S3 notification of an object that is not there: every attempt fails, the event is dead-lettered."""
    missing = {"s3": {"bucket": {"name": stack.platform.settings.data_bucket}, "object": {"key": "deliveries/x"}}}
    assert stack.invoke_async("capture", {"Records": [missing]}) is None


def test_two_failures_apart_in_time_are_two_notifications():
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        _fail_capture(stack)
        assert _waiting(stack, "capture") == 1
        stack.evaluate_alarms()
        stack.clock.advance(15 * 60)
        stack.evaluate_alarms()  # no new dead letter since: the alarm is back to OK
        stack.clock.advance(45 * 60)
        _fail_capture(stack)
        assert _waiting(stack, "capture") == 2  # the first still waits: its depth never fell to zero
        stack.evaluate_alarms()
        states = [m["NewStateValue"] for m in stack.alerts() if m.get("AlarmName") == ALARM]
        assert states == ["ALARM", "OK", "ALARM"]
    finally:
        stack.stop()


def test_the_alarm_judges_arrivals_as_sqs_counts_them():
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        (alarm,) = [a for a in stack.alarms.planned if a.name == "capture-DeadLetters"]
        assert (alarm.namespace, alarm.rule.metric, alarm.rule.statistic) == (SQS_NAMESPACE, DEAD_LETTERS_SENT, "Sum")
        assert alarm.rule.comparison == "GreaterThanThreshold" and alarm.rule.threshold == 0
    finally:
        stack.stop()
