"""A sensitive feature's value never reaches a log line, a capture object, a derived object or
quarantine; a hashed categorical feature's drift is still found, and a stable one still passes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelwatch.catalog import layout
from modelwatch.demo.data import demo_frame, demo_records
from modelwatch_local.clock import MovableClock
from modelwatch_local.stack import LocalStack
from tests.conftest import ROOT

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
# An income no other number in a log line is likely to spell.
MARKED_INCOME = 12345.678


def _sensitive_spec(tmp_path: Path) -> Path:
    text = (ROOT / "monitoring.toml").read_text()
    text = text.replace(
        'categories = ["north", "south", "east", "west"]\n',
        'categories = ["north", "south", "east", "west"]\nsensitive = true\n',
        1,
    )
    text = text.replace(
        'description = "Yearly income"\n',
        'description = "Yearly income"\nsensitive = true\nsensitive_action = "drop"\n',
        1,
    )
    text += "\n[drift.multivariate]\npca_reconstruction = false\ndomain_classifier = false\n"
    spec = tmp_path / "monitoring.toml"
    spec.write_text(text)
    return spec


@pytest.fixture
def stack(tmp_path):
    local = LocalStack(_sensitive_spec(tmp_path), clock=MovableClock(START))
    try:
        local.publish_demo_model("v1")
        yield local
    finally:
        local.stop()


def _region_verdict(stack: LocalStack, end: datetime) -> dict:
    stack.run_drift(end)
    (document,) = [
        json.loads(body)
        for key, body in stack.objects(layout.REPORTS.prefix).items()
        if key.endswith("drift.json") and "/1h/" in key and end.strftime("%Y-%m-%dT%H") in key
    ]
    (region,) = [f for f in document["features"] if f["name"] == "region"]
    assert not any(f["name"] == "income" for f in document["features"])  # dropped: not judged
    return region


def test_sensitive_values_reach_no_log_line_capture_or_quarantine(stack):
    stack.clock.advance(600)
    records = demo_records(demo_frame(50, 51), range(50))
    for record in records:
        record["income"] = MARKED_INCOME
    printed = stack.call("predict", "POST", "/predict", {"instances": records}).stdout
    # Rejected (age may not be missing): the body holds both sensitive values.
    refused = stack.call("predict", "POST", "/predict", {"features": {**records[0], "age": None}})
    assert refused.status == 422
    printed += refused.stdout
    stack.flush_deliveries()
    stored = stack.objects("")  # every object of the data bucket: capture, quarantine, profiles, joins
    assert any(k.startswith(layout.CAPTURE.prefix) for k in stored)
    assert any(k.startswith(layout.QUARANTINE.prefix) for k in stored)
    regions = {f'"{r["region"]}"' for r in records}
    for where, text in [*((f"log: {line[:80]}", line) for line in printed), *stored.items()]:
        text = text.decode() if isinstance(text, bytes) else text
        assert str(MARKED_INCOME) not in text, where
        assert not any(region in text for region in regions), where
    captured = [
        json.loads(line)
        for k, b in stored.items()
        if k.startswith(layout.CAPTURE.prefix)
        for line in b.decode().splitlines()
    ]
    assert all(r["features"]["region"].startswith("hmac:") and "income" not in r["features"] for r in captured)


@pytest.mark.parametrize(("drift", "drifted"), [(1.0, True), (0.0, False)], ids=["shifted", "stable"])
def test_a_hashed_categorical_feature_still_shows_its_drift(stack, drift, drifted):
    stack.clock.advance(600)
    frame = demo_frame(400, 52, drift=drift)
    for first in range(0, 400, 100):
        stack.call("predict", "POST", "/predict", {"instances": demo_records(frame, range(first, first + 100))})
    end = stack.clock().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    stack.clock.advance((end - stack.clock()).total_seconds() + 60)
    region = _region_verdict(stack, end)
    assert region["status"] == "ok" and region["drifted"] is drifted


def test_retraining_with_a_sensitive_feature_trains_nothing_and_says_why(stack):
    """Captures hold pseudonyms (or nothing) of a sensitive feature: a challenger trained on them
    could not score raw requests, so the run stops at Prepare and its notice names the feature."""
    stack.clock.advance(600)
    stack.call("predict", "POST", "/predict", {"instances": demo_records(demo_frame(50, 53), range(50))})
    execution = stack.run_retraining("RetrainOnDrift", name="run-sensitive")
    assert execution.status == "SUCCEEDED" and "Train" not in execution.visited
    (notice,) = stack.alerts()
    prepared = notice["modelwatch_retraining"]["prepared"]
    assert "income" in prepared["reason"] and "region" in prepared["reason"]
    assert stack.registry.current_version() == "v1"
