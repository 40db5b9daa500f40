"""Labels by the hour: a drift run reads one joined rollup per labelled hour and never lists or
reads the labels objects of an hour whose labels did not change; a label that arrives after its
hour was joined (days late) rewrites the hour's marker, so the next run joins the hour again and
every window counts it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)


def _labels(stack: LocalStack, end: datetime, window: str) -> dict[str, int]:
    (document,) = [
        json.loads(body)
        for key, body in stack.objects(layout.REPORTS.prefix).items()
        if key.endswith("drift.json") and f"/{window}/" in key and end.strftime("%Y-%m-%dT%H") in key
    ]
    return document["labels"] | {"new_labeled_rows": document["new_labeled_rows"]}


def test_a_label_days_late_is_counted_and_unchanged_hours_are_never_listed(monkeypatch):
    stack = LocalStack(ROOT / "monitoring.toml", clock=MovableClock(START))
    try:
        stack.publish_demo_model("v1")
        stack.clock.advance(600)
        frame = demo_frame(40, 61)
        predicted = stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(40))})
        ids = [p["request_id"] for p in predicted.body["predictions"]]
        items = [{"request_id": i, "label": int(frame["label"][n])} for n, i in enumerate(ids[:30])]
        assert stack.call("feedback", "POST", "/feedback", {"items": items}).status == 200
        end = stack.clock().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        stack.run_drift(end)
        assert _labels(stack, end, "7d") == {"received": 30, "unmatched": 0, "corrected": 0, "new_labeled_rows": 30}

        calls: list[tuple[str, str]] = []
        for operation in ("get_object", "list_objects_v2"):
            original = getattr(stack.s3, operation)

            def counting(original=original, operation=operation, **kwargs):
                calls.append((operation, kwargs.get("Key") or kwargs.get("Prefix", "")))
                return original(**kwargs)

            monkeypatch.setattr(stack.s3, operation, counting)
        stack.run_drift(end + timedelta(hours=1))
        touched = [key for _, key in calls if key.startswith(layout.LABELS.prefix + layout.hour_segment(""))]
        assert touched == [], "an hour whose labels did not change comes from its rollup"
        assert any(key.startswith(layout.LABELS_JOINED.prefix) for op, key in calls if op == "get_object")

        # Two days later the last ten labels arrive: after the hour settled and was joined.
        stack.clock.advance((layout.SETTLE_HOURS + 17) * 3600)
        late = [{"request_id": i, "label": int(frame["label"][30 + n])} for n, i in enumerate(ids[30:])]
        assert stack.call("feedback", "POST", "/feedback", {"items": late}).status == 200
        later = stack.clock().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        stack.run_drift(later)
        assert _labels(stack, later, "7d") == {"received": 40, "unmatched": 0, "corrected": 0, "new_labeled_rows": 40}
    finally:
        stack.stop()
