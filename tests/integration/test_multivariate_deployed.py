"""Multivariate drift on the deployed path: captures profiled one object at a time, rolled up by
hour and merged into windows still carry the rows the PCA error and the domain classifier need,
so drift.json's `multivariate` entries are computed and their metrics reach CloudWatch."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from modelwatch.catalog import layout
from modelwatch.catalog.metrics import MULTIVARIATE_DRIFT_SCORE
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import spec_sending_every_drift_series

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def test_windows_merged_from_captures_get_multivariate_verdicts_and_metrics(tmp_path):
    stack = LocalStack(spec_sending_every_drift_series(tmp_path), clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1")
        stack.clock.advance(600)
        frame = demo_frame(1000, 61)
        for first in range(0, 1000, 100):
            stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(first, first + 100))})
        stack.clock.advance(3600)
        end = stack.clock().replace(minute=0, second=0, microsecond=0)
        invocation = stack.run_drift(end)
        (document,) = [
            json.loads(body)
            for key, body in stack.objects(layout.REPORTS.prefix).items()
            if key.endswith("drift.json") and "/1h/" in key
        ]
        methods = {m["method"]: m for m in document["multivariate"]}
        assert set(methods) == set(stack.platform.spec.multivariate_methods)
        assert all(m["current_rows"] > 0 and m["score"] is not None for m in methods.values()), methods
        emitted = {
            metric["Name"]
            for line in invocation.stdout
            if '"_aws"' in line
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]
            for metric in directive["Metrics"]
        }
        assert MULTIVARIATE_DRIFT_SCORE.name in emitted
    finally:
        stack.stop()
