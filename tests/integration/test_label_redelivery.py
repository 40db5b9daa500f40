"""A retried label delivery never hides the labels written before it: the hour's "changed" marker
gets an ETag of its own on every write, so a retry that rewrites an earlier labels object cannot
put back the marker a joined rollup was made from."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.serving.capture import MARKER
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)


def _received(stack: LocalStack, end: datetime) -> int:
    (document,) = [
        json.loads(body)
        for key, body in stack.objects(layout.REPORTS.prefix).items()
        if key.endswith("drift.json") and "/7d/" in key and end.strftime("%Y-%m-%dT%H") in key
    ]
    return int(document["labels"]["received"])


def _delivery(stack: LocalStack, items: list[dict], name: str) -> dict:
    """The feedback call's capture lines as one delivered object, and S3's notification of it."""
    answer = stack.call("feedback", "POST", "/feedback", {"items": items}, deliver_capture=False)
    assert answer.status == 200, answer.body
    return stack.delivery_event([line for line in answer.stdout if MARKER in line], name)


def test_a_retried_label_delivery_leaves_the_newer_labels_visible():
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1")
        stack.clock.advance(600)
        frame = demo_frame(40, 61)
        predicted = stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(40))})
        ids = [p["request_id"] for p in predicted.body["predictions"]]
        labels = [{"request_id": i, "label": int(frame["label"][n])} for n, i in enumerate(ids)]

        first = _delivery(stack, labels[:20], "feedback-first")
        stack.invoke("capture", first)
        end = stack.clock().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        stack.run_drift(end)
        assert _received(stack, end) == 20

        stack.invoke("capture", _delivery(stack, labels[20:], "feedback-second"))
        stack.invoke("capture", first)  # S3 notifying the first object again: it is rewritten
        later = end + timedelta(hours=1)
        stack.run_drift(later)
        assert _received(stack, later) == 40, "the second delivery's labels are joined, not a stale rollup"
    finally:
        stack.stop()
