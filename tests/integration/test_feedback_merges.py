"""Feedback that merges: a label and outcomes for one request id, sent separately, in either
order and retried, are all kept and counted once; a later label replaces an earlier one, and the
drift report says how many were corrected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from modelwatch.catalog import layout
from modelwatch.data_access.label_store import parse_labels
from modelwatch.demo.data import demo_frame, demo_records
from tests.integration.conftest import stack_with_spec

START = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)


def test_label_and_outcomes_sent_apart_are_both_kept_and_a_correction_is_counted(tmp_path):
    stack = stack_with_spec(tmp_path, START)
    try:
        stack.publish_demo_model("v1")
        stack.clock.advance(600)
        frame = demo_frame(3, 51)
        predicted = stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(3))})
        first, second, third = (p["request_id"] for p in predicted.body["predictions"])
        sends = [
            {"request_id": first, "label": 1},
            {"request_id": first, "outcomes": {"clicked": True, "revenue": 12.5}},  # then the outcomes
            {"request_id": first, "outcomes": {"clicked": True, "revenue": 12.5}},  # a retry
            {"request_id": second, "outcomes": {"clicked": False}},  # outcomes first
            {"request_id": second, "label": 0},
            {"request_id": third, "label": 1},
        ]
        for item in sends:
            stack.clock.advance(1)
            assert stack.call("feedback", "POST", "/feedback", item).status == 200
        stack.clock.advance(1)
        assert stack.call("feedback", "POST", "/feedback", {"request_id": third, "label": 0}).status == 200

        stack.flush_deliveries()
        stored = [
            piece
            for key, body in stack.objects(layout.LABELS.prefix).items()
            if not key.startswith(layout.LABELS_CHANGED_BASE)
            for piece in parse_labels(body)
        ]
        assert len(stored) == len(sends) + 1  # every piece kept, the retry too: the merge counts it once
        end = stack.clock() + timedelta(hours=1)
        stack.run_drift(end.replace(minute=0, second=0, microsecond=0))
        (report,) = [
            json.loads(body)
            for key, body in stack.objects(layout.REPORTS.prefix).items()
            if key.endswith("drift.json") and "/1d/" in key
        ]
        assert report["labels"] == {"received": 3, "unmatched": 0, "corrected": 1}
        assert report["kpis"]["ClickThroughRate"] == 0.5  # first clicked, second did not: both outcomes kept
    finally:
        stack.stop()
