"""Late captures are counted: a capture object of an hour whose rollup the drift check already
trusts (delivered after every retry window, e.g. a redriven dead letter) marks the hour, and the
next run lists it again, so the 1d and 7d windows count its rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch.serving.capture import capture_record, log_lines
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)


def _rows(stack: LocalStack, end: datetime, window: str) -> int:
    (document,) = [
        json.loads(body)
        for key, body in stack.objects(layout.REPORTS.prefix).items()
        if key.endswith("drift.json") and f"/{window}/" in key and end.strftime("%Y-%m-%dT%H") in key
    ]
    return int(document["current_rows"])


def test_a_capture_object_delivered_after_its_hour_settled_reaches_every_window():
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1")
        stack.clock.advance(600)
        frame = demo_frame(300, 41)
        for first in (0, 100, 200):
            stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(first, first + 100))})
        hour = layout.hour_of(stack.clock())
        stack.clock.advance((layout.SETTLE_HOURS + 3) * 3600)
        end = stack.clock().replace(minute=0, second=0, microsecond=0)
        stack.run_drift(end)
        assert _rows(stack, end, "7d") == 300  # the hour is rolled up and settled now

        # 50 more records of that hour arrive now (a redriven batch): profiled, and the hour marked.
        late = [
            capture_record(
                f"{i:032x}", layout.hour_start(hour) + timedelta(minutes=20), "v1", record, "1", {"1": 0.7, "0": 0.3}
            )
            for i, record in enumerate(demo_records(demo_frame(50, 42), range(50)))
        ]
        stack.deliver_capture("predict", list(log_lines("capture", late)))
        assert layout.late_capture_marker("v1", hour) in stack.objects(layout.PROFILES_HOURLY.prefix, bodies=False)

        later = end + timedelta(hours=1)
        stack.run_drift(later)
        assert _rows(stack, later, "7d") == 350
    finally:
        stack.stop()
