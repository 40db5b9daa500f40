"""The capture path through the delivery stream: objects per hour bounded by its buffer whatever
the traffic, every record filed once, what the stream could not process alarmed and redriven,
and what the capture function dead-lettered redriven, idempotently."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.serving.capture import log_lines
from modelwatch.serving.delivery_stream import error_record, logs_batch
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def _captured(stack: LocalStack) -> Counter:
    return Counter(
        json.loads(line)["request_id"]
        for body in stack.objects(layout.CAPTURE.prefix).values()
        for line in body.decode().splitlines()
        if line
    )


def _hour_of_traffic(stack: LocalStack, requests: int, records: int = 5) -> list[str]:
    """`requests` prediction requests spread evenly over one hour; their request ids."""
    frame = demo_frame(records, 5)
    sent = []
    for _ in range(requests):
        stack.clock.advance(3600 / requests)
        result = stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(records))})
        assert result.status == 200, result.body
        sent += [p["request_id"] for p in result.body["predictions"]]
    return sent


def test_objects_per_hour_are_bounded_by_the_buffer_whatever_the_traffic():
    """Ten times the requests, the same number of delivered objects and capture invocations: the
    buffer interval (300 s) bounds them, not the traffic; every record is filed exactly once."""
    counts = {}
    for requests in (24, 240):
        stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
        try:
            stack.publish_demo_model("v1", rows=1000)
            sent = _hour_of_traffic(stack, requests)
            stack.flush_deliveries()
            captured = _captured(stack)
            assert captured == Counter(sent)  # each sent record once, none missing
            interval = stack.platform.spec.capture.buffer_seconds
            counts[requests] = len(stack.objects(layout.DELIVERIES.prefix, bodies=False))
            assert counts[requests] <= 3600 // interval + 1
            assert stack.delivery_stream.counts.objects == counts[requests]
        finally:
            stack.stop()
    assert counts[240] == counts[24]


def test_a_batch_the_stream_cannot_process_is_alarmed_and_redriven_once():
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1", rows=1000)
        frame = demo_frame(3, 8)
        result = stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(3))}, False)
        lines = [line for line in result.stdout if "modelwatch_capture" in line]
        # Firehose could not process this batch (its record is kept whole, with its error) ...
        batch = logs_batch("/aws/lambda/modelwatch-predict", "s", [("1", 0, line) for line in lines])
        record = error_record(batch, "Processing.Failed", "injected", int(stack.clock().timestamp() * 1000))
        hour = layout.hour_of(stack.clock())
        errors_key = layout.delivery_error_key("processing-failed", hour, "modelwatch-capture-1-x")
        stack.s3.put_object(
            Bucket=stack.platform.settings.data_bucket, Key=errors_key, Body=(json.dumps(record) + "\n").encode()
        )
        # ... and one it could not even decompress.
        stack.delivery_stream.put_batch(b"not gzip")
        stack._notify_capture(errors_key)  # S3's notification of the errors object
        stack.clock.advance(60)
        changes = {c.alarm.rule.metric: c.new for c in stack.evaluate_alarms().changes}
        assert changes.get("CaptureFailed") == "ALARM"  # the one alarm on captures that could not be stored
        assert _captured(stack) == Counter()
        first = stack.redrive_captures()
        assert first.error_objects == 1 and first.lines == len(lines)
        assert list(first.unreadable) and all("decompression-failed" in key for key in first.unreadable)
        ids = [p["request_id"] for p in result.body["predictions"]]
        assert _captured(stack) == Counter(ids)
        again = stack.redrive_captures()  # nothing left to redrive; the unreadable one is kept
        assert again.error_objects == 0 and list(again.unreadable) == list(first.unreadable)
        assert _captured(stack) == Counter(ids)
    finally:
        stack.stop()


def test_dead_lettered_notifications_are_redriven_idempotently(monkeypatch):
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1", rows=1000)
        s3 = stack.s3
        real_put = s3.put_object

        def refuse_capture_writes(**kwargs):
            if kwargs["Key"].startswith(layout.CAPTURE.prefix):
                raise RuntimeError("S3 is down")
            return real_put(**kwargs)

        monkeypatch.setattr(s3, "put_object", refuse_capture_writes)
        sent = _hour_of_traffic(stack, 6)
        stack.flush_deliveries()
        assert _captured(stack) == Counter()
        queue = stack.dead_letter_queues["capture"]
        waiting = stack.platform.client("sqs").get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        assert int(waiting) >= 1
        monkeypatch.setattr(s3, "put_object", real_put)  # S3 answers again
        first = stack.redrive_captures()
        assert first.notifications == int(waiting) and first.failed is None
        captured = stack.objects(layout.CAPTURE.prefix)
        assert _captured(stack) == Counter(sent)
        again = stack.redrive_captures()
        assert again.redriven == 0 and stack.objects(layout.CAPTURE.prefix) == captured
    finally:
        stack.stop()


def test_a_line_split_over_the_log_event_limit_is_filed_whole():
    """Large batches are split into several lines (under Logs' event limit); the stream carries
    each as its own message and the capture function files them all."""
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1", rows=1000)
        frame = demo_frame(100, 9)
        result = stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(100))})
        stack.flush_deliveries()
        assert _captured(stack) == Counter(p["request_id"] for p in result.body["predictions"])
        assert all(len(line.encode()) < 256 * 1024 for line in log_lines("capture", []))
    finally:
        stack.stop()
